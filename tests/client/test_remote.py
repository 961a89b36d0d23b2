"""``rf`` remote (REST API with a token, against the live server) and local (in-process, on the server): every
command, the same output both ways; and the hostile cases — bad token, server down, 4xx codes, usage errors, another
tenant's image.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.compliance.models import Upload
from apps.images.models import Channel, ImageVersion
from apps.inventory.models import Connector, ScanRun
from apps.tenancy.models import AuditEvent, Environment, Site
from tests.client.conftest import aws_world, normalized, run_rf
from tests.factories.images import EXAMPLES

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = str(EXAMPLES / "ubuntu-22.04.contract.yaml")
SBOM_OLD = str(ROOT / "fixtures/external/sbom/cyclonedx/valid-bom-1.6.json")
SBOM_NEW = str(ROOT / "fixtures/external/sbom/cyclonedx/syft-scan-alpine-container.cdx.json")
SARIF = str(ROOT / "fixtures/external/sarif/trivy-alpine-310.sarif")
INSPEC = str(ROOT / "fixtures/external/inspec/ubuntu-16.04-baseline-results.json")


def flow(version: str, env: str, site: str) -> list[tuple[list[str], str]]:
    """The whole first hour of one version, as (argv, role): the same for both modes, on different names."""
    ref = f"ubuntu-2204-base@{version}"
    return [
        (["env", "create", env, "--name", env.upper(), "--tier", "staging"], "admin"),
        (["site", "create", site, "--name", site.upper(), "--platform", "aws", "--region", "eu-central-1"], "admin"),
        (["image", "register", CONTRACT, "--version", version, "--artifact",
          f"aws:ami-{version.replace('.', '')}@eu-west-1:123456789012"],
         "engineer"),
        (["image", "register", CONTRACT, "--version", version], "engineer"),  # idempotent: "already registered"
        (["sbom", "import", "--image", ref, SBOM_OLD], "engineer"),
        (["scan-results", "upload", "--image", ref, SARIF], "engineer"),
        (["scan-results", "upload", "--image", ref, INSPEC, "--async"], "engineer"),
        (["image", "publish", ref], "engineer"),
        (["image", "promote", ref, "--env", env, "--grace-days", "3"], "engineer"),
        (["image", "deprecate", ref], "engineer"),
        (["image", "revoke", ref, "--reason", "superseded"], "engineer"),
    ]  # fmt: skip


def test_every_write_prints_the_same_remote_and_local(remote, local, tenant_a):
    remote_runs = [(argv, remote(*argv, role=role)) for argv, role in flow("7.0.0", "qa", "aws-fra")]
    local_runs = [(argv, local(*argv, role=role)) for argv, role in flow("8.0.0", "qa2", "aws-fra2")]
    for (argv, far), (_, near) in zip(remote_runs, local_runs, strict=True):
        assert far.code == 0 and far.err.count("rf: error") == 0, (argv, far)
        assert near.code == 0, (argv, near)
        swap = (
            normalized(near.out)
            .replace("8.0.0", "7.0.0")
            .replace("ami-800", "ami-700")
            .replace("qa2", "qa")
            .replace("QA2", "QA")
        )
        assert normalized(far.out) == swap.replace("aws-fra2", "aws-fra").replace("AWS-FRA2", "AWS-FRA"), argv
    assert remote_runs[2][1].out.startswith("registered ubuntu-2204-base@7.0.0 (id ")
    assert remote_runs[3][1].out.startswith("already registered ubuntu-2204-base@7.0.0")
    assert "upload job" in remote_runs[6][1].err  # progress of the 202 job, on stderr
    for version in ("7.0.0", "8.0.0"):
        row = ImageVersion.objects.get(organization=tenant_a.organization, version=version)
        assert row.status == "revoked" and row.artifacts.count() == 1
        kinds = sorted(Upload.objects.filter(version=row).values_list("kind", flat=True))
        assert kinds == ["inspec", "sarif", "sbom"]
    assert Channel.objects.get(environment__slug="qa").version.version == "7.0.0"
    assert set(Environment.objects.filter(slug__startswith="qa").values_list("slug", flat=True)) == {"qa", "qa2"}
    assert Site.objects.filter(slug__startswith="aws-fra").count() == 2
    actors = set(AuditEvent.objects.filter(action="images.imageversion.publish").values_list("actor_repr", flat=True))
    assert len(actors) == 2  # the token's account remotely, alpha-engineer locally: both audited by name


@pytest.mark.parametrize("as_json", [False, True])
def test_every_read_prints_the_same_remote_and_local(remote, local, tenant_a, sites, as_json):
    for argv, role in flow("7.0.0", "qa", "aws-fra")[2:6]:
        assert remote(*argv, role=role).code == 0
    assert remote("image", "register", CONTRACT, "--version", "7.1.0", role="engineer").code == 0
    assert remote("sbom", "import", "--image", "ubuntu-2204-base@7.1.0", SBOM_NEW, role="engineer").code == 0
    assert remote("image", "publish", "ubuntu-2204-base@7.1.0", role="engineer").code == 0
    assert remote("image", "promote", "ubuntu-2204-base@7.1.0", "--env", "prod", role="engineer").code == 0
    reads = [
        ["env", "list"],
        ["site", "list"],
        ["image", "list"],
        ["image", "show", "ubuntu-2204-base@7.0.0"],
        ["sbom", "diff", "ubuntu-2204-base@7.1.0", "--against", "ubuntu-2204-base@7.0.0"],
        ["connector", "list"],
        ["drift"],
        ["drift", "--env", "prod"],
        ["assets"],
        ["assets", "--status", "outdated"],
        ["gate", "check", "--image", "ubuntu-2204-base@7.1.0", "--env", "dev"],
    ]
    for argv in reads:
        argv = [*argv, "--json"] if as_json else argv
        far, near = remote(*argv, role="engineer"), local(*argv, role="engineer")
        assert far.code == near.code, (argv, far, near)
        assert far.code in (0, 1) and "Traceback" not in far.err, (argv, far)
        assert normalized(far.out) == normalized(near.out), argv
        assert far.out.strip(), argv
        if as_json:
            json.loads(far.out)
    show = remote("image", "show", "ubuntu-2204-base@7.0.0").out
    assert "badges:" in show and "signatures (" in show and "sbom: cyclonedx 1.6 (json), 3 packages" in show, show
    diff = remote("sbom", "diff", "ubuntu-2204-base@7.1.0", "--against", "ubuntu-2204-base@7.0.0").out
    assert diff.startswith("SBOM diff ubuntu-2204-base@7.0.0 → ubuntu-2204-base@7.1.0: ")


def test_connectors_create_list_test_scan_against_moto(remote, local, tenant_a, moto_endpoint, tmp_path):
    endpoint, world = moto_endpoint
    config = tmp_path / "aws.json"
    config.write_text(json.dumps(aws_world.connector_config(endpoint_url=endpoint)))
    created = remote("connector", "create", "aws-prod", "--platform", "aws", "--config", f"@{config}",
                     "--credential-ref", "env:QLRF_TEST_AWS_KEYS", role="engineer")  # fmt: skip
    assert created.code == 0 and created.out.startswith("created connector aws-prod (aws, id "), created
    listed = remote("connector", "list")
    assert listed.out == local("connector", "list").out and "aws-prod" in listed.out
    tested = remote("connector", "test", "aws-prod", role="engineer")
    assert tested.code == 0 and tested.out.startswith("aws-prod: ok: "), tested
    assert normalized(local("connector", "test", "aws-prod", role="engineer").out) == normalized(tested.out)
    scanned = remote("connector", "scan", "aws-prod", role="operator")
    assert scanned.code == 0 and "succeeded" in scanned.out, scanned
    assert "scan " in scanned.err  # progress while polling the scan run
    assert ScanRun.objects.filter(connector__name="aws-prod", status="succeeded").count() == 1
    again = local("connector", "scan", "aws-prod", role="operator")
    assert again.code == 0 and normalized(again.out).startswith("scan N of aws-prod: succeeded — "), again
    assets = remote("assets", "--platform", "aws")
    assert world.web_1 in assets.out and assets.out == local("assets", "--platform", "aws").out
    assert Connector.objects.count() == 1


# ---- hostile cases -----------------------------------------------------------------------------------------------
def test_a_bad_token_is_one_line_and_exit_1(live_server, tokens):
    done = run_rf("--url", live_server.url, "--token", "qlrf_not_a_token", "env", "list")
    assert done.code == 1 and done.out == ""
    assert done.err.startswith("rf: error: GET /environments: HTTP 401 ") and len(done.err.splitlines()) == 1


def test_a_server_that_is_down_is_one_line():
    done = run_rf("--url", "http://127.0.0.1:9", "--token", "qlrf_x", "gate", "check", "--image", "a@1", "--env", "p")
    assert done.code == 1
    assert done.err == "rf: error: POST /gate/check: connection refused (http://127.0.0.1:9); is the service running?\n"


def test_an_api_refusal_carries_its_code(remote, tenant_a):
    assert remote("image", "register", CONTRACT, "--version", "1.0.0", role="engineer").code == 0
    done = remote("image", "promote", "ubuntu-2204-base@1.0.0", "--env", "nowhere", role="engineer")
    assert done.code == 1 and len(done.err.splitlines()) == 1
    assert done.err.startswith("rf: error: POST /images/") and "HTTP 400 does_not_exist" in done.err, done.err
    denied = remote("image", "publish", "ubuntu-2204-base@1.0.0", role="viewer")
    assert denied.code == 1 and "HTTP 403 permission_denied" in denied.err and len(denied.err.splitlines()) == 1
    assert ImageVersion.objects.get(version="1.0.0").status == "draft"
    engineer = remote("env", "create", "x", "--tier", "dev", role="engineer")  # engineers do not manage environments
    assert engineer.code == 1 and "HTTP 403" in engineer.err and len(engineer.err.splitlines()) == 1
    assert not Environment.objects.filter(slug="x").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["image", "frobnicate"],
        ["gate", "check", "--image", "x@1"],
        ["image", "show", "no-at-sign"],
        ["env", "create", "qa", "--tier", "galaxy"],
        ["image", "register", "/nonexistent.yaml", "--version", "1"],
        ["image", "register", CONTRACT, "--version", "1", "--artifact", "nocolon"],
        ["--url", "http://x", "env", "list"],  # a URL without a token
        ["--url", "ftp://x", "--token", "t", "env", "list"],
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, live_server):
    done = run_rf(*argv)
    assert done.code == 2, done
    assert done.err.startswith("rf: error: ") and len(done.err.splitlines()) == 1 and "Traceback" not in done.err


def test_another_tenants_image_is_not_found_and_unchanged(remote, tenant_a, tenant_b, ubuntu_contract):
    from tests.factories.images import register

    theirs = register(tenant_b, ubuntu_contract, "9.9.9")
    for argv in (["image", "show", "ubuntu-2204-base@9.9.9"], ["image", "revoke", "ubuntu-2204-base@9.9.9",
                 "--reason", "x"], ["sbom", "import", "--image", "ubuntu-2204-base@9.9.9", SBOM_OLD]):  # fmt: skip
        done = remote(*argv)
        assert done.code == 1 and done.err == "rf: error: no image 'ubuntu-2204-base@9.9.9'\n", done
    gate = remote("gate", "check", "--image", "ubuntu-2204-base@9.9.9", "--env", "prod")
    assert gate.code == 1 and "HTTP 400 not_found" in gate.err
    theirs.refresh_from_db()
    assert theirs.status == "published" and not Upload.objects.filter(version=theirs).exists()
    bravo = remote("image", "show", "ubuntu-2204-base@9.9.9", role="bravo")
    assert bravo.code == 0 and bravo.out.startswith("ubuntu-2204-base@9.9.9 ")


def test_server_commands_are_refused_in_remote_mode(live_server, tokens):
    done = run_rf("--url", live_server.url, "--token", tokens["admin"], "org", "create", "x")
    assert done.code == 2 and "a server command; run it on the server" in done.err


def test_a_profile_selects_url_and_token(live_server, tokens, tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(f'default = "ci"\n[profiles.ci]\nurl = "{live_server.url}"\ntoken_env = "MY_TOKEN"\n'
                    f'[profiles.other]\nurl = "http://127.0.0.1:9"\ntoken = "x"\n')  # fmt: skip
    monkeypatch.setenv("QLRF_CONFIG", str(path))
    monkeypatch.setenv("MY_TOKEN", tokens["admin"])
    assert run_rf("env", "list").out.splitlines()[0].split() == ["slug", "name", "tier", "signature", "policy"]
    assert "connection refused" in run_rf("--profile", "other", "env", "list").err
    monkeypatch.setenv("QLRF_PROFILE", "missing")
    done = run_rf("env", "list")
    assert done.code == 2 and "no profile 'missing'" in done.err


def test_completion_script_completes_commands_and_verbs(tmp_path):
    import shutil
    import subprocess

    script = run_rf("completion", "bash").out
    assert "complete -o default -F _rf_complete rf" in script
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    probe = script + '\nCOMP_WORDS=(rf image pr); COMP_CWORD=2; _rf_complete; echo "${COMPREPLY[*]}"\n'
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.stdout.split() == ["promote"]
