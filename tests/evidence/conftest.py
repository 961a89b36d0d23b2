"""Evidence fixtures: a two-environment fleet on registered versions with SBOM, SARIF and InSpec originals."""

from __future__ import annotations

import io
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from apps.compliance.services import signature_verify, upload_store_and_parse
from apps.drift.services import drift_snapshot_write
from apps.images.services import channel_promote
from apps.inventory.services import scan_run_now
from tests.factories.images import UBUNTU, register
from tests.inventory.conftest import synthetic

EXTERNAL = Path(__file__).resolve().parents[2] / "fixtures" / "external"
SBOM_V1 = "sbom/spdx/spdx-examples-example11.spdx.json"
SARIF_V1 = "sarif/trivy-alpine-310.sarif"
INSPEC_V1 = "inspec/rhel8_sample_oneOfEachControlStatus.json"
SBOM_V2 = "sbom/spdx/SPDXJSONExample-v2.3.spdx.json"
SBOM_UNUSED = "sbom/spdx/SPDXTagExample-v2.3.spdx"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Stored originals, reports and packs go to a per-test directory."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def fixture_bytes(relative: str) -> bytes:
    return (EXTERNAL / relative).read_bytes()


def upload(version, relative: str, kind: str):
    return upload_store_and_parse(
        actor=None, version=version, kind=kind, data=fixture_bytes(relative), filename=Path(relative).name
    )[0]


@dataclass
class World:
    v1: object
    v2: object
    v3: object
    uploads: dict


@pytest.fixture
def world(tenant_a, envs, django_capture_on_commit_callbacks) -> World:
    """prod: 6 machines on 1.0.0; dev: 4 on 1.1.0. Then 1.1.0 becomes golden in prod (no grace): prod drifts."""
    v1 = register(tenant_a, UBUNTU, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1"}])
    v2 = register(tenant_a, UBUNTU, "1.1.0", artifacts=[{"platform": "aws", "image_ref": "ami-2"}])
    v3 = register(tenant_a, UBUNTU, "1.2.0", artifacts=[{"platform": "aws", "image_ref": "ami-3"}])
    channel_promote(actor=None, version=v1, environment=envs["prod"])
    channel_promote(actor=None, version=v2, environment=envs["dev"])
    prod = synthetic(
        tenant_a,
        "prod-fleet",
        count=6,
        regions={"aws": ["eu-west-1"]},
        environments=["prod"],
        image_refs={"aws": [["ami-1", 1]]},
    )
    dev = synthetic(
        tenant_a,
        "dev-fleet",
        count=4,
        regions={"aws": ["us-east-1"]},
        environments=["dev"],
        image_refs={"aws": [["ami-2", 1]]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        scan_run_now(actor=None, connector=prod, trigger="cli")
        scan_run_now(actor=None, connector=dev, trigger="cli")
    channel_promote(actor=None, version=v2, environment=envs["prod"], grace_days=0)
    drift_snapshot_write(organization=tenant_a.organization, trigger="manual")
    uploads = {
        "sbom-v1": upload(v1, SBOM_V1, "sbom"),
        "sarif-v1": upload(v1, SARIF_V1, "scan"),
        "inspec-v1": upload(v1, INSPEC_V1, "scan"),
        "sbom-v2": upload(v2, SBOM_V2, "sbom"),
        "sbom-v3": upload(v3, SBOM_UNUSED, "sbom"),
    }
    signature_verify(actor=None, version=v1, signature="c2ln")
    signature_verify(actor=None, version=v3, signature="c2ln")
    return World(v1, v2, v3, uploads)


def pdf_text(data: bytes) -> str:
    """The text of a PDF, as poppler's pdftotext reads it (layout kept)."""
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True, timeout=60)
    return result.stdout.decode()


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}
