"""As-of answers for any past instant (issue #18 §2, ADR 010): the snapshot in force then, on every surface.

Time is frozen at explicit instants (``timezone.now`` patched), never slept through: the history below happens earlier
*today*, which is the case the date-only comparison used to answer from live data.
"""

import contextlib
import csv as csv_module
import datetime
import io
import json
import zipfile
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.drift.models import DriftSnapshot
from apps.drift.selectors import DriftQueryError, drift_report_build, parse_as_of
from apps.drift.services import drift_snapshot_write
from apps.evidence.services import evidence_pack_generate
from apps.images.services import channel_promote, channel_rollback
from apps.inventory.services import scan_run_now
from qlrf.cli import main
from tests.conftest import client_for
from tests.evidence.conftest import pdf_text
from tests.factories.images import register
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@contextlib.contextmanager
def frozen(at: datetime.datetime):
    """Every ``timezone.now()`` answers ``at`` inside the block."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


def earlier_today(fraction: float) -> datetime.datetime:
    """An instant between midnight UTC and now (``fraction`` of the way)."""
    now = timezone.now()
    midnight = datetime.datetime.combine(now.date(), datetime.time.min, tzinfo=UTC)
    return midnight + (now - midnight) * fraction


@pytest.fixture
def history(tenant_a, envs, ubuntu_contract, django_capture_on_commit_callbacks):
    """Earlier today: t1 v1 golden + scan (20 compliant); t2 v2 promoted, no grace (20 outdated); t3 rescan; t4
    rollback to v1 (20 compliant again, the live state). Every snapshot is written on commit, in-process."""
    org = tenant_a.organization
    v1 = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1"}])
    v2 = register(tenant_a, ubuntu_contract, "1.1.0", artifacts=[{"platform": "aws", "image_ref": "ami-2"}])
    connector = synthetic(
        tenant_a, count=20, regions={"aws": ["eu-west-1"]}, environments=["prod"], image_refs={"aws": [["ami-1", 1]]}
    )
    t = {i: earlier_today(i / 6) for i in range(1, 5)}
    with frozen(t[1]), django_capture_on_commit_callbacks(execute=True):
        channel_promote(actor=None, version=v1, environment=envs["prod"])
    with frozen(t[1]), django_capture_on_commit_callbacks(execute=True):
        scan_run_now(actor=None, connector=connector, trigger="cli")
    with frozen(t[2]), django_capture_on_commit_callbacks(execute=True):
        channel_promote(actor=None, version=v2, environment=envs["prod"], grace_days=0)
    with frozen(t[3]), django_capture_on_commit_callbacks(execute=True):
        scan_run_now(actor=None, connector=connector, trigger="cli")
    with frozen(t[4]), django_capture_on_commit_callbacks(execute=True):
        channel_rollback(actor=None, channel=v1.family.channels.get(environment=envs["prod"]))
    snapshots = list(DriftSnapshot.objects.filter(organization=org).order_by("taken_at", "id"))
    assert [(s.taken_at, s.trigger) for s in snapshots] == [
        (t[1], "promotion"),
        (t[1], "scan"),  # the same instant as the promotion: the id orders them
        (t[2], "promotion"),
        (t[3], "scan"),
        (t[4], "promotion"),
    ]
    return {"t": t, "snapshots": snapshots, "org": org}


def test_as_of_earlier_today_after_later_promotions_and_scans(tenant_a, history):
    t, snapshots = history["t"], history["snapshots"]
    client = client_for(tenant_a.users["viewer"])
    live = client.get(reverse("drift-report")).json()
    assert (live["source"], live["snapshot_id"], live["total"]["outdated_count"]) == ("live", None, 0)
    # an instant between t2 and t3, written with a +05:30 offset
    asked = (t[2] + (t[3] - t[2]) / 2).astimezone(datetime.timezone(datetime.timedelta(hours=5, minutes=30)))
    body = client.get(reverse("drift-report"), {"as_of": asked.isoformat()}).json()
    assert (body["source"], body["snapshot_id"], body["snapshot_trigger"]) == ("snapshot", snapshots[2].pk, "promotion")
    assert datetime.datetime.fromisoformat(body["snapshot_taken_at"]) == t[2]
    assert datetime.datetime.fromisoformat(body["as_of"]) == asked
    assert (body["total"]["outdated_count"], body["total"]["compliant_assets"]) == (20, 0)
    # exactly at a snapshot's time: that snapshot; two at the same instant: the later written (the scan)
    exact = client.get(reverse("drift-report"), {"as_of": t[1].isoformat()}).json()
    assert (exact["snapshot_id"], exact["total"]["compliant_assets"]) == (snapshots[1].pk, 20)
    before_t2 = (t[2] - datetime.timedelta(microseconds=1)).isoformat()
    assert client.get(reverse("drift-report"), {"as_of": before_t2}).json()["snapshot_id"] == snapshots[1].pk
    # the CLI answers from the same snapshot
    report = drift_report_build(history["org"], as_of=asked.isoformat())
    assert (report.source, report.snapshot_id) == ("snapshot", snapshots[2].pk)


def test_grace_ending_exactly_at_the_as_of_instant(tenant_a, envs, ubuntu_contract, django_capture_on_commit_callbacks):
    org = tenant_a.organization
    v1 = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1"}])
    v2 = register(tenant_a, ubuntu_contract, "1.1.0", artifacts=[{"platform": "aws", "image_ref": "ami-2"}])
    connector = synthetic(
        tenant_a, count=5, regions={"aws": ["eu-west-1"]}, environments=["prod"], image_refs={"aws": [["ami-1", 1]]}
    )
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(days=3)
    with frozen(start), django_capture_on_commit_callbacks(execute=True):
        channel_promote(actor=None, version=v1, environment=envs["prod"])
        scan_run_now(actor=None, connector=connector, trigger="cli")
    promoted = start + datetime.timedelta(hours=1)
    with frozen(promoted), django_capture_on_commit_callbacks(execute=True):
        assignment = channel_promote(actor=None, version=v2, environment=envs["prod"], grace_days=1)
    grace_end = assignment.grace_until
    assert grace_end == promoted + datetime.timedelta(days=1)
    with frozen(grace_end):
        at_end = drift_snapshot_write(organization=org, trigger="daily")
    in_grace = drift_report_build(org, as_of=(grace_end - datetime.timedelta(microseconds=1)).isoformat())
    assert (in_grace.total.compliant_assets, in_grace.total.outdated_count) == (5, 0)
    ended = drift_report_build(org, as_of=grace_end.isoformat())
    assert ended.snapshot_id == at_end.pk and ended.snapshot_taken_at == grace_end
    assert (ended.total.compliant_assets, ended.total.outdated_count) == (0, 5)


def test_every_surface_answers_from_the_snapshot_in_force(tenant_a, history):
    t, snapshots = history["t"], history["snapshots"]
    wanted = snapshots[3]  # the rescan at t3: 20 outdated
    asked = (t[3] + (t[4] - t[3]) / 2).isoformat()  # between the rescan and the rollback
    api = client_for(tenant_a.users["viewer"])
    outdated = api.get(reverse("drift-outdated"), {"as_of": asked, "limit": 5}).json()
    assert (outdated["source"], outdated["snapshot_id"], outdated["count"]) == ("snapshot", wanted.pk, 20)
    assert datetime.datetime.fromisoformat(outdated["snapshot_taken_at"]) == t[3]
    assert len(outdated["results"]) == 5 and {r["version"].rsplit("@", 1)[1] for r in outdated["results"]} == {"1.0.0"}
    assert api.get(reverse("drift-outdated")).json()["count"] == 0  # live: rolled back, all compliant
    trend = api.get(reverse("drift-trend"), {"as_of": asked}).json()
    assert trend[-1]["snapshot_id"] == wanted.pk and trend[-1]["outdated"] == 20
    assert api.get(reverse("drift-trend")).json()[-1]["snapshot_id"] == snapshots[4].pk

    portal = Client()
    portal.force_login(tenant_a.users["viewer"])
    page = portal.get(reverse("drift:overview"), {"as_of": asked})
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert f"from drift snapshot #{wanted.pk} taken {t[3]:%Y-%m-%d %H:%M:%S} UTC (scan)" in text

    csv = portal.get(reverse("evidence:csv", args=["outdated"]), {"as_of": asked})
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 21 and csv["X-Drift-Snapshot-Id"] == str(wanted.pk)
    assert datetime.datetime.fromisoformat(csv["X-Drift-Snapshot-Taken-At"]) == t[3]
    summary = api.get(reverse("report-csv", args=["drift"]), {"as_of": asked})
    assert summary.status_code == 200 and summary["X-Drift-Source"] == "snapshot"
    assert summary["X-Drift-Snapshot-Id"] == str(wanted.pk)
    total = list(csv_module.DictReader(b"".join(summary.streaming_content).decode("utf-8-sig").splitlines()))[-1]
    assert (total["environment"], total["outdated_count"], total["compliant_assets"]) == ("", "20", "0")
    live_summary = api.get(reverse("report-csv", args=["drift"]))
    assert live_summary["X-Drift-Source"] == "live" and live_summary["X-Drift-Snapshot-Id"] == ""

    pdf = portal.get(reverse("evidence:pdf", args=["drift"]), {"as_of": asked})
    pdf_words = " ".join(pdf_text(pdf.content).split())
    assert f"from drift snapshot #{wanted.pk} taken {t[3]:%Y-%m-%d %H:%M:%S} UTC (scan)" in pdf_words
    assert "Outdated machines (20)" in pdf_words


def test_evidence_pack_for_a_past_day_uses_the_snapshot_in_force_at_its_end(
    tenant_a, envs, ubuntu_contract, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    v1 = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1"}])
    v2 = register(tenant_a, ubuntu_contract, "1.1.0", artifacts=[{"platform": "aws", "image_ref": "ami-2"}])
    connector = synthetic(
        tenant_a, count=4, regions={"aws": ["eu-west-1"]}, environments=["prod"], image_refs={"aws": [["ami-1", 1]]}
    )
    yesterday = timezone.now().date() - datetime.timedelta(days=1)
    noon = datetime.datetime.combine(yesterday, datetime.time(12), tzinfo=UTC)
    with frozen(noon), django_capture_on_commit_callbacks(execute=True):
        channel_promote(actor=None, version=v1, environment=envs["prod"])
        scan_run_now(actor=None, connector=connector, trigger="cli")
    with frozen(noon + datetime.timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        channel_promote(actor=None, version=v2, environment=envs["prod"], grace_days=0)
    in_force = DriftSnapshot.objects.order_by("-taken_at", "-id").first()
    with django_capture_on_commit_callbacks(execute=True):  # today: back to v1, compliant
        channel_rollback(actor=None, channel=v1.family.channels.get(environment=envs["prod"]))
    pack = evidence_pack_generate(actor=None, organization=tenant_a.organization, end=yesterday)
    with pack.file.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as archive:
        summary = list(csv_module.DictReader(archive.read("drift/summary.csv").decode("utf-8-sig").splitlines()))
        report = " ".join(pdf_text(archive.read("drift/report.pdf")).split())
    assert summary[-1]["outdated_count"] == "4"  # 4 outdated at the end of yesterday, although compliant now
    assert f"from drift snapshot #{in_force.pk} taken {in_force.taken_at:%Y-%m-%d %H:%M:%S} UTC" in report


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [
        ("yesterday", 400, "invalid_as_of"),
        ("2026-13-40", 400, "invalid_as_of"),
        ("2026-01-01T25:00:00", 400, "invalid_as_of"),
        ("2026-01-01T10:00:00+25:00", 400, "invalid_as_of"),
        ("0001-01-01T00:00:00+01:00", 400, "invalid_as_of"),
        ("'; DROP TABLE drift_driftsnapshot; --", 400, "invalid_as_of"),
        ("9999-12-31", 400, "as_of_in_future"),
        ("9999-12-31T23:59:59+00:00", 400, "as_of_in_future"),
        ("2000-01-01", 404, "no_snapshot_before"),
        ("2000-01-01T00:00:00-05:00", 404, "no_snapshot_before"),
    ],
)
def test_hostile_as_of_values_get_stable_codes_on_every_endpoint(tenant_a, history, value, status, code):
    api = client_for(tenant_a.users["viewer"])
    for name in ("drift-report", "drift-outdated", "drift-trend"):
        response = api.get(reverse(name), {"as_of": value})
        assert (response.status_code, response.json()["code"]) == (status, code), name
        assert response.json()["errors"][0]["path"] == "/query/as_of"
    csv = api.get(reverse("report-csv", args=["outdated"]), {"as_of": value})
    assert (csv.status_code, csv.json()["code"]) == (status, code)
    portal = Client()
    portal.force_login(tenant_a.users["viewer"])
    page = portal.get(reverse("drift:overview"), {"as_of": value})
    assert page.status_code == status and code in page.content.decode()


def test_a_datetime_just_in_the_future_is_refused_and_today_means_now(tenant_a, history):
    api = client_for(tenant_a.users["viewer"])
    ahead = (timezone.now() + datetime.timedelta(minutes=5)).isoformat()
    assert api.get(reverse("drift-report"), {"as_of": ahead}).json()["code"] == "as_of_in_future"
    today = api.get(reverse("drift-report"), {"as_of": timezone.now().date().isoformat()}).json()
    assert (today["source"], today["total"]["outdated_count"]) == ("live", 0)  # the day is not over: its state is now


def test_parse_as_of_boundaries():
    now = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_as_of("2026-03-09", now=now) == datetime.datetime(2026, 3, 9, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_as_of("2026-03-10", now=now) is None  # today: live
    assert parse_as_of("2026-03-10T13:30:00+02:00", now=now) == datetime.datetime(2026, 3, 10, 11, 30, tzinfo=UTC)
    assert parse_as_of("2026-03-10T11:00:00", now=now) == datetime.datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    assert parse_as_of("2026-03-10T11:00:00Z", now=now) == datetime.datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    assert parse_as_of("2026-03-10T12:00:00Z", now=now) == now  # exactly now is not the future
    assert parse_as_of("", now=now) is None
    with pytest.raises(DriftQueryError) as caught:
        parse_as_of("2026-03-10T12:00:00.000001Z", now=now)
    assert caught.value.code == "as_of_in_future"
    with pytest.raises(DriftQueryError) as caught:
        parse_as_of("2026-03-11", now=now)
    assert caught.value.code == "as_of_in_future"


def test_rf_drift_as_of_earlier_today_names_the_snapshot_and_refuses_garbage(history, capsys):
    t, snapshots = history["t"], history["snapshots"]
    asked = (t[2] + (t[3] - t[2]) / 2).isoformat()
    assert main(["drift", "--org", "alpha", "--as-of", asked]) == 0
    out = capsys.readouterr().out
    assert f"from drift snapshot #{snapshots[2].pk} taken {t[2]:%Y-%m-%d %H:%M:%S} UTC (promotion)" in out
    assert main(["drift", "--org", "alpha", "--as-of", asked, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["snapshot_id"] == snapshots[2].pk
    assert main(["drift", "--org", "alpha", "--as-of", "last tuesday"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("rf: error: --as-of: 'last tuesday' is not a date") and "\n" not in err
    assert main(["drift", "--org", "alpha", "--as-of", "1999-12-31"]) == 1
    assert "no drift snapshot exists at or before 1999-12-31T23:59:59.999999+00:00" in capsys.readouterr().err
