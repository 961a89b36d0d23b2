"""Evidence packs: exact members and hashes, scope filters, byte-identical regeneration, verify, bad input."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from apps.compliance.models import Upload
from apps.evidence.models import EvidencePack
from apps.evidence.pack.verify import pack_verify
from apps.evidence.services import EvidencePackTooLarge, evidence_pack_generate
from apps.tenancy.models import AuditEvent
from tests.evidence.conftest import fixture_bytes, pdf_text, zip_members

pytestmark = pytest.mark.django_db

ZIP_FIXED = (1980, 1, 1, 0, 0, 0)


def _read(pack) -> bytes:
    with pack.file.open("rb") as fh:
        return fh.read()


def _index(data: bytes) -> dict:
    return json.loads(zip_members(data)["index.json"])


def test_pack_holds_exactly_the_expected_members_with_correct_hashes(tenant_a, world):
    pack = evidence_pack_generate(actor=tenant_a.users["operator"], organization=tenant_a.organization)
    data = _read(pack)
    assert hashlib.sha256(data).hexdigest() == pack.sha256 and len(data) == pack.size
    members = zip_members(data)
    up = world.uploads
    expected = sorted(
        [
            "audit/events.jsonl",
            "compliance/signature-verifications.csv",
            "compliance/signature-verifications.json",
            f"compliance/ubuntu-2204-base/1.0.0/inspec/{up['inspec-v1'].pk}-rhel8_sample_oneOfEachControlStatus.json",
            f"compliance/ubuntu-2204-base/1.0.0/sarif/{up['sarif-v1'].pk}-trivy-alpine-310.sarif",
            f"compliance/ubuntu-2204-base/1.0.0/sbom/{up['sbom-v1'].pk}-spdx-examples-example11.spdx.json",
            f"compliance/ubuntu-2204-base/1.1.0/sbom/{up['sbom-v2'].pk}-SPDXJSONExample-v2.3.spdx.json",
            "drift/outdated.csv",
            "drift/report.pdf",
            "drift/summary.csv",
            "images/channel-history.csv",
            "images/ubuntu-2204-base/1.0.0/contract.json",
            "images/ubuntu-2204-base/1.1.0/contract.json",
            "insights/causes.json",
        ]
    )
    assert list(members) == [*expected, "index.json"]  # fixed order: sorted paths, the index last
    index = json.loads(members["index.json"])
    assert [m["path"] for m in index["members"]] == expected
    assert (index["generator"], index["version"], index["empty"], index["member_count"]) == (
        "qlrf (Resilience Fabric)",
        "0.1.0",
        False,
        14,
    )
    assert index["organization"] == {"slug": "alpha", "name": "Alpha"}
    assert index["filters"] == {"environments": [], "from": None, "to": timezone.now().date().isoformat()}
    assert index["as_of"] == f"{timezone.now().date().isoformat()}T23:59:59Z"
    for entry in index["members"]:
        body = members[entry["path"]]
        assert (entry["size"], entry["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    by_path = {m["path"]: m for m in index["members"]}
    sbom = by_path[expected[5]]
    assert members[expected[5]] == fixture_bytes("sbom/spdx/spdx-examples-example11.spdx.json")  # byte-exact
    assert sbom["sha256"] == up["sbom-v1"].sha256
    assert sbom["source"] == {"model": "compliance.upload", "pk": up["sbom-v1"].pk}
    assert sbom["media_type"] == "application/spdx+json"
    assert sbom["effective_at"] == up["sbom-v1"].uploaded_at.isoformat().replace("+00:00", "Z")
    assert by_path["images/ubuntu-2204-base/1.0.0/contract.json"]["source"] == {
        "model": "images.imageversion",
        "pk": world.v1.pk,
    }
    assert json.loads(members["images/ubuntu-2204-base/1.0.0/contract.json"]) == world.v1.contract
    # the unused version (1.2.0) and its SBOM and verification are out of scope
    assert not any("1.2.0" in path for path in members)
    verifications = json.loads(members["compliance/signature-verifications.json"])
    assert [(v["image"], v["result"]) for v in verifications] == [("ubuntu-2204-base@1.0.0", "failed")]
    outdated = members["drift/outdated.csv"].decode("utf-8-sig").splitlines()
    assert len(outdated) == 7 and outdated[0].startswith("instance_id,name,platform,environment")
    assert {line.split(",")[3] for line in outdated[1:]} == {"prod"}
    summary = members["drift/summary.csv"].decode("utf-8-sig").splitlines()
    assert summary[-1].split(",")[3:10] == ["10", "4", "6", "0", "0", "0", "40.0"]
    (insight,) = json.loads(members["insights/causes.json"])
    assert insight["provenance"] == {"kind": "deterministic", "template_id": "explain", "template_version": 1}
    top = insight["causes"][0]
    expected_top = (1, "grace_ended", 6, ["prod", "ubuntu-2204-base@1.1.0"])
    assert (top["rank"], top["kind"], top["machines"], top["key"]) == expected_top
    assert insight["scope"]["snapshot_id"] == by_path["drift/summary.csv"]["source"]["pk"]
    text = pdf_text(members["drift/report.pdf"])
    assert "Detailed drift report" in text and "Outdated machines (6)" in text and "40.0%" in text
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        assert (info.date_time, info.external_attr >> 16) == (ZIP_FIXED, 0o100644)
    assert EvidencePack.objects.get().generated_by == tenant_a.users["operator"]
    assert AuditEvent.objects.filter(action="evidence.pack.generate", object_id=str(pack.pk)).count() == 1


def test_regeneration_is_byte_identical_and_verify_passes(tenant_a, world, tmp_path):
    first = evidence_pack_generate(actor=None, organization=tenant_a.organization)
    second = evidence_pack_generate(actor=tenant_a.users["admin"], organization=tenant_a.organization)
    assert first.pk != second.pk
    assert (second.sha256, second.size, second.file.name) == (first.sha256, first.size, first.file.name)
    assert _read(first) == _read(second)
    path = tmp_path / "pack.zip"
    path.write_bytes(_read(first))
    result = pack_verify(path)
    assert (result.ok, result.checked, result.problems) == (True, 14, [])


def test_environment_filter_keeps_only_that_environment(tenant_a, world):
    pack = evidence_pack_generate(actor=None, organization=tenant_a.organization, environments=["prod"])
    members = zip_members(_read(pack))
    paths = [p for p in members if p.startswith(("compliance/ubuntu", "images/ubuntu"))]
    assert all("/1.0.0/" in p for p in paths) and len(paths) == 4
    history = members["images/channel-history.csv"].decode("utf-8-sig").splitlines()
    assert [row.split(",")[2:5] for row in history[1:]] == [["prod", "", "1.0.0"], ["prod", "1.0.0", "1.1.0"]]
    summary = members["drift/summary.csv"].decode("utf-8-sig").splitlines()
    assert [row.split(",")[0] for row in summary[1:]] == ["prod", ""]
    assert summary[-1].split(",")[3:10] == ["6", "0", "6", "0", "0", "0", "0.0"]
    assert _index(_read(pack))["filters"]["environments"] == ["prod"]
    (insight,) = json.loads(members["insights/causes.json"])
    assert insight["scope"]["environment"] == "prod" and insight["causes"][0]["machines"] == 6


def _backdate(table: str, column: str, pk: int, moment) -> None:
    with connection.cursor() as cursor:  # only a test may rewrite history
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [moment, pk])


def test_period_filters_include_and_exclude_by_date(tenant_a, world):
    now = timezone.now()
    with connection.cursor() as cursor:  # the fleet was there, on the same images, ten days ago
        ten_days_ago = now - datetime.timedelta(days=10)
        cursor.execute("UPDATE inventory_asset SET first_seen = %s", [ten_days_ago])
        cursor.execute("UPDATE inventory_assetpresence SET seen_from = %s", [ten_days_ago])
        cursor.execute("UPDATE inventory_assetimagechange SET at = %s", [ten_days_ago])
    _backdate("compliance_upload", "uploaded_at", world.uploads["sbom-v1"].pk, now - datetime.timedelta(days=5))
    oldest = AuditEvent.objects.order_by("id").first()
    _backdate("tenancy_auditevent", "occurred_at", oldest.pk, now - datetime.timedelta(days=5))
    yesterday = (now - datetime.timedelta(days=1)).date()
    pack = evidence_pack_generate(actor=None, organization=tenant_a.organization, end=yesterday)
    members = zip_members(_read(pack))
    assert sorted(members) == [
        "audit/events.jsonl",
        f"compliance/ubuntu-2204-base/1.0.0/sbom/{world.uploads['sbom-v1'].pk}-spdx-examples-example11.spdx.json",
        "images/ubuntu-2204-base/1.0.0/contract.json",
        "images/ubuntu-2204-base/1.1.0/contract.json",
        "index.json",
    ]  # today's scans, uploads, promotions, snapshots and checks come after the as-of date
    events = [json.loads(line) for line in members["audit/events.jsonl"].splitlines()]
    assert [e["id"] for e in events] == [oldest.pk]
    recent = evidence_pack_generate(actor=None, organization=tenant_a.organization, start=now.date())
    ids = [json.loads(line)["id"] for line in zip_members(_read(recent))["audit/events.jsonl"].splitlines()]
    assert (
        oldest.pk not in ids
        and len(ids) == AuditEvent.objects.exclude(pk=oldest.pk).exclude(action="evidence.pack.generate").count()
    )


def test_a_scope_with_no_data_gives_a_valid_empty_pack(tenant_a, world, tmp_path):
    long_ago = datetime.date(2020, 1, 31)
    pack = evidence_pack_generate(
        actor=None, organization=tenant_a.organization, start=datetime.date(2020, 1, 1), end=long_ago
    )
    members = zip_members(_read(pack))
    assert list(members) == ["index.json"]
    index = json.loads(members["index.json"])
    assert (index["empty"], index["member_count"], index["members"], index["as_of"]) == (
        True,
        0,
        [],
        "2020-01-31T23:59:59Z",
    )
    assert (pack.empty, pack.member_count) == (True, 0)
    path = tmp_path / "empty.zip"
    path.write_bytes(_read(pack))
    assert pack_verify(path).ok


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"start": "2024-02-01", "end": "2024-01-01"}, "from", "invalid_range"),
        ({"environments": ["prod", "nowhere"]}, "environments", "unknown_environment"),
        ({"end": "2999-01-01"}, "to", "future_date"),
        ({"start": "yesterday"}, "from", "invalid_date"),
    ],
)
def test_bad_scope_is_refused_and_writes_nothing(tenant_a, envs, media_root, kwargs, field, code):
    audit = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        evidence_pack_generate(actor=None, organization=tenant_a.organization, **kwargs)
    assert [e.code for e in caught.value.error_dict[field]] == [code]
    assert EvidencePack.objects.count() == 0 and AuditEvent.objects.count() == audit
    assert not (media_root / "evidence").exists()


def test_a_viewer_may_not_generate(tenant_a, envs):
    with pytest.raises(PermissionDenied):
        evidence_pack_generate(actor=tenant_a.users["viewer"], organization=tenant_a.organization)
    assert EvidencePack.objects.count() == 0


def test_a_pack_over_the_limit_is_refused_and_leaves_no_file(tenant_a, world, settings, media_root, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    import tempfile

    settings.QLRF_EVIDENCE_MAX_BYTES = 4000
    original = tempfile.tempdir
    tempfile.tempdir = str(scratch)
    try:
        with pytest.raises(EvidencePackTooLarge) as caught:
            evidence_pack_generate(actor=None, organization=tenant_a.organization)
    finally:
        tempfile.tempdir = original
    assert [e.code for e in caught.value.error_dict["scope"]] == ["pack_too_large"]
    assert "QLRF_EVIDENCE_MAX_BYTES (4000 bytes)" in caught.value.messages[0]
    assert list(scratch.iterdir()) == []  # the temporary ZIP was removed
    assert not (media_root / "evidence").exists() and EvidencePack.objects.count() == 0


def test_a_tampered_pack_fails_verify_with_each_mismatch(tenant_a, world, tmp_path, capsys):
    pack = evidence_pack_generate(actor=None, organization=tenant_a.organization)
    good = tmp_path / "good.zip"
    good.write_bytes(_read(pack))
    call_command("evidence_pack_verify", str(good))
    assert "OK, 14 members match index.json" in capsys.readouterr().out
    tampered = tmp_path / "tampered.zip"
    sbom = next(p for p in zip_members(_read(pack)) if "/sbom/" in p and "1.0.0" in p)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == sbom:
                body = body.replace(b"SPDX", b"SPDY", 1)
            if info.filename != "drift/summary.csv":
                target.writestr(info, body)
        target.writestr("extra.txt", b"not listed")
    result = pack_verify(tampered)
    assert len(result.problems) == 3
    assert result.problems[0].startswith(f"{sbom}: sha256 ")
    assert result.problems[1] == "drift/summary.csv: listed in index.json but missing from the pack"
    assert result.problems[2] == "extra.txt: in the pack but not listed in index.json"
    with pytest.raises(CommandError, match="3 problem"):
        call_command("evidence_pack_verify", str(tampered))
    assert f"MISMATCH {sbom}: sha256" in capsys.readouterr().err


def test_a_stored_original_that_changed_is_refused(tenant_a, world, media_root):
    upload = Upload.objects.get(pk=world.uploads["sarif-v1"].pk)
    (media_root / upload.file.name).write_bytes(b"{}")
    with pytest.raises(ValidationError) as caught:
        evidence_pack_generate(actor=None, organization=tenant_a.organization)
    assert [e.code for e in caught.value.error_dict["scope"]] == ["digest_mismatch"]
    assert EvidencePack.objects.count() == 0
