"""The ``rf`` CLI: subcommands reach the same services; a refusal is one line and a non-zero exit."""

import pytest

from apps.tenancy.models import ApiToken, Membership, Organization
from qlrf.cli import main

pytestmark = pytest.mark.django_db


def test_org_member_token_lifecycle(capsys):
    assert main(["org", "create", "initech", "--name", "Initech"]) == 0
    assert Organization.objects.get(slug="initech").name == "Initech"
    assert main(["member", "add", "initech", "peter", "--role", "engineer"]) == 0
    assert Membership.objects.get(organization__slug="initech", user__username="peter").role == "engineer"
    capsys.readouterr()
    assert main(["token", "create", "initech", "ci", "--role", "engineer", "--days", "30"]) == 0
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("qlrf_")
    assert main(["token", "revoke", "initech", "ci"]) == 0
    assert ApiToken.objects.get(name="ci").revoked_at is not None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["member", "add", "nope", "bob", "--role", "viewer"], "no organization with slug 'nope'"),
        (["member", "add", "acme-x", "bob", "--role", "god"], "unknown role 'god'"),
        (["token", "revoke", "acme-x", "missing"], "has no token named 'missing'"),
        (["org", "create", "acme-x"], "already exists"),
        (["frobnicate"], "unknown command"),
    ],
)
def test_refusals_are_one_readable_line(capsys, argv, message):
    Organization.objects.get_or_create(slug="acme-x", defaults={"name": "X"})
    before = Organization.objects.count(), Membership.objects.count()
    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err
    assert (Organization.objects.count(), Membership.objects.count()) == before


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:////nonexistent/qlrf/db.sqlite3", "is not set up: run ./scripts/up once"),
        ("sqlite:///{tmp}/empty.sqlite3", "is not set up: run ./scripts/up once"),
        ("postgres://postgres@127.0.0.1:1/qlrf", "cannot reach the database:"),
    ],
)
def test_rf_before_setup_says_what_to_do_in_one_line(tmp_path, url, message):
    """``rf`` before ``./scripts/up`` (no database file, an empty one, no server) — one line, no traceback."""
    import os
    import subprocess
    import sys

    (tmp_path / "empty.sqlite3").touch()
    env = {**os.environ, "QLRF_DATABASE_URL": url.format(tmp=tmp_path), "DJANGO_SETTINGS_MODULE": ""}
    env.pop("DJANGO_SETTINGS_MODULE")
    done = subprocess.run(
        [sys.executable, "-m", "qlrf.cli", "org", "create", "acme"], capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rf: error: ") and message in lines[0], done.stderr
