"""The reference pipeline step (tools/pipeline/rf-release.sh) against a live server, as a customer's CI runs it:
register from the contract, upload SBOM and SARIF, publish, ask the gate — and a clear exit on each kind of failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from apps.compliance.models import Upload
from apps.images.models import ImageVersion
from apps.tenancy.services.tokens import token_create
from tests.deploy.deploy_support import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = ROOT / "tools" / "pipeline" / "rf-release.sh"
CONTRACT = ROOT / "deploy" / "release" / "qlrf.contract.yaml"
SBOM = ROOT / "fixtures" / "external" / "sbom" / "cyclonedx" / "valid-bom-1.6.json"
SARIF = ROOT / "fixtures" / "external" / "sarif" / "trivy-alpine-310.sarif"


def run(live_server, token: str, *args: str) -> subprocess.CompletedProcess:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed by the reference pipeline (Debian's curl)")
    env = {**os.environ, "QLRF_URL": live_server.url, "QLRF_TOKEN": token}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def engineer_token(tenant_a, envs):
    return token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")[1]


def test_a_release_is_registered_with_its_evidence_and_the_gate_answers(live_server, tenant_a, engineer_token):
    done = run(live_server, engineer_token, str(CONTRACT), "1.4.0", "--sbom", str(SBOM), "--sarif", str(SARIF),
               "--environment", "dev")  # fmt: skip
    assert done.returncode in (0, 1), done.stderr  # allowed or denied: the gate answered
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        f"registered resilience-fabric@1.4.0 (id {ImageVersion.objects.get().pk})",
        "SBOM uploaded",
        "scan results uploaded",
        "published resilience-fabric@1.4.0",
    ]
    assert lines[4].startswith("gate: resilience-fabric@1.4.0 → dev: ")
    version = ImageVersion.objects.get(organization=tenant_a.organization)
    assert version.status == "published"
    assert sorted(Upload.objects.filter(version=version).values_list("kind", flat=True)) == ["sarif", "sbom"]
    allowed = lines[4].split(": ")[-1].startswith("allowed")
    assert done.returncode == (0 if allowed else 1)
    if not allowed:
        assert len(lines) > 5  # every reason of a denial is printed


def test_registration_is_idempotent_and_an_unknown_environment_fails_readably(live_server, engineer_token):
    assert run(live_server, engineer_token, str(CONTRACT), "1.4.0", "--no-publish").returncode == 0
    done = run(live_server, engineer_token, str(CONTRACT), "1.4.0", "--environment", "nowhere")
    assert done.returncode == 2 and ImageVersion.objects.count() == 1
    assert (
        done.stderr == "rf-release: POST /gate/check: HTTP 400 not_found - no such environment in this organization\n"
    )
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_bad_token_and_a_missing_file_fail_with_one_line_and_change_nothing(live_server, engineer_token, tmp_path):
    done = run(live_server, "qlrf_not_a_token", str(CONTRACT), "1.4.0")
    assert done.returncode == 2 and done.stderr.startswith("rf-release: POST /images: HTTP 401")
    done = run(live_server, engineer_token, str(CONTRACT), "1.4.0", "--sbom", str(tmp_path / "missing.json"))
    assert done.returncode == 2 and done.stderr.strip() == f"rf-release: cannot read {tmp_path / 'missing.json'}"
    broken = tmp_path / "broken.contract.yaml"
    broken.write_text("identity: [\n")
    done = run(live_server, engineer_token, str(broken), "1.4.0")
    assert done.returncode == 2 and done.stderr.startswith("rf-release: POST /images: HTTP 4")
    assert ImageVersion.objects.count() == 0
