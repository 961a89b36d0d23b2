"""gunicorn settings, loaded by deploy/docker/entrypoint.sh (``--config python:qlrf.gunicorn_conf``).

In the JSON log format (the production default, ``QLRF_LOG_FORMAT``) gunicorn's own lines — start-up, worker errors
and the access log — are JSON lines like the application's, the access line with the request id (qlrf.log).
"""

import os

from django.conf import settings

from qlrf.log import gunicorn_logconfig

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qlrf.settings.production")  # as qlrf/wsgi.py
logconfig_dict = gunicorn_logconfig(settings.LOG_FORMAT)
