"""Generation caches (ADR 015): every write bumps its organisation's generation, reads key on it, 304s read no fleet."""

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.images.services import channel_promote, image_version_revoke
from apps.inventory.services import scan_run_now
from apps.tenancy.models import Membership
from apps.tenancy.services.memberships import membership_remove
from apps.tenancy.services.organizations import environment_create
from qlrf.cache_generation import generation, generation_bump
from tests.conftest import client_for
from tests.drift import test_api

pytestmark = pytest.mark.django_db
fleet = test_api.fleet  # the same 20-machine fleet

FLEET_TABLES = ('"inventory_', '"drift_', '"images_')


def test_every_kind_of_write_moves_the_generation_and_the_next_read_reflects_it(tenant_a, tenant_b, fleet, envs):
    client = client_for(tenant_a.users["viewer"])
    first = client.get(reverse("drift-report")).json()
    other = generation(tenant_b.organization)

    before = generation(tenant_a.organization)
    channel_promote(actor=None, version=fleet["v2"], environment=envs["prod"], grace_days=0)
    assert generation(tenant_a.organization) > before
    promoted = client.get(reverse("drift-report")).json()
    assert (first["total"]["outdated_count"], promoted["total"]["outdated_count"]) == (0, 20)

    before = generation(tenant_a.organization)
    image_version_revoke(actor=None, version=fleet["v1"], reason="CVE")
    assert generation(tenant_a.organization) > before
    assert client.get(reverse("drift-report")).json() != promoted

    before = generation(tenant_a.organization)
    scan_run_now(actor=None, connector=fleet["connector"], trigger="cli")
    assert generation(tenant_a.organization) > before

    before = generation(tenant_a.organization)
    environment_create(actor=None, organization=tenant_a.organization, name="QA", slug="qa", tier="dev")
    assert generation(tenant_a.organization) > before

    before = generation(tenant_a.organization)
    membership = Membership.objects.filter(organization=tenant_a.organization, user=tenant_a.users["viewer"]).first()
    membership_remove(actor=tenant_a.users["admin"], membership=membership)
    assert generation(tenant_a.organization) > before

    assert generation(tenant_b.organization) == other  # the other organisation's caches are untouched


def test_a_rolled_back_write_leaves_no_stale_entry(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        before = generation(tenant_a.organization)
        generation_bump(tenant_a.organization)
        during = generation(tenant_a.organization)
    assert before < during < generation(tenant_a.organization)  # bumped at once and again on commit


def test_304_on_an_unchanged_report_reads_no_fleet_table(tenant_a, fleet, envs):
    client = client_for(tenant_a.users["viewer"])
    first = client.get(reverse("drift-report"))
    tag = first["ETag"]
    assert tag.startswith('"report-')
    with CaptureQueriesContext(connection) as queries:
        again = client.get(reverse("drift-report"), HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again["ETag"] == tag
    fleet_sql = [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in FLEET_TABLES)]
    assert fleet_sql == []

    channel_promote(actor=None, version=fleet["v2"], environment=envs["prod"], grace_days=0)
    changed = client.get(reverse("drift-report"), HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag
    assert changed.json()["total"]["outdated_count"] == 20


def test_trend_etag_follows_the_generation(tenant_a, fleet, envs):
    client = client_for(tenant_a.users["viewer"])
    tag = client.get(reverse("drift-trend"))["ETag"]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("drift-trend"), HTTP_IF_NONE_MATCH=tag).status_code == 304
    assert not [q for q in queries.captured_queries if any(t in q["sql"] for t in FLEET_TABLES)]
    assert client.get(reverse("drift-trend"), {"env": "prod"}, HTTP_IF_NONE_MATCH=tag).status_code == 200
    channel_promote(actor=None, version=fleet["v2"], environment=envs["prod"], grace_days=0)
    assert client.get(reverse("drift-trend"), HTTP_IF_NONE_MATCH=tag).status_code == 200


READER = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from qlrf.cache_generation import generation
    for line in sys.stdin:
        print(generation(int(line)), flush=True)
    """
)


@pytest.mark.skipif("redis" not in settings.CACHES["default"]["BACKEND"].lower(), reason="needs a shared Redis")
def test_another_process_sharing_redis_sees_the_write(tenant_a, fleet, envs, django_capture_on_commit_callbacks):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "qlrf.settings.test"}
    env.setdefault("PYTEST_XDIST_WORKER", "main")  # the same cache key prefix as this process
    reader = subprocess.Popen(
        [sys.executable, "-c", READER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    try:

        def read() -> int:
            reader.stdin.write(f"{tenant_a.organization.pk}\n")
            reader.stdin.flush()
            return int(reader.stdout.readline())

        seen = read()
        assert seen == generation(tenant_a.organization)
        with django_capture_on_commit_callbacks(execute=True):
            channel_promote(actor=None, version=fleet["v2"], environment=envs["prod"], grace_days=0)
        assert read() > seen
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
