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
