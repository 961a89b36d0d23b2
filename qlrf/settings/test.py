"""Test profile: like development, with fast hashing and django-q2 running tasks synchronously."""

import os

from qlrf.conf import env_bool, env_str

from .base import *  # noqa: F403
from .base import Q_CLUSTER

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", "test-only-insecure-key-0000000000000000000000000000000000000")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}

# Parallel test workers share one Redis: keep their cache keys apart.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CACHES["default"]["KEY_PREFIX"] = f"qlrf-test-{_worker}"  # noqa: F405

# Load protection (ADR 015) counts across tests in one process otherwise; its own tests switch it on.
QLRF_RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", False)
AXES_ENABLED = env_bool("LOGIN_LOCKOUT_ENABLED", False)  # as above: its own tests switch it on
QLRF_BREAKERS_ENABLED = env_bool("BREAKERS_ENABLED", False)  # breaker state would carry over between tests too
