"""A second process for the load-protection tests: its own in-memory database, the same Redis as the test process.

Reads ``{"fixture": <serialized rows>, "token": <raw>, "path": ..., "count": n}`` on stdin, rebuilds the token's
rows, makes ``count`` API requests with the Django test client and prints each answer's status and rate-limit headers.
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qlrf.settings.test")

import django

django.setup()

from django.apps import apps  # noqa: E402
from django.core import serializers  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

TABLES = [
    "contenttypes.ContentType",
    "auth.Permission",
    "auth.Group",
    "auth.User",
    "tenancy.Organization",
    "tenancy.ApiToken",
    "tenancy.RateLimitPolicy",
]


def main() -> None:
    job = json.load(sys.stdin)
    with connection.schema_editor() as editor:
        for label in TABLES:
            editor.create_model(apps.get_model(label))
    for obj in serializers.deserialize("json", job["fixture"]):
        obj.save()
    client = APIClient()
    answers = []
    for _ in range(job["count"]):
        response = client.get(job["path"], HTTP_AUTHORIZATION=f"Bearer {job['token']}")
        answers.append({"status": response.status_code, "ratelimit": response.headers.get("RateLimit")})
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
