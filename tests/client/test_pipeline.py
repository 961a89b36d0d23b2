"""Done when: a pipeline with only ``QLRF_URL`` and a token registers, uploads, promotes and asks the gate with
``rf`` — run here with the client installed alone (``pip install .`` into a fresh venv: no Django), as pipx would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apps.compliance.models import GateDecision, Upload
from apps.images.models import Channel, ImageVersion
from apps.tenancy.services.tokens import token_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "contracts" / "examples" / "ubuntu-22.04.contract.yaml"
SBOM = ROOT / "fixtures" / "external" / "sbom" / "cyclonedx" / "valid-bom-1.6.json"
SARIF = ROOT / "fixtures" / "external" / "sarif" / "trivy-alpine-310.sarif"


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory) -> Path:
    """A fresh venv holding only the client: ``pip install .`` of this repository (requests, no server stack)."""
    base = tmp_path_factory.mktemp("rf-client")
    source = base / "src"  # a copy: building writes build/ and *.egg-info, never into the checkout
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("qlrf", "apps", "qlrf_client", "requirements"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # the build backend (setuptools) is fetched by pip's build isolation; the client's runtime needs only requests
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, str(source)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"pip install of the client failed: {done.stderr[-2000:]}")
    return venv


def clean_env(**extra: str) -> dict:
    """Only what a CI runner has: PATH, a HOME without configuration, and what the test gives."""
    return {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("TMPDIR", "/tmp"), "LANG": "C.UTF-8", **extra}


def test_the_client_installs_without_django(client_venv):
    python = client_venv / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import django"], capture_output=True, timeout=60).returncode == 1
    done = subprocess.run([str(client_venv / "bin" / "rf"), "--help"], capture_output=True, text=True,
                          env=clean_env(), timeout=60)  # fmt: skip
    assert done.returncode == 0 and "image" in done.stdout and "gate" in done.stdout
    done = subprocess.run([str(client_venv / "bin" / "rf"), "env", "list"], capture_output=True, text=True,
                          env=clean_env(), timeout=60)  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("rf: error: no service configured: set QLRF_URL")
    done = subprocess.run([str(client_venv / "bin" / "rf"), "org", "create", "x"], capture_output=True, text=True,
                          env=clean_env(), timeout=60)  # fmt: skip
    assert done.returncode == 2 and "a server command, and this is the client alone" in done.stderr


def test_a_pipeline_with_only_url_and_token_registers_uploads_promotes_and_asks_the_gate(
    client_venv, live_server, tenant_a, envs
):
    envs["prod"].signature_policy = "enforce"
    envs["prod"].save(update_fields=["signature_policy"])
    token = token_create(actor=None, organization=tenant_a.organization, name="pipeline", role="engineer")[1]
    env = clean_env(QLRF_URL=live_server.url, QLRF_TOKEN=token)
    ref = "ubuntu-2204-base@1.4.0"

    def rf(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(client_venv / "bin" / "rf"), *argv], capture_output=True, text=True, env=env,
                              timeout=120)  # fmt: skip

    steps = [
        ("image", "register", str(CONTRACT), "--version", "1.4.0", "--artifact", "aws:ami-0pipeline@eu-west-1"),
        ("sbom", "import", "--image", ref, str(SBOM)),
        ("scan-results", "upload", "--image", ref, str(SARIF)),
        ("image", "publish", ref),
        ("image", "promote", ref, "--env", "dev"),
    ]
    for argv in steps:
        done = rf(*argv)
        assert done.returncode == 0 and done.stderr == "", (argv, done.stderr)
    version = ImageVersion.objects.get(organization=tenant_a.organization, version="1.4.0")
    assert done.stdout.startswith("promoted ubuntu-2204-base@1.4.0 to dev (from nothing")
    assert version.status == "published" and version.artifacts.get().image_ref == "ami-0pipeline"
    assert sorted(Upload.objects.filter(version=version).values_list("kind", flat=True)) == ["sarif", "sbom"]
    assert Channel.objects.get(environment=envs["dev"]).version == version

    gate = rf("gate", "check", "--image", ref, "--env", "dev")
    decision = GateDecision.objects.get(version=version, environment=envs["dev"])
    assert gate.stdout.splitlines()[0] == (
        f"{ref} → dev: {'allowed' if decision.allowed else 'denied'} (decision {decision.pk})"
    )
    assert gate.returncode == (0 if decision.allowed else 1)
    prod = rf("gate", "check", "--image", ref, "--env", "prod", "--json")  # unsigned: prod enforces signatures
    assert prod.returncode == 1 and '"allowed": false' in prod.stdout
    assert prod.stderr.startswith(f"rf: error: {ref} may not go to prod: ") and len(prod.stderr.splitlines()) == 1
