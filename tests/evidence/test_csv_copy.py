"""The outdated CSV export: PostgreSQL's COPY and the Python writer give the same bytes; each tenant sees its own."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.drift.services import drift_snapshot_write
from apps.evidence.reports import csv_copy
from apps.evidence.reports.csv_exports import csv_lines, export_build, export_lines
from apps.images.services import image_version_revoke
from apps.inventory.models import Asset
from qlrf.cache_generation import generation_bump
from tests.conftest import client_for
from tests.portal.fleet import add_assets, build_fleet

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")

HOSTILE_NAMES = {
    "i-a-00000": '=HYPERLINK("http://x")',  # a formula: prefixed with '
    "i-a-00001": "-2+3",
    "i-a-00002": 'comma, and "quotes"',
    "i-a-00003": "two\nlines",
    "i-a-00004": "",  # empty: unquoted on both paths
    "i-a-00005": "ünïcødé ✓",
    "i-a-00008": "\tTabbed",
    "i-a-00018": " leading and trailing ",
}


@pytest.fixture
def fleet(tenant_a):
    """The portal fleet's 8 outdated machines with hostile names, 10 more, and 1.1.0 revoked at a whole second."""
    built = build_fleet(tenant_a, "a")
    add_assets(tenant_a, built, 20)
    for instance_id, name in HOSTILE_NAMES.items():
        Asset.objects.filter(organization=tenant_a.organization, instance_id=instance_id).update(name=name)
    whole_second = (timezone.now() - datetime.timedelta(days=3)).replace(microsecond=0)
    image_version_revoke(actor=None, version=built["versions"][1], reason="CVE", effective_at=whole_second)
    generation_bump(tenant_a.organization)
    return built


def both_paths(organization, user, params) -> tuple[bytes, bytes]:
    export = export_build("outdated", organization, user=user, params=params)
    assert export.copy is not None
    python = b"".join(csv_lines(export.header, export.rows))
    copied = b"".join(csv_copy.copy_lines(next(csv_lines(export.header, ())), export.copy))
    return python, copied


@on_postgresql
@pytest.mark.parametrize(
    "params",
    [{}, {"ordering": "days_behind"}, {"site": "aws-eu"}, {"env": "prod", "platform": "aws", "site": "aws-us"}],
)
def test_copy_and_python_writer_give_identical_bytes_live(tenant_a, fleet, params):
    python, copied = both_paths(tenant_a.organization, tenant_a.users["viewer"], params)
    assert copied == python
    lines = python.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("instance_id,name,platform,environment,site,version,baseline,days_behind")
    if not params:
        body = python.decode("utf-8-sig")
        assert '\'=HYPERLINK(""http://x"")' in body and '"two\nlines"' in body and "'-2+3" in body
        assert ",true\r\n" in body and ",false\r\n" in body  # the stopped machine
        assert "T" in body and "Z," in body
        stamps = {line.split(",")[-3] for line in lines[1:] if line.startswith("i-a-0001")}
        assert any("." not in s for s in stamps) and any("." in s for s in stamps)  # whole second and microseconds


@on_postgresql
def test_copy_and_python_writer_give_identical_bytes_as_of_a_snapshot(tenant_a, fleet):
    drift_snapshot_write(organization=tenant_a.organization, trigger="manual")
    at = timezone.now().isoformat()
    for params in ({"as_of": at}, {"as_of": at, "ordering": "days_behind", "site": "aws-eu"}):
        python, copied = both_paths(tenant_a.organization, tenant_a.users["viewer"], params)
        assert copied == python and python.count(b"\r\n") > 20


@on_postgresql
def test_the_api_streams_the_copy_and_each_tenant_only_its_own(tenant_a, tenant_b, fleet, monkeypatch):
    build_fleet(tenant_b, "b")
    used = []
    original = csv_copy.copy_lines
    monkeypatch.setattr(csv_copy, "copy_lines", lambda *a: used.append(1) or original(*a))
    alpha, bravo = ("i-a-", "i-bulk-"), ("i-b-",)
    for tenant, own, others in ((tenant_a, alpha, bravo), (tenant_b, bravo, alpha)):
        response = client_for(tenant.users["viewer"]).get(reverse("report-csv", args=["outdated"]))
        assert response.status_code == 200 and response["X-Drift-Source"] == "live"
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        _, *rows = csv.reader(io.StringIO(body))
        assert rows and all(r[0].startswith(own) for r in rows)
        assert not any(other in body for other in others)
    assert len(used) == 2
    python, _ = both_paths(tenant_a.organization, tenant_a.users["viewer"], {})
    response = client_for(tenant_a.users["viewer"]).get(reverse("report-csv", args=["outdated"]))
    assert b"".join(response.streaming_content) == python
    outsider = client_for(tenant_b.users["viewer"])
    assert outsider.get(reverse("report-csv", args=["outdated"]), {"organization": "alpha"}).status_code == 404


def test_without_postgresql_the_python_writer_streams_the_api_rows(tenant_a, fleet, monkeypatch):
    monkeypatch.setattr(csv_copy, "available", lambda: False)
    copied = []
    monkeypatch.setattr(csv_copy, "copy_lines", lambda *a: copied.append(1))
    export = export_build("outdated", tenant_a.organization, user=tenant_a.users["viewer"], params={})
    header, *rows = csv.reader(io.StringIO(b"".join(export_lines(export)).decode("utf-8-sig")))
    page = client_for(tenant_a.users["viewer"]).get(reverse("drift-outdated"), {"limit": 100}).json()
    assert page["count"] == len(rows) == 43 and copied == []  # 8 + 10 behind, 25 on the revoked 1.1.0
    assert [dict(zip(header, row, strict=True)) for row in rows] == [
        {k: _cell(v) for k, v in r.items()} for r in page["results"]
    ]


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return str(value).replace("+00:00", "Z") if value is not None else ""
