"""Portal and admin pages go through the one door: a member of A never sees B."""

import pytest
from django.urls import reverse

from apps.tenancy.models import AuditEvent, Project
from tests.factories import EnvironmentFactory, ProjectFactory, SiteFactory

pytestmark = pytest.mark.django_db


def _populate(tenant, tag):
    EnvironmentFactory(organization=tenant.organization, name=f"env-{tag}")
    SiteFactory(organization=tenant.organization, name=f"site-{tag}")
    ProjectFactory(organization=tenant.organization, name=f"project-{tag}")


def test_login_required(client):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["viewer", "operator", "engineer", "admin"])
def test_dashboard_shows_only_own_tenant(client, tenant_a, tenant_b, role):
    _populate(tenant_a, "alpha-only")
    _populate(tenant_b, "bravo-only")
    client.force_login(tenant_a.users[role])
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert "env-alpha-only" in body and "site-alpha-only" in body and "project-alpha-only" in body
    assert "bravo" not in body.lower()
    # choosing the other tenant explicitly changes nothing
    body = client.get(reverse("portal:dashboard"), {"org": "bravo"}).content.decode()
    assert "bravo" not in body.lower()


def test_other_tenant_organization_page_is_404(client, tenant_a, tenant_b):
    client.force_login(tenant_a.users["admin"])
    assert client.get(reverse("portal:organization-detail", args=["alpha"])).status_code == 200
    assert client.get(reverse("portal:organization-detail", args=["bravo"])).status_code == 404


@pytest.mark.parametrize("model", ["project", "environment", "site", "membership", "auditevent", "apitoken"])
def test_admin_changelist_shows_only_own_tenant(client, tenant_a, tenant_b, model):
    _populate(tenant_a, "alpha-only")
    _populate(tenant_b, "bravo-only")
    client.force_login(tenant_a.users["admin"])
    response = client.get(reverse(f"admin:tenancy_{model}_changelist"))
    assert response.status_code == 200
    assert "bravo" not in response.content.decode().lower()


def test_admin_change_page_of_other_tenant_is_not_found(client, tenant_a, tenant_b):
    theirs = ProjectFactory(organization=tenant_b.organization)
    client.force_login(tenant_a.users["admin"])
    response = client.get(reverse("admin:tenancy_project_change", args=[theirs.pk]))
    assert response.status_code == 302  # Django admin redirects to the index for an object it cannot find
    assert client.post(reverse("admin:tenancy_project_delete", args=[theirs.pk]), {"post": "yes"}).status_code == 302
    assert Project.objects.filter(pk=theirs.pk).exists()


def test_admin_foreign_key_choices_are_restricted(client, tenant_a, tenant_b):
    client.force_login(tenant_a.users["admin"])
    body = client.get(reverse("admin:tenancy_project_add")).content.decode()
    assert ">Alpha<" in body and "Bravo" not in body


def test_admin_create_goes_through_the_service(client, tenant_a):
    client.force_login(tenant_a.users["admin"])
    response = client.post(
        reverse("admin:tenancy_project_add"),
        {"organization": tenant_a.organization.pk, "name": "Via admin", "slug": "via-admin", "description": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(slug="via-admin")
    assert AuditEvent.objects.filter(action="tenancy.project.create", object_id=str(project.pk)).exists()


def test_admin_viewer_cannot_change(client, tenant_a):
    user = tenant_a.users["viewer"]
    user.is_staff = True
    user.save()
    project = ProjectFactory(organization=tenant_a.organization)
    client.force_login(user)
    assert client.get(reverse("admin:tenancy_project_changelist")).status_code == 200
    response = client.post(
        reverse("admin:tenancy_project_change", args=[project.pk]),
        {"organization": tenant_a.organization.pk, "name": "Hacked", "slug": project.slug, "description": ""},
    )
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name != "Hacked"
