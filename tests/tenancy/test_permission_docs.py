"""The role table in docs/security/tenancy.md is generated from the code and stays true (issue #20)."""

import importlib
import inspect

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.tenancy.permission_docs import SERVICE_CHECKS, allowed, render, replace_block
from apps.tenancy.roles import ROLE_ORDER
from apps.tenancy.services import ensure_permitted, membership_add
from tests.factories import ProjectFactory, UserFactory


def _function(dotted):
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def test_the_document_holds_the_generated_table():
    call_command("permission_docs", "--check")


def test_the_check_fails_when_the_table_drifts(tmp_path, monkeypatch):
    from apps.tenancy.management.commands import permission_docs as command

    stale = tmp_path / "tenancy.md"
    stale.write_text(replace_block(command.DOCUMENT.read_text(), render()).replace("P's rows", "✓", 1))
    monkeypatch.setattr(command, "DOCUMENT", stale)
    with pytest.raises(CommandError, match="out of date"):
        call_command("permission_docs", "--check")
    call_command("permission_docs")
    call_command("permission_docs", "--check")


def test_a_document_without_markers_is_refused():
    with pytest.raises(ValueError):
        replace_block("no markers here", render())


@pytest.mark.parametrize("what,dotted,scope,action,checked_on", SERVICE_CHECKS, ids=[s[0] for s in SERVICE_CHECKS])
def test_each_declared_check_is_the_one_the_service_makes(what, dotted, scope, action, checked_on):
    function = _function(dotted)
    source = inspect.getsource(inspect.getmodule(function) if scope == "*" else function)
    if checked_on == "organisation":
        assert f'ensure_permitted(actor, scope="{scope}", action="{action}"' in source
        assert "ensure_permitted_on(" not in source
    elif scope == "*":
        assert "ensure_permitted_on(actor, instance, action)" in source
    else:
        calls = [line for line in source.splitlines() if "ensure_permitted_on(" in line]
        assert calls, f"{dotted} makes no row check"
        assert all(f'"{action}"' in line for line in calls), calls
        assert "ensure_permitted(actor" not in source


@pytest.mark.django_db
@pytest.mark.parametrize("role", [str(r) for r in ROLE_ORDER])
def test_each_cell_is_what_ensure_permitted_answers(tenant_a, role):
    """Every (service, role, scope) cell against the real permission check, with a real membership of that role."""
    organization = tenant_a.organization
    project = ProjectFactory(organization=organization)
    other = ProjectFactory(organization=organization)
    org_user, project_user = UserFactory(), UserFactory()
    membership_add(actor=None, organization=organization, user=org_user, role=role)
    membership_add(actor=None, organization=organization, user=project_user, role=role, project=project)
    for _what, _dotted, scope, action, checked_on in SERVICE_CHECKS:
        if scope == "*":
            continue
        row_project = project if checked_on == "row" else None
        for user, membership in ((org_user, "organisation"), (project_user, "project")):
            expected = allowed(role, scope=scope, action=action, checked_on=checked_on, membership=membership)
            assert _permits(user, scope, action, organization, row_project) is expected, (scope, action, membership)
            # A project grant never reaches another project's rows.
            if membership == "project":
                assert _permits(user, scope, action, organization, other) is False


def _permits(user, scope, action, organization, project):
    from django.core.exceptions import PermissionDenied

    try:
        ensure_permitted(user, scope=scope, action=action, organization=organization, project=project)
    except PermissionDenied:
        return False
    return True


@pytest.mark.django_db
def test_a_project_engineer_publishes_its_projects_version_but_cannot_register_or_upload(tenant_a, ubuntu_contract):
    """The table's claims through the real services, for one project-scoped Engineer."""
    from django.core.exceptions import PermissionDenied

    from apps.compliance.services import upload_store_and_parse
    from apps.images.services import image_version_publish, image_version_register
    from tests.factories.images import register

    organization = tenant_a.organization
    project = ProjectFactory(organization=organization)
    engineer = UserFactory()
    membership_add(actor=None, organization=organization, user=engineer, role="engineer", project=project)
    version = register(tenant_a, ubuntu_contract, "1.0.0", publish=False)
    with pytest.raises(PermissionDenied):  # the family has no project yet: organisation-wide row
        image_version_publish(actor=engineer, version=version)
    version.family.project = project
    version.family.save()
    assert image_version_publish(actor=engineer, version=version).status == "published"
    with pytest.raises(PermissionDenied):
        image_version_register(actor=engineer, organization=organization, contract=ubuntu_contract, version="1.0.1")
    with pytest.raises(PermissionDenied):
        upload_store_and_parse(actor=engineer, version=version, kind="sbom", data=b"{}")
