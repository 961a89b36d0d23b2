"""API paths accept a trailing slash: the same endpoint, the same answer, no redirect (a POST keeps its body)."""

import pytest

from apps.images.models import ArtifactRule
from tests.conftest import client_for


@pytest.mark.django_db
def test_a_trailing_slash_reaches_the_same_endpoint(tenant_a):
    client = client_for(tenant_a.users["viewer"])

    bare, slashed = client.get("/api/v1/environments"), client.get("/api/v1/environments/")

    assert bare.status_code == slashed.status_code == 200
    assert bare.json() == slashed.json()


@pytest.mark.django_db
def test_a_post_with_a_trailing_slash_keeps_its_body(tenant_a):
    response = client_for(tenant_a.users["engineer"]).post(
        "/api/v1/artifact-rules/", {"name": "tags", "kind": "tags"}, format="json"
    )

    assert response.status_code == 201
    assert ArtifactRule.objects.get().name == "tags"


@pytest.mark.django_db
def test_a_detail_action_path_with_a_slash_and_unknown_paths(tenant_a):
    client = client_for(tenant_a.users["viewer"])

    assert client.get("/api/v1/assets/999999/graph/").status_code == 404  # resolved, then not found as an object
    assert client.get("/api/v1/assets/999999/graph/").json()["code"] == "not_found"
    assert client.get("/api/v1/no-such-thing/").status_code == 404
    assert client.get("/api/v1/environments//").status_code == 200  # several slashes are one
