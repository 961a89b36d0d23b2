"""A revocation inherited by descendants stops at the project wall: refused whole, 403 descendants_out_of_reach."""

import pytest
from django.urls import reverse

from apps.images.models import ImageVersion
from apps.tenancy.services import membership_add
from tests.conftest import client_for
from tests.factories import ProjectFactory, UserFactory
from tests.factories.images import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def lineage(tenant_a, ubuntu_contract, windows_contract):
    """A parent in project P, a child built from it in project Q, and an engineer scoped to P only."""
    org = tenant_a.organization
    mine, theirs = ProjectFactory(organization=org), ProjectFactory(organization=org)
    parent = register(tenant_a, ubuntu_contract, "1.0.0")
    child = register(tenant_a, windows_contract, "2.0.0", parent=str(parent))
    parent.family.project = mine
    parent.family.save()
    child.family.project = theirs
    child.family.save()
    engineer = UserFactory()
    membership_add(actor=None, organization=tenant_a.organization, user=engineer, role="engineer", project=mine)
    return parent, child, engineer, theirs


def _revoke(user, version):
    return client_for(user).post(reverse("image-revoke", args=[version.pk]), {"reason": "CVE"}, format="json")


def test_project_member_cannot_revoke_into_another_project(tenant_a, lineage):
    parent, child, engineer, _ = lineage
    response = _revoke(engineer, parent)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "descendants_out_of_reach"
    assert body["detail"].startswith("1 descendant version(s)")
    assert ImageVersion.objects.filter(revoked_at__isnull=False).count() == 0  # nothing half-revoked


def test_member_with_rights_in_both_projects_revokes_the_whole_lineage(tenant_a, lineage):
    parent, child, engineer, theirs = lineage
    membership_add(actor=None, organization=tenant_a.organization, user=engineer, role="engineer", project=theirs)
    response = _revoke(engineer, parent)
    assert response.status_code == 200, response.json()
    assert {row["id"] for row in response.json()} == {parent.pk, child.pk}


def test_organisation_wide_engineer_revokes_across_projects(tenant_a, lineage):
    parent, child, _, _ = lineage
    assert _revoke(tenant_a.users["engineer"], parent).status_code == 200
    child.refresh_from_db()
    assert child.revoked_at is not None
