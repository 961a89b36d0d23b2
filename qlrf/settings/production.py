"""Production profile: secrets required from the environment, HTTPS-only cookies, HSTS. Passes ``check --deploy``."""

from qlrf.conf import env_bool, env_int, env_list, env_required

from .base import *  # noqa: F403
from .base import LOGGING, log_format_from_env

DEBUG = False
SECRET_KEY = env_required("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("QLRF_ALLOWED_HOSTS must list the host names the portal is served under")

QLRF_API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)  # the schema and Swagger UI need a login here

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# JSON log lines with the request id (qlrf.log) unless QLRF_LOG_FORMAT says plain.
LOG_FORMAT = log_format_from_env("json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
