"""Failures of the Compute API become a readable ScopeFailed for that project only (or ConnectorError on a check)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from apps.inventory.connectors.base import ConnectorError, Scope, ScopeFailed
from apps.inventory.connectors.gcp import GcpConnector

API = "/compute/v1/projects"
DENIED = "Required 'compute.images.list' permission for 'projects/acme-denied'"
UNAUTHENTICATED = "Request had invalid authentication credentials. Expected OAuth 2 access token."
UNAVAILABLE = "The service is currently unavailable."
QUOTA = "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'."
TRUNCATED = '{"kind": "compute#instanceAggregatedList", "items": {"zones/us-central1-a": {"instances": [{"kind": "com'


@pytest.fixture
def two_projects(compute):
    """acme-prod with one image and one machine; acme-denied, which the credentials may not read."""
    compute.add_image("acme-prod", "golden-x-v1", created="2024-01-01T00:00:00.000+00:00")
    disk = compute.add_disk("acme-prod", "europe-west4-a", "vm-1", source_image="global/images/golden-x-v1")
    compute.add_instance("acme-prod", "europe-west4-a", "vm-1", disk=disk)
    compute.fail(r"/projects/acme-denied/", 403, DENIED)
    return compute


def failure(iterator) -> ScopeFailed:
    with pytest.raises(ScopeFailed) as caught:
        list(iterator)
    return caught.value


def test_forbidden_project_fails_alone(two_projects, make_connector):
    connector = make_connector(["acme-prod", "acme-denied"])

    images_error = failure(connector.iter_images(Scope("acme-denied")))
    assets_error = failure(connector.iter_assets(Scope("acme-denied")))
    images = list(connector.iter_images(Scope("acme-prod")))
    assets = list(connector.iter_assets(Scope("acme-prod")))

    assert images_error.scope == Scope("acme-denied")
    assert images_error.reason == f"HTTP 403 Forbidden on GET {API}/acme-denied/global/images: {DENIED}"
    assert str(images_error) == f"acme-denied: {images_error.reason}"
    assert (
        assets_error.reason == f"HTTP 403 Forbidden on GET {API}/acme-denied/aggregated/instanceGroupManagers: {DENIED}"
    )
    assert [i.name for i in images] == ["golden-x-v1"]
    assert [(a.name, a.region, a.image_ref) for a in assets] == [
        ("vm-1", "europe-west4", "projects/acme-prod/global/images/golden-x-v1")
    ]
    assert two_projects.count(r"/acme-denied/global/images$") == 1  # 403 is not retried


def test_unauthenticated_is_a_readable_scope_failure(compute, make_connector, service_account_secret):
    compute.fail(r"/global/images", 401, UNAUTHENTICATED)
    connector = make_connector(["acme-prod"], secret=service_account_secret, anonymous=False)

    error = failure(connector.iter_images(Scope("acme-prod")))

    assert error.reason == f"HTTP 401 Unauthorized on GET {API}/acme-prod/global/images: {UNAUTHENTICATED}"
    assert compute.count(r"/global/images$") == 3  # google-auth re-signs its token and tries again, twice


def test_unauthenticated_anonymous_credentials(compute, make_connector):
    compute.fail(r"/global/images", 401, UNAUTHENTICATED)

    error = failure(make_connector(["acme-prod"]).iter_images(Scope("acme-prod")))

    assert error.reason == "authentication failed: Anonymous credentials cannot be refreshed."


@pytest.mark.parametrize(("status", "message"), [(429, QUOTA), (503, UNAVAILABLE)])
def test_throttled_then_answered_is_retried(two_projects, make_connector, status, message):
    two_projects.fail(r"/acme-prod/global/images", status, message, times=1)
    two_projects.fail(r"/acme-prod/aggregated/instances\?", status, message, times=1)

    connector = make_connector(["acme-prod"])
    images = list(connector.iter_images(Scope("acme-prod")))
    assets = list(connector.iter_assets(Scope("acme-prod")))

    assert [i.name for i in images] == ["golden-x-v1"]
    assert [a.name for a in assets] == ["vm-1"]
    assert two_projects.count(r"/acme-prod/global/images$") == 2
    assert two_projects.count(r"/acme-prod/aggregated/instances$") == 2


def test_persistent_503_gives_up_at_the_retry_deadline(two_projects, make_connector):
    two_projects.fail(r"/aggregated/instances", 503, UNAVAILABLE)
    connector = make_connector(["acme-prod"], retry_deadline=0.4)

    started = time.monotonic()
    error = failure(connector.iter_assets(Scope("acme-prod")))
    elapsed = time.monotonic() - started

    expected = f"gave up after retrying: HTTP 503 ServiceUnavailable on GET {API}/acme-prod/aggregated/instances: "
    assert error.reason == expected + UNAVAILABLE
    assert two_projects.count(r"/aggregated/instances$") >= 2
    assert elapsed < 3


def test_truncated_json_fails_the_scope(two_projects, make_connector):
    two_projects.respond_raw(r"/aggregated/instances", TRUNCATED)

    error = failure(make_connector(["acme-prod"]).iter_assets(Scope("acme-prod")))

    assert error.reason.startswith("malformed response from the Compute API: Failed to load JSON")


def test_truncated_second_page_fails_the_scope_after_the_first(compute, make_connector):
    for name in ("vm-1", "vm-2", "vm-3"):
        compute.add_instance("acme-prod", "us-east1-b", name)
    compute.respond_raw(r"/aggregated/instances\?pageToken=2", TRUNCATED)

    seen: list[str] = []
    with pytest.raises(ScopeFailed) as caught:
        for asset in make_connector(["acme-prod"]).iter_assets(Scope("acme-prod")):
            seen.append(asset.name)

    assert seen == ["vm-1", "vm-2"]
    assert caught.value.reason.startswith("malformed response from the Compute API")


def test_truncated_image_list_fails_the_scope(compute, make_connector):
    compute.respond_raw(r"/global/images", '{"kind": "compute#imageList", "items": [{"name": "ima')

    error = failure(make_connector(["acme-prod"]).iter_images(Scope("acme-prod")))

    assert error.reason.startswith("malformed response from the Compute API")


def test_unreachable_zone_fails_the_scope_instead_of_hiding_its_machines(two_projects, make_connector):
    message = "Scope 'zones/europe-west4-b' is unreachable."
    data = [{"key": "scope", "value": "zones/europe-west4-b"}]
    two_projects.scopes["acme-prod"].append("zones/europe-west4-b")
    two_projects.warnings[("acme-prod", "zones/europe-west4-b")] = {
        "code": "UNREACHABLE",
        "message": message,
        "data": data,
    }

    error = failure(make_connector(["acme-prod"]).iter_assets(Scope("acme-prod")))

    assert error.reason == f"zones/europe-west4-b is unreachable: {message}"


def test_unknown_scope_is_refused(make_connector):
    error = failure(make_connector(["acme-prod"]).iter_images(Scope("acme-other")))

    assert error.reason == "not a project of this connector"


def test_connection_check_reads_one_page_per_project(two_projects, make_connector):
    connector = make_connector(["acme-prod"], image_projects=["acme-images"])

    assert connector.test_connection() == "Google Cloud: images readable in 2 project(s)"
    assert [(path, q) for _, path, q in two_projects.log] == [
        (f"{API}/acme-prod/global/images", {"maxResults": "1"}),
        (f"{API}/acme-images/global/images", {"maxResults": "1"}),
    ]


def test_connection_check_names_the_refused_project(two_projects, make_connector):
    with pytest.raises(ConnectorError) as caught:
        make_connector(["acme-prod", "acme-denied"]).test_connection()

    assert (
        str(caught.value) == f"project acme-denied: HTTP 403 Forbidden on GET {API}/acme-denied/global/images: {DENIED}"
    )
    assert not isinstance(caught.value, ScopeFailed)


def test_connection_check_on_a_closed_port(make_connector):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = make_connector(["acme-prod"], api_endpoint=f"http://127.0.0.1:{port}")

    with pytest.raises(ConnectorError) as caught:
        connector.test_connection()

    assert str(caught.value).startswith("project acme-prod: cannot reach the Compute API: ConnectionError")


def test_bad_secret_fails_every_scope_without_echoing_it(compute):
    secret = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nTOPSECRET'
    connector = GcpConnector({"projects": ["acme-prod"], "api_endpoint": compute.endpoint}, secret)

    error = failure(connector.iter_images(Scope("acme-prod")))
    with pytest.raises(ConnectorError) as caught:
        connector.test_connection()

    assert error.reason == "the GCP secret is not JSON (expected a service-account key file)"
    assert str(caught.value) == error.reason
    assert "TOPSECRET" not in error.reason
    assert compute.log == []


def test_service_account_key_without_private_key(compute):
    secret = json.dumps({"type": "service_account", "client_email": "a@acme-prod.iam.gserviceaccount.com"})
    connector = GcpConnector({"projects": ["acme-prod"], "api_endpoint": compute.endpoint}, secret)

    with pytest.raises(ConnectorError) as caught:
        connector.test_connection()

    assert str(caught.value) == "the GCP service-account key cannot be loaded: missing private_key, token_uri"
