"""Every tenancy endpoint through the generic isolation suite, plus what is particular to each."""

import itertools

import pytest
from django.urls import reverse

from apps.tenancy.models import ApiToken, AuditEvent, Environment, Membership, Organization, Project, Site
from apps.tenancy.services import token_create
from tests.api_base import TenantAPITests
from tests.conftest import client_for
from tests.factories import EnvironmentFactory, ProjectFactory, SiteFactory, UserFactory

_seq = itertools.count()


class TestOrganizationAPI(TenantAPITests):
    basename = "organization"
    model = Organization
    writable = False
    deletable = False
    lookup_field = "slug"

    def make(self, tenant):
        return tenant.organization


class TestProjectAPI(TenantAPITests):
    basename = "project"
    model = Project
    update_payload = {"description": "changed"}

    def make(self, tenant):
        return ProjectFactory(organization=tenant.organization)

    def create_payload(self, tenant):
        n = next(_seq)
        return {"organization": tenant.organization.slug, "name": f"New {n}", "slug": f"new-{n}"}


class TestEnvironmentAPI(TenantAPITests):
    basename = "environment"
    model = Environment
    update_payload = {"name": "Renamed"}

    def make(self, tenant):
        return EnvironmentFactory(organization=tenant.organization)

    def create_payload(self, tenant):
        n = next(_seq)
        return {"organization": tenant.organization.slug, "name": f"Env {n}", "slug": f"e-{n}", "tier": "prod"}


class TestSiteAPI(TenantAPITests):
    basename = "site"
    model = Site
    update_payload = {"region": "us-east-2"}

    def make(self, tenant):
        return SiteFactory(organization=tenant.organization)

    def create_payload(self, tenant):
        n = next(_seq)
        return {"organization": tenant.organization.slug, "name": f"S {n}", "slug": f"s-{n}", "kind": "datacenter"}


class TestMembershipAPI(TenantAPITests):
    basename = "membership"
    model = Membership
    update_payload = {"role": "operator"}

    def make(self, tenant):
        return Membership.objects.create(organization=tenant.organization, user=UserFactory(), role="viewer")

    def create_payload(self, tenant):
        # A project member given an organisation-wide role: only people who already belong may be added.
        user, project = UserFactory(), ProjectFactory(organization=tenant.organization)
        Membership.objects.create(organization=tenant.organization, user=user, project=project, role="viewer")
        return {"organization": tenant.organization.slug, "user": user.username, "role": "viewer"}

    def count_in(self, tenant) -> int:
        return Membership.objects.filter(organization=tenant.organization, project__isnull=True).count()


class TestApiTokenAPI(TenantAPITests):
    basename = "api-token"
    model = ApiToken

    def make(self, tenant):
        token, _ = token_create(actor=None, organization=tenant.organization, name=f"t{next(_seq)}", role="viewer")
        return token

    def create_payload(self, tenant):
        return {"organization": tenant.organization.slug, "name": f"ci-{next(_seq)}", "role": "engineer"}


class TestAuditEventAPI(TenantAPITests):
    basename = "audit-event"
    model = AuditEvent
    writable = False
    deletable = False

    def make(self, tenant):
        return AuditEvent.objects.filter(organization=tenant.organization).first()


@pytest.mark.django_db
class TestTenancyAPIParticulars:
    def test_environment_policy_defaults_from_tier(self, tenant_a):
        client = client_for(tenant_a.users["admin"])
        url = reverse("environment-list")
        prod = client.post(url, {"name": "P", "slug": "p", "tier": "prod"}, format="json")
        dev = client.post(url, {"name": "D", "slug": "d", "tier": "dev"}, format="json")
        assert prod.status_code == 201 and prod.json()["signature_policy"] == "enforce"
        assert dev.status_code == 201 and dev.json()["signature_policy"] == "warn"
        assert prod.json()["organization"] == tenant_a.organization.slug  # defaulted: the caller has one org

    def test_duplicate_slug_is_400_with_code_and_nothing_written(self, tenant_a):
        client = client_for(tenant_a.users["admin"])
        ProjectFactory(organization=tenant_a.organization, slug="dup")
        before = Project.objects.count()
        response = client.post(reverse("project-list"), {"name": "x", "slug": "dup"}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "unique"
        assert Project.objects.count() == before

    def test_unknown_role_is_refused(self, tenant_a):
        client = client_for(tenant_a.users["admin"])
        before = Membership.objects.count()
        response = client.post(
            reverse("membership-list"), {"user": UserFactory().username, "role": "god"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_choice"
        assert response.json()["errors"][0]["path"] == "/role"
        assert Membership.objects.count() == before

    def test_membership_project_outside_organization_is_refused(self, tenant_a, tenant_b):
        client = client_for(tenant_a.users["admin"])
        foreign = ProjectFactory(organization=tenant_b.organization)
        before = Membership.objects.count()
        response = client.post(
            reverse("membership-list"),
            {"user": UserFactory().username, "role": "viewer", "project": foreign.slug},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "/project"
        assert Membership.objects.count() == before

    def test_token_is_shown_once_and_never_listed(self, tenant_a):
        client = client_for(tenant_a.users["admin"])
        created = client.post(reverse("api-token-list"), {"name": "ci", "role": "engineer"}, format="json").json()
        assert created["token"].startswith("qlrf_")
        listed = client.get(reverse("api-token-list")).json()["results"]
        assert [row["token"] for row in listed if row["name"] == "ci"] == [None]
        assert created["token"] not in str(ApiToken.objects.filter(name="ci").values().get())
