"""The generic tenant-isolation suite every API endpoint's test class inherits (STYLE.md "one generic API test base").

A subclass names the router ``basename``, the ``model``, how to ``make`` an object in an organisation and the payloads
to create and update one. The base then proves, for that endpoint: anonymous is 401; a member of A at any role lists
only A's objects; B's objects are 404 to get, patch and delete and stay unchanged; creating into B is refused and writes
nothing; and each role gets exactly the permissions of the role table.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.tenancy.choices import RoleChoices
from apps.tenancy.roles import ACTION_PERMISSIONS, role_permissions
from tests.conftest import client_for

REGISTERED_TEST_CLASSES: dict[str, type] = {}


def role_may(role: str, scope: str, action: str) -> bool:
    """What the role table says ``role`` may do (the expectation every endpoint is held to)."""
    codename = ACTION_PERMISSIONS[scope].get(action)
    return codename is not None and codename in role_permissions(role)


@pytest.mark.django_db
class TenantAPITests:
    basename: str = ""
    model = None
    writable = True  # False for read-only endpoints (405 on writes)
    deletable = True
    lookup_field = "pk"
    update_payload: dict = {}
    delete_status = 204

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.basename:
            REGISTERED_TEST_CLASSES[cls.basename] = cls

    # --- to override -------------------------------------------------------------------------------------------
    def make(self, tenant):
        """Create one object of this endpoint in ``tenant`` (directly, as fixtures do)."""
        raise NotImplementedError

    def create_payload(self, tenant) -> dict:
        """A valid POST body creating an object in ``tenant``."""
        raise NotImplementedError

    # --- helpers -----------------------------------------------------------------------------------------------
    def list_url(self) -> str:
        return reverse(f"{self.basename}-list")

    def detail_url(self, obj) -> str:
        return reverse(f"{self.basename}-detail", args=[getattr(obj, self.lookup_field)])

    def scope(self) -> str:
        return self.model.permission_scope

    def organization_of(self, obj):
        return obj if self.model.__name__ == "Organization" else obj.organization

    def _ids(self, response) -> set:
        body = response.json()
        rows = body["results"] if isinstance(body, dict) and "results" in body else body
        return {str(row["id"]) for row in rows}

    def count_in(self, tenant) -> int:
        if self.model.__name__ == "Organization":
            return self.model.objects.filter(pk=tenant.organization.pk).count()
        return self.model.objects.filter(organization=tenant.organization).count()

    # --- the suite ---------------------------------------------------------------------------------------------
    def test_anonymous_is_401(self, api_client, tenant_a):
        obj = self.make(tenant_a)
        assert api_client.get(self.list_url()).status_code == 401
        assert api_client.get(self.detail_url(obj)).status_code == 401

    @pytest.mark.parametrize("role", RoleChoices.values)
    def test_list_shows_only_own_tenant(self, role, tenant_a, tenant_b):
        mine, theirs = self.make(tenant_a), self.make(tenant_b)
        response = client_for(tenant_a.users[role]).get(self.list_url(), {"limit": 1000})
        assert response.status_code == 200
        ids = self._ids(response)
        assert str(theirs.pk) not in ids
        assert (str(mine.pk) in ids) is role_may(role, self.scope(), "view")
        visible_b = self.model.objects.filter(pk__in=ids).exclude(
            **(
                {"pk": tenant_a.organization.pk}
                if self.model.__name__ == "Organization"
                else {"organization": tenant_a.organization}
            )
        )
        assert visible_b.count() == 0

    @pytest.mark.parametrize("role", RoleChoices.values)
    def test_other_tenant_object_is_404(self, role, tenant_a, tenant_b):
        theirs = self.make(tenant_b)
        client = client_for(tenant_a.users[role])
        before = self.model.objects.filter(pk=theirs.pk).values().get()
        assert client.get(self.detail_url(theirs)).status_code == 404
        if self.writable and self.update_payload:
            assert client.patch(self.detail_url(theirs), self.update_payload, format="json").status_code == 404
        if self.deletable:
            assert client.delete(self.detail_url(theirs)).status_code == 404
        assert self.model.objects.filter(pk=theirs.pk).values().get() == before

    @pytest.mark.parametrize("role", RoleChoices.values)
    def test_create_into_other_tenant_is_refused(self, role, tenant_a, tenant_b):
        before = self.count_in(tenant_b)
        payload = self.create_payload(tenant_b) if self.writable else {"organization": tenant_b.organization.slug}
        response = client_for(tenant_a.users[role]).post(self.list_url(), payload, format="json")
        assert response.status_code in ((400, 403, 404) if self.writable else (405,))
        assert "code" in response.json()
        assert self.count_in(tenant_b) == before

    @pytest.mark.parametrize("role", RoleChoices.values)
    def test_role_permissions_match_role_table(self, role, tenant_a):
        client = client_for(tenant_a.users[role])
        obj = self.make(tenant_a)
        can_view = role_may(role, self.scope(), "view")
        assert client.get(self.detail_url(obj)).status_code == (200 if can_view else 404)
        if not self.writable:
            assert client.post(self.list_url(), {}, format="json").status_code in (403, 405)
            return
        before = self.count_in(tenant_a)
        response = client.post(self.list_url(), self.create_payload(tenant_a), format="json")
        expected = 201 if role_may(role, self.scope(), "add") else 403
        assert response.status_code == expected, response.content
        assert self.count_in(tenant_a) == before + (1 if expected == 201 else 0)
        if self.update_payload:
            response = client.patch(self.detail_url(obj), self.update_payload, format="json")
            expected = (200 if role_may(role, self.scope(), "change") else 403) if can_view else 404
            assert response.status_code == expected, response.content
        if self.deletable:
            response = client.delete(self.detail_url(obj))
            expected = (self.delete_status if role_may(role, self.scope(), "delete") else 403) if can_view else 404
            assert response.status_code == expected, response.content
