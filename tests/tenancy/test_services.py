"""Tenancy services: permissions granted from memberships, audit entries, refusals that change nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from guardian.shortcuts import get_perms

from apps.tenancy.models import AuditEvent, Membership, Organization, Project
from apps.tenancy.roles import ROLE_PERMISSIONS
from apps.tenancy.services import (
    membership_add,
    membership_remove,
    membership_update,
    organization_create,
    project_create,
)
from tests.factories import OrganizationFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["viewer", "operator", "engineer", "admin"])
def test_membership_grants_exactly_the_roles_permissions_on_the_organization(role):
    org, user = OrganizationFactory(), UserFactory()
    membership_add(actor=None, organization=org, user=user, role=role)
    assert set(get_perms(user, org)) == set(ROLE_PERMISSIONS[role])


def test_role_change_and_removal_resync_permissions(tenant_a):
    user = UserFactory()
    membership = membership_add(actor=None, organization=tenant_a.organization, user=user, role="admin")
    membership_pk = membership.pk
    membership_update(actor=None, membership=membership, role="viewer")
    assert set(get_perms(user, tenant_a.organization)) == {"view_data"}
    membership_remove(actor=None, membership=membership)
    assert get_perms(user, tenant_a.organization) == []
    actions = list(AuditEvent.objects.filter(object_id=str(membership_pk)).values_list("action", flat=True))
    assert sorted(actions) == ["tenancy.membership.create", "tenancy.membership.delete", "tenancy.membership.update"]


def test_project_scoped_membership_sees_only_its_project(tenant_a):
    mine, other = ProjectFactory(organization=tenant_a.organization), ProjectFactory(organization=tenant_a.organization)
    user = UserFactory()
    membership_add(actor=None, organization=tenant_a.organization, user=user, role="engineer", project=mine)
    assert list(Project.objects.restrict(user, "view")) == [mine]
    assert list(Organization.objects.restrict(user, "view")) == [tenant_a.organization]
    assert other not in Project.objects.restrict(user, "change")


def test_global_model_permission_does_not_reveal_rows(tenant_a, tenant_b):
    from django.contrib.auth.models import Permission

    user = tenant_a.users["viewer"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_data", "view_project"]))
    ProjectFactory(organization=tenant_b.organization)
    assert not Project.objects.restrict(user, "view").filter(organization=tenant_b.organization).exists()


def test_anonymous_and_inactive_see_nothing(tenant_a):
    from django.contrib.auth.models import AnonymousUser

    ProjectFactory(organization=tenant_a.organization)
    assert Project.objects.restrict(AnonymousUser()).count() == 0
    user = tenant_a.users["admin"]
    user.is_active = False
    assert Project.objects.restrict(user).count() == 0


def test_audit_records_actor_before_and_after(tenant_a):
    actor = tenant_a.users["admin"]
    project = project_create(actor=actor, organization=tenant_a.organization, name="Web", slug="web")
    event = AuditEvent.objects.get(action="tenancy.project.create", object_id=str(project.pk))
    assert event.actor == actor and event.actor_repr == "alpha-admin"
    assert event.changes["after"]["slug"] == "web"
    assert event.organization == tenant_a.organization


def test_audit_events_are_append_only(tenant_a):
    event = AuditEvent.objects.filter(organization=tenant_a.organization).first()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(action="x")


def test_write_by_member_of_another_tenant_is_refused_and_rolled_back(tenant_a, tenant_b):
    before = Project.objects.count(), AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        project_create(actor=tenant_a.users["admin"], organization=tenant_b.organization, name="x", slug="x")
    assert (Project.objects.count(), AuditEvent.objects.count()) == before


def test_duplicate_organization_slug_is_refused(tenant_a):
    before = Organization.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        organization_create(actor=None, name="Other name", slug="alpha")
    assert excinfo.value.error_dict["slug"][0].code == "duplicate_slug"
    assert Organization.objects.count() == before


def test_only_superusers_create_organizations(tenant_a):
    with pytest.raises(PermissionDenied):
        organization_create(actor=tenant_a.users["admin"], name="Nope", slug="nope")
    assert not Organization.objects.filter(slug="nope").exists()


def test_membership_outside_its_organization_is_refused(tenant_a, tenant_b):
    foreign = ProjectFactory(organization=tenant_b.organization)
    before = Membership.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        membership_add(
            actor=None, organization=tenant_a.organization, user=UserFactory(), role="viewer", project=foreign
        )
    assert excinfo.value.error_dict["project"][0].code == "project_outside_org"
    assert Membership.objects.count() == before


def test_unknown_role_and_duplicate_membership_are_refused(tenant_a):
    user = tenant_a.users["viewer"]
    with pytest.raises(ValidationError) as excinfo:
        membership_add(actor=None, organization=tenant_a.organization, user=UserFactory(), role="owner")
    assert excinfo.value.error_dict["role"][0].code == "unknown_role"
    with pytest.raises(ValidationError) as excinfo:
        membership_add(actor=None, organization=tenant_a.organization, user=user, role="admin")
    assert excinfo.value.error_list[0].code == "duplicate_membership"
    assert Membership.objects.get(organization=tenant_a.organization, user=user).role == "viewer"


def test_project_admin_does_not_see_organisation_tokens_or_audit(tenant_a):
    from apps.tenancy.models import ApiToken
    from apps.tenancy.services import token_create

    project = ProjectFactory(organization=tenant_a.organization)
    token_create(actor=None, organization=tenant_a.organization, name="org-ci", role="engineer")
    user = UserFactory()
    membership_add(actor=None, organization=tenant_a.organization, user=user, role="admin", project=project)
    assert ApiToken.objects.restrict(user, "view").count() == 0
    assert AuditEvent.objects.restrict(user, "view").count() == 0
    assert ApiToken.objects.restrict(tenant_a.users["admin"], "view").count() == 1
