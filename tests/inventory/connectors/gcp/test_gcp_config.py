"""GCP connector registration, config schema, client construction and credentials (service-account key and ADC)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization
from google.auth import jwt
from google.oauth2 import service_account

from apps.inventory.connectors.base import ConnectorError, Scope, get_connector_class
from apps.inventory.connectors.gcp import CONFIG_SCHEMA, GcpConnector

VALIDATOR = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
SERVICE_ACCOUNT = "qlrf-scanner@acme-prod.iam.gserviceaccount.com"


def test_registered_under_its_slug():
    assert get_connector_class("gcp") is GcpConnector
    assert (GcpConnector.slug, GcpConnector.label) == ("gcp", "Google Cloud")


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(CONFIG_SCHEMA)
    assert CONFIG_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert CONFIG_SCHEMA["additionalProperties"] is False


def test_schema_accepts_a_full_config():
    config = {
        "projects": ["acme-prod", "example.com:acme-legacy"],
        "image_projects": ["acme-images", "debian-cloud"],
        "api_endpoint": "http://127.0.0.1:8089",
        "timeout": 10,
        "retry_deadline": 0.5,
    }
    assert list(VALIDATOR.iter_errors(config)) == []


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({}, []),
        ({"projects": []}, ["projects"]),
        ({"projects": ["Acme-Prod"]}, ["projects", 0]),
        ({"projects": ["short"]}, ["projects", 0]),
        ({"projects": ["acme-prod", "acme-prod"]}, ["projects"]),
        ({"projects": ["acme-prod"], "regions": ["us-east1"]}, []),
        ({"projects": ["acme-prod"], "image_projects": ["acme_images"]}, ["image_projects", 0]),
        ({"projects": ["acme-prod"], "api_endpoint": "127.0.0.1:8089"}, ["api_endpoint"]),
        ({"projects": ["acme-prod"], "timeout": 0}, ["timeout"]),
        ({"projects": ["acme-prod"], "retry_deadline": -1}, ["retry_deadline"]),
    ],
)
def test_schema_rejects(config, path):
    errors = list(VALIDATOR.iter_errors(config))

    assert [list(error.absolute_path) for error in errors] == [path]


def test_defaults_and_retry_policy():
    connector = GcpConnector({"projects": ["acme-prod"]})

    assert connector.options.timeout == 30.0
    assert connector.options.retry.timeout == 60.0
    assert connector.options.kwargs() == {"timeout": 30.0, "retry": connector.options.retry}


def test_all_clients_use_rest_and_the_configured_endpoint(compute, make_connector):
    clients = make_connector(["acme-prod"]).clients()

    built = [getattr(clients, name) for name in clients.__dataclass_fields__]
    assert len(built) == 7
    assert {type(client.transport).__name__.endswith("RestTransport") for client in built} == {True}
    assert {client.api_endpoint for client in built} == {compute.endpoint}
    assert make_connector(["acme-prod"]).clients() is not clients  # one set per connector instance


def assert_signed_by(header: str, key) -> None:
    token = header.removeprefix("Bearer ")
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    claims = jwt.decode(token, certs={"3f1c0ffee": pem}, verify=True)
    assert claims["iss"] == claims["sub"] == SERVICE_ACCOUNT
    assert claims["scope"] == "https://www.googleapis.com/auth/compute.readonly"


def test_service_account_key_secret_signs_the_requests(
    compute, make_connector, service_account_secret, service_account_key
):
    compute.add_image("acme-prod", "golden-x-v1", created="2024-01-01T00:00:00.000+00:00")
    connector = make_connector(["acme-prod"], secret=service_account_secret, anonymous=False)

    images = list(connector.iter_images(Scope("acme-prod")))

    assert [i.name for i in images] == ["golden-x-v1"]
    assert isinstance(connector.clients().images._transport._credentials, service_account.Credentials)
    assert len(compute.auth) == 1
    assert_signed_by(compute.auth[0], service_account_key)
    assert compute.count(r"^/token$") == 0  # self-signed JWT: no token exchange


def test_application_default_credentials_when_no_secret(
    compute, make_connector, service_account_secret, service_account_key, tmp_path, monkeypatch
):
    key_file = tmp_path / "adc.json"
    key_file.write_text(service_account_secret, encoding="utf-8")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    connector = make_connector(["acme-prod"], secret=None, anonymous=False)

    assert connector.test_connection() == "Google Cloud: images readable in 1 project(s)"
    assert_signed_by(compute.auth[0], service_account_key)


def test_missing_application_default_credentials(make_connector, tmp_path, monkeypatch):
    missing = tmp_path / "none.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(missing))
    connector = make_connector(["acme-prod"], secret=None, anonymous=False)

    with pytest.raises(ConnectorError) as caught:
        connector.test_connection()

    assert str(caught.value) == f"no application default credentials found: File {missing} was not found."


def test_secret_of_another_kind_is_refused(make_connector):
    secret = json.dumps({"type": "authorized_user", "client_id": "x", "refresh_token": "y"})
    connector = make_connector(["acme-prod"], secret=secret, anonymous=False)

    with pytest.raises(ConnectorError) as caught:
        connector.clients()

    assert str(caught.value) == 'the GCP secret is not a service-account key (no "type": "service_account")'
