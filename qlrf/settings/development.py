"""Development profile: the embedded defaults (SQLite, django-q2 ORM broker, local-memory cache), DEBUG on."""

from qlrf.conf import env_bool, env_str

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# A fixed, clearly non-production key is acceptable only in this profile; production requires QLRF_SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY", "development-only-insecure-key-do-not-use-in-production-000000")
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
