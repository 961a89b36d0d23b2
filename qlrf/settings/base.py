"""Settings shared by every profile. Values that vary come from ``QLRF_*`` variables via ``qlrf.conf``."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from qlrf.conf import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_q",
    "import_export",
    "axes",  # login lockout (ADR 015)
    "csp",  # Content-Security-Policy (django-csp)
    "apps.tenancy",
    "apps.events",
    "apps.images",
    "apps.compliance",
    "apps.evidence",
    "apps.inventory",
    "apps.drift",
    "apps.resilience",
    "apps.insights",
]

MIDDLEWARE = [
    "qlrf.middleware.RequestContextMiddleware",  # the request id: first, so every log line of a request carries it
    "qlrf.middleware.ApiTrailingSlashMiddleware",  # /api/v1/assets/ is /api/v1/assets (before routes are timed)
    "qlrf.metrics.MetricsMiddleware",  # metrics and error budget (ADR 015): it times and counts everything
    "qlrf.request_budget.RequestBudgetMiddleware",  # every request's database time bounded (503 past the budget)
    "qlrf.db_router.ReplicaReadMiddleware",  # safe requests may read lag-tolerant data from a replica (when one is set)
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below)
    "qlrf.api.body_guard.JsonBodyGuardMiddleware",  # every /api/ JSON body bounded and well-formed (ADR 016)
    "axes.middleware.AxesMiddleware",  # login lockout (ADR 015): answers a locked-out login; keep it last
]

ROOT_URLCONF = "qlrf.urls"
WSGI_APPLICATION = "qlrf.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.tenancy.context_processors.tenancy",
                "apps.tenancy.context_processors.failed_tasks",
            ],
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'qlrf.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: the web server and the task cluster write the same file. WAL lets readers go on while one
    # writes; a writer waits up to 20 s for the lock instead of failing "database is locked"; IMMEDIATE takes the
    # write lock when a transaction begins, so two writers queue instead of deadlocking on a read-to-write upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
# An optional read replica (qlrf/db_router.py, issue #17): safe portal/API requests read what users see from it; who
# may see it, every write, tasks and commands stay on the primary. A request that wrote reads the primary for
# QLRF_DATABASE_REPLICA_STICKY_SECONDS more (a cookie), so a user reads their own writes.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
QLRF_DATABASE_REPLICA_STICKY_SECONDS = env_int("DATABASE_REPLICA_STICKY_SECONDS", 10)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["replica"]["OPTIONS"] = {"timeout": 20}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests: the replica is the primary itself
    DATABASE_ROUTERS = ["qlrf.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "qlrf",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "qlrf"}}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # login lockout (ADR 015): must come first
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user object; anonymous requests see nothing

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Stored originals, reports and evidence packs: the local MEDIA_ROOT on the embedded default; S3 (or an S3-compatible
# store: MinIO, Ceph, R2) when QLRF_STORAGE_S3_BUCKET is set, so every web and worker pod sees the same files.
QLRF_STORAGE_S3_BUCKET = env_str("STORAGE_S3_BUCKET", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if QLRF_STORAGE_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": QLRF_STORAGE_S3_BUCKET,
            "location": env_str("STORAGE_S3_PREFIX", ""),  # a key prefix inside the bucket
            "region_name": env_str("STORAGE_S3_REGION", "") or None,
            "endpoint_url": env_str("STORAGE_S3_ENDPOINT_URL", "") or None,
            "default_acl": None,  # the bucket's own policy; nothing is public
            "querystring_auth": True,
            "file_overwrite": True,  # names are content-addressed: the same name is the same bytes
            "object_parameters": {"ServerSideEncryption": "AES256"},
        },
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.tenancy.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [  # every body bounded (ADR 016)
        "qlrf.api.parsers.BoundedJSONParser",
        "qlrf.api.parsers.BoundedFormParser",
        "qlrf.api.parsers.BoundedMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "qlrf.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "qlrf.api.schema.ErrorAwareAutoSchema",
    "EXCEPTION_HANDLER": "qlrf.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["qlrf.api.throttling.TenantRateThrottle"],  # load protection, ADR 015
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Content-Security-Policy (django-csp) on the portal, the admin and the API docs: scripts, styles, fonts and images
# from this origin only — no inline script anywhere (the Swagger UI is served as split files for that reason).
# Inline *style attributes* stay allowed: Django's admin and the Swagger UI set them from their own scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Resilience Fabric API",
    "DESCRIPTION": "Golden image registry, fleet inventory, drift and supply-chain evidence.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "apps.tenancy.choices.RoleChoices",
        "ImageVersionStatusEnum": "apps.images.choices.ImageVersionStatusChoices",
        "ScanStatusEnum": "apps.inventory.choices.ScanStatusChoices",
        "UploadStatusEnum": "apps.compliance.choices.UploadStatusChoices",
        "ImagePlatformEnum": "apps.tenancy.choices.PlatformChoices",
        "ConnectorPlatformEnum": "apps.inventory.choices.ConnectorPlatformChoices",
        "DrillRunStatusEnum": "apps.resilience.choices.DrillRunStatusChoices",
        "DrillRunTriggerEnum": "apps.resilience.choices.DrillRunTriggerChoices",
        "DrillStepStatusEnum": "apps.resilience.choices.DrillStepStatusChoices",
    },
}

Q_CLUSTER = {
    "name": "qlrf",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 600),
    "retry": env_int("Q_TIMEOUT", 600) + 60,
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

QLRF_TOKEN_DEFAULT_DAYS = env_int("TOKEN_DEFAULT_DAYS", 90)
QLRF_DRIFT_RETENTION_DAYS = env_int("DRIFT_RETENTION_DAYS", 396)
# Tasks queued (by name, with organisation id and scan run id) after every scan that refreshed data.
QLRF_AFTER_SCAN_TASKS = [
    "apps.drift.tasks.drift_after_scan_task",
    "apps.compliance.tasks.signature_recheck_after_scan_task",
]
# How work committed by a request runs (qlrf/taskqueue.py, ADR 010): auto (queued when a django-q2 cluster heartbeat
# is seen, in-process otherwise), inline, or queue.
QLRF_TASK_MODE = env_str("TASK_MODE", "auto") or "auto"
if QLRF_TASK_MODE not in ("auto", "inline", "queue"):
    raise ImproperlyConfigured(f"QLRF_TASK_MODE must be auto, inline or queue, got {QLRF_TASK_MODE!r}")
# The scan removal guard (ADR 009): a scope that would lose more than this share of its live assets, or all of them
# when it had more than MIN_ASSETS, is marked suspect and removes nothing until an engineer confirms.
QLRF_SCAN_REMOVAL_GUARD_PCT = env_int("SCAN_REMOVAL_GUARD_PCT", 50)
QLRF_SCAN_REMOVAL_GUARD_MIN_ASSETS = env_int("SCAN_REMOVAL_GUARD_MIN_ASSETS", 3)
QLRF_GIT_COMMIT = env_str("GIT_COMMIT", "")
# /api/schema/ and /api/docs/ open to anonymous callers (development); production defaults to behind login.
QLRF_API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", True)
# A request's time budget: queries past it are refused or cancelled, the answer is 503 time_budget_exceeded. Keep it
# below gunicorn's --timeout (GUNICORN_TIMEOUT, 60 s in the image) so no worker is ever killed mid-request; 0 = off.
QLRF_REQUEST_TIME_BUDGET_SECONDS = env_int("REQUEST_TIME_BUDGET_SECONDS", 30)
QLRF_UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 64 * 1024 * 1024)
# Larger documents (and any sent with "Prefer: respond-async") are parsed by an upload job, answered 202 (ADR 019)
QLRF_UPLOAD_SYNC_MAX_BYTES = env_int("UPLOAD_SYNC_MAX_BYTES", 4 * 1024 * 1024)
# An upload job still queued/running after this long lost its runner and is run again (compliance-upload-jobs-resume)
QLRF_UPLOAD_JOB_STALE_MINUTES = env_int("UPLOAD_JOB_STALE_MINUTES", 30)
# Bounded request bodies (ADR 016): JSON bodies, their nesting, form fields held in memory, multipart uploads.
QLRF_API_JSON_MAX_BYTES = env_int("API_JSON_MAX_BYTES", 1024 * 1024)
QLRF_API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 64)
# Stored originals no row names are deleted by the hourly sweep once older than this (ADR 016).
QLRF_UPLOAD_SWEEP_GRACE_MINUTES = env_int("UPLOAD_SWEEP_GRACE_MINUTES", 24 * 60)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # form fields (admin, login): Django's default, stated
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads go to a temporary file, never to memory
FILE_UPLOAD_HANDLERS = [
    "qlrf.api.parsers.UploadLimitHandler",  # first: stops a multipart body over QLRF_UPLOAD_MAX_BYTES with 413
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
QLRF_EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 512 * 1024 * 1024)
QLRF_REPORT_FROM_EMAIL = env_str("REPORT_FROM_EMAIL", "reports@localhost")
# The production (public-good) Sigstore trusted root shipped with the project; replace it out of band on rotation.
QLRF_SIGSTORE_TRUSTED_ROOT = env_str(
    "SIGSTORE_TRUSTED_ROOT",
    str(BASE_DIR / "fixtures" / "external" / "sigstore" / "trusted_root.sigstore-public-good.json"),
)

# The event bus (apps/events, docs/events.md): where the relay publishes, and how webhooks and the consumer behave.
QLRF_EVENTS_TRANSPORT = env_str("EVENTS_TRANSPORT", "redis" if REDIS_URL else "none")
QLRF_EVENTS_BATCH_SIZE = env_int("EVENTS_BATCH_SIZE", 5000)
QLRF_EVENTS_POLL_SECONDS = env_int("EVENTS_POLL_SECONDS", 1)
QLRF_EVENTS_RETENTION_DAYS = env_int("EVENTS_RETENTION_DAYS", 400)
QLRF_EVENTS_REDIS_STREAM = env_str("EVENTS_REDIS_STREAM", "qlrf:events")
QLRF_EVENTS_REDIS_MAXLEN = env_int("EVENTS_REDIS_MAXLEN", 1_000_000)
QLRF_EVENTS_INBOUND_STREAM = env_str("EVENTS_INBOUND_STREAM", "qlrf:inbound")
QLRF_EVENTS_INBOUND_MAX_ATTEMPTS = env_int("EVENTS_INBOUND_MAX_ATTEMPTS", 5)
QLRF_EVENTS_KAFKA_BOOTSTRAP = env_str("EVENTS_KAFKA_BOOTSTRAP", "localhost:9092")
QLRF_EVENTS_KAFKA_CONFIG = dict(item.split("=", 1) for item in env_list("EVENTS_KAFKA_CONFIG") if "=" in item)
QLRF_EVENTS_KAFKA_TOPIC_PREFIX = env_str("EVENTS_KAFKA_TOPIC_PREFIX", "qlrf.")
QLRF_EVENTS_KAFKA_PARTITIONS = env_int("EVENTS_KAFKA_PARTITIONS", 6)
QLRF_EVENTS_KAFKA_FLUSH_SECONDS = env_int("EVENTS_KAFKA_FLUSH_SECONDS", 30)
QLRF_EVENTS_KAFKA_LAG_GROUPS = env_list("EVENTS_KAFKA_LAG_GROUPS", [])
QLRF_EVENTS_RETRY_MAX_SECONDS = env_int("EVENTS_RETRY_MAX_SECONDS", 30)
QLRF_EVENTS_HEARTBEAT_DIR = env_str("EVENTS_HEARTBEAT_DIR", str(VAR_DIR / "run"))
QLRF_WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
QLRF_WEBHOOK_BACKOFF_SECONDS = env_int("WEBHOOK_BACKOFF_SECONDS", 30)
QLRF_WEBHOOK_MAX_FAILURES = env_int("WEBHOOK_MAX_FAILURES", 10)
QLRF_WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)

# Load protection (ADR 015): API rate limits per organisation and per caller, by endpoint class. A rate is what the
# `limits` library parses ("600/minute", several joined by ";"); organisations may override them in the admin.
QLRF_RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
QLRF_RATE_LIMIT_STORAGE = env_str("RATE_LIMIT_STORAGE") or REDIS_URL or "memory://"
QLRF_RATE_LIMIT_STRATEGY = env_str("RATE_LIMIT_STRATEGY", "sliding-window-counter")
QLRF_RATE_LIMITS = {
    "reads": {
        "organization": env_str("RATE_LIMIT_READS", "3000/minute"),
        "principal": env_str("RATE_LIMIT_READS_PRINCIPAL", "1200/minute"),
    },
    "writes": {
        "organization": env_str("RATE_LIMIT_WRITES", "600/minute"),
        "principal": env_str("RATE_LIMIT_WRITES_PRINCIPAL", "300/minute"),
    },
    "uploads": {
        "organization": env_str("RATE_LIMIT_UPLOADS", "120/minute"),
        "principal": env_str("RATE_LIMIT_UPLOADS_PRINCIPAL", "60/minute"),
    },
    "gate": {
        "organization": env_str("RATE_LIMIT_GATE", "1200/minute"),
        "principal": env_str("RATE_LIMIT_GATE_PRINCIPAL", "600/minute"),
    },
}
# Login lockout (ADR 015, django-axes): after this many failed logins a username, and separately an address, is locked
# until an admin deletes its access attempt (Admin → Axes → Access attempts) or `manage.py axes_reset` runs.
AXES_ENABLED = env_bool("LOGIN_LOCKOUT_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = None
AXES_RESET_ON_SUCCESS = True
# Failed bearer tokens per client address before that address's API requests are refused (429 too_many_failures).
QLRF_BAD_TOKEN_LIMIT = env_str("BAD_TOKEN_LIMIT", "20/10 minutes")
# Metrics and the error budget (ADR 015): /metrics needs this bearer token when set; the availability objective
# (non-5xx share of answers) over a rolling window, counted per day in the Django cache.
QLRF_METRICS_TOKEN = env_str("METRICS_TOKEN", "")
QLRF_SLO_AVAILABILITY = float(env_str("SLO_AVAILABILITY", "0.995"))
QLRF_SLO_WINDOW_DAYS = env_int("SLO_WINDOW_DAYS", 30)
# Circuit breakers per connector scope (ADR 015): consecutive failed scans that open a scope's breaker, and the
# seconds it stays open before one trial scan.
QLRF_BREAKERS_ENABLED = env_bool("BREAKERS_ENABLED", True)
QLRF_BREAKER_FAIL_MAX = env_int("BREAKER_FAIL_MAX", 3)
QLRF_BREAKER_RESET_SECONDS = env_int("BREAKER_RESET_SECONDS", 300)
# Insight engine model calls (ADR 023): timeout and retries per call, and the breaker per organisation and provider.
QLRF_INSIGHTS_TIMEOUT_SECONDS = env_int("INSIGHTS_TIMEOUT_SECONDS", 20)
QLRF_INSIGHTS_RETRIES = env_int("INSIGHTS_RETRIES", 2)
QLRF_INSIGHTS_BREAKER_FAIL_MAX = env_int("INSIGHTS_BREAKER_FAIL_MAX", 3)
QLRF_INSIGHTS_BREAKER_RESET_SECONDS = env_int("INSIGHTS_BREAKER_RESET_SECONDS", 300)
QLRF_INSIGHTS_RETENTION_DAYS = env_int("INSIGHTS_RETENTION_DAYS", 90)
# Image discovery (ADR 025): scans create a Site for each region/datacenter they report that has none.
QLRF_SITES_FROM_SCANS = env_bool("SITES_FROM_SCANS", True)
# A queued or scheduled scan is split into one task per connector scope, run by every worker at once (docs/scaling.md)
QLRF_SCAN_FAN_OUT = env_bool("SCAN_FAN_OUT", True)
# A claimed scope whose worker shows no life for this long is queued again (PostgreSQL: a live worker's row lock
# keeps it; SQLite: never less than the task timeout + 60 s), up to MAX_ATTEMPTS claims, then it fails (scan partial).
QLRF_SCAN_SCOPE_LEASE_SECONDS = env_int("SCAN_SCOPE_LEASE_SECONDS", 120)
QLRF_SCAN_SCOPE_MAX_ATTEMPTS = env_int("SCAN_SCOPE_MAX_ATTEMPTS", 3)


# Console logs, every record with the request id (qlrf.log): `plain` text here, `json` lines in production.
def log_format_from_env(default: str) -> str:
    """QLRF_LOG_FORMAT (``plain`` or ``json``), or ``default``."""
    value = env_str("LOG_FORMAT", default) or default
    if value not in ("plain", "json"):
        raise ImproperlyConfigured(f"QLRF_LOG_FORMAT must be plain or json, got {value!r}")
    return value


LOG_FORMAT = log_format_from_env("plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "qlrf.log.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "qlrf.log.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},  # django-axes logs its banner and every attempt at INFO
}

# DR drills (ADR 022): how often a drill polls the platform while waiting, and the module prefixes whose functions a
# drill definition may name as custom health checks (empty: custom checks are refused).
QLRF_DRILL_POLL_SECONDS = float(env_str("DRILL_POLL_SECONDS", "5"))
QLRF_DRILL_CUSTOM_CHECKS = env_list("DRILL_CUSTOM_CHECKS", [])
