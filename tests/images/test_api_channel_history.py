"""Importing a channel's past promotions (API and admin CSV): validated, all or nothing, audited, Engineer+ only."""

from __future__ import annotations

import datetime

import pytest
import tablib
from django.urls import reverse
from django.utils import timezone

from apps.images.models import Channel, ChannelAssignment
from apps.images.resources import ChannelAssignmentResource
from apps.images.services import channel_promote, image_version_register
from apps.inventory.models import Asset
from apps.tenancy.models import AuditEvent
from tests.conftest import client_for
from tests.factories import EnvironmentFactory
from tests.factories.images import UBUNTU, register

pytestmark = pytest.mark.django_db
URL = "/api/v1/channels/import-history"


def _days_ago(days: int) -> str:
    return (timezone.now() - datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def alpha(tenant_a):
    prod = EnvironmentFactory(organization=tenant_a.organization, slug="prod")
    versions = {v: register(tenant_a, UBUNTU, v) for v in ("1.0.0", "1.1.0", "1.2.0")}
    return prod, versions


def _body(*promotions, **extra):
    return {"family": "ubuntu-2204-base", "environment": "prod", "promotions": list(promotions), **extra}


def test_past_promotions_make_drift_age_true_from_day_one(tenant_a, alpha):
    prod, versions = alpha
    now = timezone.now()
    Asset.objects.create(
        organization=tenant_a.organization,
        platform="aws",
        account="1",
        instance_id="i-old",
        environment=prod,
        image_version=versions["1.0.0"],
        fingerprint="x",
        first_seen=now - datetime.timedelta(days=200),
        last_seen=now,
    )
    body = _body(
        {"version": "1.0.0", "promoted_at": _days_ago(180)},
        {"version": "1.1.0", "promoted_at": _days_ago(90), "grace_days": 14},
        {"version": "1.2.0", "promoted_at": _days_ago(30), "grace_days": 7},
    )

    response = client_for(tenant_a.users["engineer"]).post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    assert [(r["from_version"], r["to_version"], r["imported"]) for r in response.json()] == [
        (None, "ubuntu-2204-base@1.0.0", True),
        ("ubuntu-2204-base@1.0.0", "ubuntu-2204-base@1.1.0", True),
        ("ubuntu-2204-base@1.1.0", "ubuntu-2204-base@1.2.0", True),
    ]
    channel = Channel.objects.get(environment=prod)
    assert channel.version_id == versions["1.2.0"].pk
    assert AuditEvent.objects.filter(action="images.channel.import", actor=tenant_a.users["engineer"]).count() == 3
    machine = client_for(tenant_a.users["viewer"]).get(reverse("asset-list")).json()["results"][0]
    assert machine["drift_status"] == "outdated"
    assert machine["days_behind"] == 90 - 14  # behind since the grace after 1.1.0's promotion ended, not "today"
    assert machine["baseline"] == "ubuntu-2204-base@1.2.0"


@pytest.mark.parametrize(
    ("promotions", "path", "code"),
    [
        ([{"version": "1.0.0", "promoted_at": _days_ago(-2)}], "/promotions/0/promoted_at", "future"),
        (
            [{"version": "1.1.0", "promoted_at": _days_ago(10)}, {"version": "1.0.0", "promoted_at": _days_ago(20)}],
            "/promotions/1/promoted_at",
            "out_of_order",
        ),
        ([{"version": "9.9.9", "promoted_at": _days_ago(10)}], "/promotions/0/version", "unknown_version"),
        ([{"version": "1.0.0", "promoted_at": "2026-01-01T00:00:00"}], "/promotions/0/promoted_at", "invalid"),
        ([{"version": "1.0.0", "promoted_at": "last tuesday"}], "/promotions/0/promoted_at", "invalid"),
        (
            [{"version": "1.0.0", "promoted_at": _days_ago(20)}, {"version": "1.0.0", "promoted_at": _days_ago(10)}],
            "/promotions/1/version",
            "unchanged",
        ),
    ],
)
def test_a_bad_promotion_rejects_the_whole_import(tenant_a, alpha, promotions, path, code):
    before = ChannelAssignment.objects.count(), AuditEvent.objects.count()
    response = client_for(tenant_a.users["admin"]).post(URL, _body(*promotions), format="json")

    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "invalid_history"
    assert response.json()["errors"][0]["path"] == path
    assert response.json()["errors"][0]["code"] == code
    assert (ChannelAssignment.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    "body",
    [
        {"family": "ubuntu-2204-base", "environment": "prod", "promotions": []},
        {"family": "ubuntu-2204-base", "environment": "prod", "promotions": "1.0.0"},
        {"family": "ubuntu-2204-base", "environment": "prod", "promotions": [{"version": {"a": 1}}]},
        {"family": "ubuntu-2204-base", "environment": "prod", "promotions": [{"version": "1.0.0", "grace_days": -1}]},
        {"family": "ubuntu-2204-base", "promotions": [{"version": "1.0.0", "promoted_at": _days_ago(3)}]},
        {"family": "nope", "environment": "prod", "promotions": [{"version": "1.0.0", "promoted_at": _days_ago(3)}]},
        {"family": "ubuntu-2204-base", "environment": "x", "promotions": [{"version": "1", "promoted_at": "2020"}]},
    ],
)
def test_wrong_bodies_are_refused_and_write_nothing(tenant_a, alpha, body):
    response = client_for(tenant_a.users["engineer"]).post(URL, body, format="json")

    assert response.status_code in (400, 422), response.json()
    assert "code" in response.json()
    assert not ChannelAssignment.objects.exists()


def test_a_draft_version_was_never_promoted(tenant_a, alpha):
    image_version_register(actor=None, organization=tenant_a.organization, contract=UBUNTU, version="2.0.0")

    body = _body({"version": "2.0.0", "promoted_at": _days_ago(5)})
    response = client_for(tenant_a.users["engineer"]).post(URL, body, format="json")

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "draft"


def test_history_must_be_older_than_promotions_made_here(tenant_a, alpha):
    prod, versions = alpha
    channel_promote(actor=None, version=versions["1.2.0"], environment=prod)

    too_new = client_for(tenant_a.users["engineer"]).post(
        URL, _body({"version": "1.1.0", "promoted_at": _days_ago(0)}), format="json"
    )
    older = client_for(tenant_a.users["engineer"]).post(
        URL, _body({"version": "1.1.0", "promoted_at": _days_ago(40)}), format="json"
    )

    assert too_new.status_code == 422 and too_new.json()["errors"][0]["code"] == "out_of_order"
    assert older.status_code == 201
    assert Channel.objects.get(environment=prod).version_id == versions["1.2.0"].pk  # the live promotion stays


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_below_engineer_may_not_import(tenant_a, alpha, role):
    body = _body({"version": "1.0.0", "promoted_at": _days_ago(5)})
    response = client_for(tenant_a.users[role]).post(URL, body, format="json")

    assert response.status_code == 403
    assert not ChannelAssignment.objects.exists()


def test_another_tenants_family_and_environment_are_not_found(tenant_a, tenant_b, alpha):
    body = _body({"version": "1.0.0", "promoted_at": _days_ago(5)}, organization=tenant_a.organization.slug)
    response = client_for(tenant_b.users["admin"]).post(URL, body, format="json")

    assert response.status_code == 400
    assert not ChannelAssignment.objects.exists()


def test_admin_csv_import_writes_through_the_service_and_a_bad_row_rolls_back_all(tenant_a, alpha):
    dataset = tablib.Dataset(headers=["family", "environment", "version", "promoted_at", "grace_days"])
    dataset.append(["ubuntu-2204-base", "prod", "1.0.0", _days_ago(100), ""])
    dataset.append(["ubuntu-2204-base", "prod", "1.1.0", _days_ago(50), "7"])
    dataset.append(["ubuntu-2204-base", "prod", "1.2.0", _days_ago(-1), "7"])  # in the future

    bad = ChannelAssignmentResource(user=tenant_a.users["engineer"]).import_data(dataset, dry_run=False)

    assert bad.has_validation_errors() or bad.has_errors()
    assert not ChannelAssignment.objects.exists()
    del dataset[2]
    good = ChannelAssignmentResource(user=tenant_a.users["engineer"]).import_data(dataset, dry_run=False)
    assert not good.has_errors() and not good.has_validation_errors()
    assert list(ChannelAssignment.objects.order_by("assigned_at").values_list("to_version__version", "imported")) == [
        ("1.0.0", True),
        ("1.1.0", True),
    ]
    exported = ChannelAssignmentResource(user=tenant_a.users["viewer"]).export()
    assert exported.headers == ["family", "environment", "version", "promoted_at", "grace_days"]
    assert [row[2] for row in exported] == ["1.0.0", "1.1.0"] and exported[1][4] == 7


def test_a_viewer_csv_import_is_refused(tenant_a, alpha):
    dataset = tablib.Dataset(headers=["family", "environment", "version", "promoted_at", "grace_days"])
    dataset.append(["ubuntu-2204-base", "prod", "1.0.0", _days_ago(100), ""])

    result = ChannelAssignmentResource(user=tenant_a.users["viewer"]).import_data(dataset, dry_run=False)

    assert result.has_validation_errors() or result.has_errors()
    assert not ChannelAssignment.objects.exists()
