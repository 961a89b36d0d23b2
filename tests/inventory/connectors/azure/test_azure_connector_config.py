"""AzureConnector registration, config schema, scopes and the azure-identity credential built from the config."""

from __future__ import annotations

import datetime

import pytest
from azure.identity import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jsonschema import Draft202012Validator

from apps.inventory.connectors.azure import AzureConnector, build_credential
from apps.inventory.connectors.base import ConnectorError, Scope, get_connector_class

SUB_A = "00000000-0000-0000-0000-0000000000aa"
SUB_B = "00000000-0000-0000-0000-0000000000bb"
SP = {"tenant_id": "11111111-1111-1111-1111-111111111111", "client_id": "22222222-2222-2222-2222-222222222222"}


def _errors(config):
    return sorted(error.message for error in Draft202012Validator(AzureConnector.config_schema).iter_errors(config))


def test_registered_under_its_slug():
    assert get_connector_class("azure") is AzureConnector
    assert (AzureConnector.slug, AzureConnector.label) == ("azure", "Microsoft Azure")


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(AzureConnector.config_schema)
    assert AzureConnector.config_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert AzureConnector.config_schema["additionalProperties"] is False


def test_schema_accepts_full_and_minimal_configs():
    full = {
        "auth": "certificate",
        **SP,
        "subscriptions": [SUB_A, SUB_B],
        "galleries": [{"resource_group": "rg-images", "gallery": "gold", "subscription": SUB_A}],
        "base_url": "https://management.azure.com",
        "connection_verify": True,
        "connection_timeout": 10,
        "read_timeout": 60,
        "retry_total": 5,
        "retry_backoff_factor": 0.8,
    }
    assert _errors(full) == []
    assert _errors({"auth": "managed_identity", "subscriptions": [SUB_A]}) == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"auth": "managed_identity", "subscriptions": []}, "[] should be non-empty"),
        ({"auth": "managed_identity"}, "'subscriptions' is a required property"),
        (
            {"auth": "password", "subscriptions": [SUB_A]},
            "'password' is not one of ['managed_identity', 'client_secret', 'certificate']",
        ),
        (
            {"auth": "managed_identity", "subscriptions": [SUB_A], "region": "x"},
            "Additional properties are not allowed ('region' was unexpected)",
        ),
        ({"auth": "client_secret", "subscriptions": [SUB_A]}, "'client_id' is a required property"),
        (
            {"auth": "managed_identity", "subscriptions": [SUB_A], "galleries": [{"gallery": "g"}]},
            "'resource_group' is a required property",
        ),
        ({"auth": "managed_identity", "subscriptions": [SUB_A], "retry_total": -1}, "-1 is less than the minimum of 0"),
        (
            {"auth": "managed_identity", "subscriptions": [SUB_A], "connection_verify": "no"},
            "'no' is not of type 'boolean'",
        ),
    ],
)
def test_schema_rejects(config, message):
    assert message in _errors(config)


def test_one_scope_per_subscription():
    connector = AzureConnector({"auth": "managed_identity", "subscriptions": [SUB_A, SUB_B]})
    assert connector.scopes() == [Scope(account=SUB_A), Scope(account=SUB_B)]
    assert [scope.key for scope in connector.scopes()] == [SUB_A, SUB_B]


def _pem_certificate_with_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qlrf-scanner")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem.decode() + cert.public_bytes(serialization.Encoding.PEM).decode()


def test_credentials_are_the_azure_identity_classes():
    assert isinstance(build_credential({"auth": "managed_identity"}, None), ManagedIdentityCredential)
    assert isinstance(build_credential({"auth": "client_secret", **SP}, "s3cret"), ClientSecretCredential)
    assert isinstance(
        build_credential({"auth": "certificate", **SP}, _pem_certificate_with_key()), CertificateCredential
    )


def test_connector_builds_its_credential_once_from_the_secret():
    connector = AzureConnector({"auth": "client_secret", **SP, "subscriptions": [SUB_A]}, secret="s3cret")
    first = connector._credential()
    assert isinstance(first, ClientSecretCredential)
    assert connector._credential() is first


@pytest.mark.parametrize(
    ("config", "secret", "message"),
    [
        (
            {"auth": "client_secret", **SP},
            None,
            "Azure auth 'client_secret' needs a credential reference holding the secret",
        ),
        ({"auth": "certificate", "client_id": "x"}, "pem", "Azure auth 'certificate' needs tenant_id and client_id"),
        ({"auth": "certificate", **SP}, "not a pem", "the Azure certificate secret is not a usable PEM"),
        ({"auth": "kerberos"}, None, "unknown Azure auth kind 'kerberos'"),
    ],
)
def test_credential_errors_are_readable(config, secret, message):
    with pytest.raises(ConnectorError) as info:
        build_credential(config, secret)
    assert str(info.value).startswith(message)
    if secret:
        assert secret not in str(info.value).replace(message, "")
