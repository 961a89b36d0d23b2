"""A token's rights are its own, and the username space of other organisations is no oracle (issue #20)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.shortcuts import get_perms

from apps.tenancy.models import ApiToken, Membership
from apps.tenancy.services import membership_add, membership_remove, membership_update, token_create
from qlrf.errors import Conflict
from tests.conftest import client_for
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _token_membership(tenant, role="viewer"):
    token, raw = token_create(actor=None, organization=tenant.organization, name=f"ci-{role}", role=role)
    return token, raw, Membership.objects.get(user=token.service_user)


def test_service_account_membership_cannot_be_raised_through_the_api(tenant_a):
    token, raw, membership = _token_membership(tenant_a)
    admin = client_for(tenant_a.users["admin"])
    response = admin.patch(reverse("membership-detail", args=[membership.pk]), {"role": "admin"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "service_account_membership"
    membership.refresh_from_db()
    assert membership.role == "viewer"
    assert set(get_perms(token.service_user, tenant_a.organization)) == {"view_data"}
    # The token still acts as a viewer: it cannot create a project.
    as_token = client_for(None)
    as_token.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert as_token.post(reverse("project-list"), {"name": "x", "slug": "x"}, format="json").status_code == 403


def test_service_account_membership_cannot_be_deleted_so_no_live_token_is_left_without_rights(tenant_a):
    token, raw, membership = _token_membership(tenant_a, role="engineer")
    admin = client_for(tenant_a.users["admin"])
    response = admin.delete(reverse("membership-detail", args=[membership.pk]))
    assert response.status_code == 409
    assert response.json() == {
        "code": "service_account_membership",
        "detail": "this membership belongs to an API token's service account; revoke the token instead",
    }
    assert Membership.objects.filter(pk=membership.pk).exists()
    as_token = client_for(None)
    as_token.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert as_token.get(reverse("project-list")).status_code == 200
    # Revoking the token is the way: afterwards it authenticates no more.
    assert admin.post(reverse("api-token-revoke", args=[token.pk])).status_code == 200
    assert as_token.get(reverse("project-list")).status_code == 401


def test_viewer_is_refused_before_the_service_account_question_is_answered(tenant_a):
    _, _, membership = _token_membership(tenant_a)
    viewer = client_for(tenant_a.users["viewer"])
    response = viewer.patch(reverse("membership-detail", args=[membership.pk]), {"role": "admin"}, format="json")
    assert response.status_code == 403


def test_services_refuse_service_account_memberships_even_for_the_installation(tenant_a):
    _, _, membership = _token_membership(tenant_a)
    with pytest.raises(Conflict):
        membership_update(actor=None, membership=membership, role="admin")
    with pytest.raises(Conflict):
        membership_remove(actor=None, membership=membership)


def test_service_account_cannot_be_given_a_second_membership(tenant_a):
    token, _, _ = _token_membership(tenant_a)
    project = ProjectFactory(organization=tenant_a.organization)
    admin = client_for(tenant_a.users["admin"])
    response = admin.post(
        reverse("membership-list"),
        {"user": token.service_user.username, "role": "admin", "project": project.slug},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "unknown_user"
    assert Membership.objects.filter(user=token.service_user).count() == 1


def test_admin_can_add_a_member_of_the_organisation_at_another_scope(tenant_a):
    user, project = UserFactory(), ProjectFactory(organization=tenant_a.organization)
    Membership.objects.create(organization=tenant_a.organization, user=user, role="viewer")
    admin = client_for(tenant_a.users["admin"])
    response = admin.post(
        reverse("membership-list"), {"user": user.username, "role": "engineer", "project": project.slug}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["user"] == user.username


def _add(client, username):
    return client.post(reverse("membership-list"), {"user": username, "role": "admin"}, format="json")


def test_other_organisations_users_and_nonexistent_users_get_the_same_answer(tenant_a, tenant_b):
    admin = client_for(tenant_a.users["admin"])
    before = Membership.objects.count()
    elsewhere = _add(admin, tenant_b.users["admin"].username)
    unattached = _add(admin, UserFactory().username)
    missing = _add(admin, "no-such-user-anywhere")
    assert elsewhere.status_code == unattached.status_code == missing.status_code == 400
    assert elsewhere.json() == unattached.json() == missing.json()
    assert missing.json()["code"] == "unknown_user"
    assert missing.json()["errors"][0]["path"] == "/user"
    assert Membership.objects.count() == before


def test_existence_leaves_no_timing_oracle(tenant_a, tenant_b):
    """Both answers run the same statements, in the same order, touching the same tables: the work done — and so the
    time taken — cannot tell an existing user of another organisation from a name nobody has.

    Checked on the statements themselves (with the looked-up name masked), not with a stopwatch: wall-clock minima
    moved by 30 % on a loaded CI machine while the work was identical."""
    admin = client_for(tenant_a.users["admin"])
    existing, missing = tenant_b.users["viewer"].username, "nobody-at-all"
    _add(admin, "warm-up")  # first-request costs (sessions, permission caches) out of the comparison
    shapes = {}
    for name in (existing, missing):
        with CaptureQueriesContext(connection) as queries:
            response = _add(admin, name)
        assert response.status_code == 400
        shapes[name] = [query["sql"].replace(name, "?") for query in queries.captured_queries]
    assert shapes[existing] == shapes[missing]
    assert len(shapes[missing]) >= 1


def test_service_calls_cannot_add_another_organisations_user(tenant_a, tenant_b):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        membership_add(
            actor=tenant_a.users["admin"],
            organization=tenant_a.organization,
            user=tenant_b.users["viewer"],
            role="admin",
        )
    assert raised.value.error_dict["user"][0].code == "unknown_user"
    assert not Membership.objects.filter(user=tenant_b.users["viewer"], organization=tenant_a.organization).exists()


def test_admin_hides_other_organisations_users_and_locks_service_account_memberships(client, tenant_a, tenant_b):
    admin_user = tenant_a.users["admin"]
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get("/admin/tenancy/membership/add/").content.decode()
    assert tenant_a.users["viewer"].username in page
    assert tenant_b.users["viewer"].username not in page
    _, _, membership = _token_membership(tenant_a)
    change = client.post(
        f"/admin/tenancy/membership/{membership.pk}/change/",
        {"organization": tenant_a.organization.pk, "user": membership.user_id, "role": "admin"},
    )
    assert change.status_code == 403
    assert client.post(f"/admin/tenancy/membership/{membership.pk}/delete/", {"post": "yes"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == "viewer"
    assert ApiToken.objects.get(service_user=membership.user).revoked_at is None


def _effective(token, organization, project):
    """What the token can do, from the grants restrict() and ensure_permitted read."""
    from apps.tenancy.roles import PERMISSIONS
    from apps.tenancy.services import has_permission

    user = token.service_user
    user.refresh_from_db()
    on_org = {c for c in PERMISSIONS if has_permission(user, c, organization)}
    assert set(get_perms(user, project)) == set(), "a token never holds a project grant"
    assert set(get_perms(user, organization)) == on_org
    return on_org


@pytest.mark.parametrize("role", ["viewer", "operator", "engineer", "admin"])
def test_a_tokens_effective_rights_always_equal_its_recorded_role(tenant_a, role):
    """Every membership mutation path (API, services, the token endpoint) leaves the token's rights its role's."""
    from apps.tenancy.roles import ROLE_PERMISSIONS

    organization = tenant_a.organization
    project = ProjectFactory(organization=organization)
    token, raw, membership = _token_membership(tenant_a, role=role)
    expected = set(ROLE_PERMISSIONS[role])
    assert _effective(token, organization, project) == expected
    admin = client_for(tenant_a.users["admin"])
    url = reverse("membership-detail", args=[membership.pk])
    for other in ("viewer", "operator", "engineer", "admin"):
        response = admin.patch(url, {"role": other}, format="json")
        assert response.status_code == 409, (other, response.content)
        assert admin.put(url, {"role": other}, format="json").status_code in (405, 409)
        with pytest.raises(Conflict):
            membership_update(actor=None, membership=membership, role=other)
        response = admin.post(
            reverse("membership-list"),
            {"user": token.service_user.username, "role": other, "project": project.slug},
            format="json",
        )
        assert response.status_code == 400
        with pytest.raises((Conflict, ValidationError)):
            membership_add(actor=None, organization=organization, user=token.service_user, role=other, project=project)
        # The token's own endpoint cannot retag it either.
        admin.patch(reverse("api-token-detail", args=[token.pk]), {"role": other}, format="json")
        token.refresh_from_db()
        assert token.role == role
        assert _effective(token, organization, project) == expected
    # Deleting the membership is refused everywhere; revoking the token is the way out, and it leaves no rights.
    assert admin.delete(url).status_code == 409
    with pytest.raises(Conflict):
        membership_remove(actor=None, membership=membership)
    assert Membership.objects.get(pk=membership.pk).role == role
    assert _effective(token, organization, project) == expected
    assert admin.post(reverse("api-token-revoke", args=[token.pk])).status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _effective(token, organization, project) == set()
    as_token = client_for(None)
    as_token.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert as_token.get(reverse("project-list")).status_code == 401
