"""Failures inside a subscription become ScopeFailed (never a raw SDK exception); the SDK's own retries are used."""

from __future__ import annotations

import socket
import time

import pytest
from azure.core.exceptions import ClientAuthenticationError
from werkzeug import Response

from apps.inventory.connectors.base import ConnectorError, Scope, ScopeFailed

SUB_A = "00000000-0000-0000-0000-0000000000aa"
SUB_B = "00000000-0000-0000-0000-0000000000bb"
VMSS_A = f"/subscriptions/{SUB_A}/providers/Microsoft.Compute/virtualMachineScaleSets"
VMS_A = f"/subscriptions/{SUB_A}/providers/Microsoft.Compute/virtualMachines"
EXPIRED = (
    'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", '
    'error_description="The access token expiry UTC time is earlier than current UTC time."'
)


def _fail(connector, subscription=SUB_A) -> ScopeFailed:
    with pytest.raises(ScopeFailed) as info:
        list(connector.iter_assets(Scope(account=subscription)))
    assert info.value.scope == Scope(account=subscription)
    return info.value


def test_throttled_429_is_retried_by_the_sdk(fleet_a, make_connector):
    throttled = fleet_a.json(
        {"error": {"code": "TooManyRequests", "message": "The request is being throttled."}},
        status=429,
        headers={"Retry-After": "0"},
    )
    fleet_a.once(VMSS_A, throttled)

    assets = list(make_connector().iter_assets(Scope(account=SUB_A)))

    assert len(assets) == 6
    statuses = [response.status_code for request, response in fleet_a.server.log if request.path == VMSS_A]
    assert statuses == [429, 200, 200]  # the throttled first page, its retry, then the nextLink page


def test_retry_after_one_second_is_honoured(arm, make_connector):
    arm.once(VMS_A, arm.json({"error": {"code": "TooManyRequests", "message": "slow down"}}, 429, {"Retry-After": "1"}))
    arm.list(VMS_A, [])
    arm.list(VMSS_A, [])

    started = time.monotonic()
    assert list(make_connector().iter_assets(Scope(account=SUB_A))) == []
    assert time.monotonic() - started >= 1.0
    assert [r.status_code for q, r in arm.server.log if q.path == VMS_A][:2] == [429, 200]


def test_persistent_503_fails_the_scope_after_retry_total(arm, make_connector):
    arm.list(VMSS_A, [])
    arm.error(VMS_A, 503, "ServiceUnavailable", "The service is temporarily unavailable.")

    failure = _fail(make_connector(retry_total=2))

    assert failure.reason == "Azure API error (HTTP 503): ServiceUnavailable: The service is temporarily unavailable."
    assert len(arm.requests_to(VMS_A)) == 3  # first try + retry_total retries


def test_expired_token_401_names_authentication(arm, make_connector):
    arm.error(
        VMSS_A,
        401,
        "ExpiredAuthenticationToken",
        "The access token expiry UTC time '11/26/2026 19:00:00' is earlier than current UTC time.",
        headers={"WWW-Authenticate": EXPIRED},
    )

    failure = _fail(make_connector())

    assert failure.reason.startswith("authentication failed (HTTP 401): ExpiredAuthenticationToken: ")
    assert str(failure).startswith(f"{SUB_A}: authentication failed")


def test_truncated_json_body_fails_the_scope(arm, make_connector):
    arm.list(VMSS_A, [])
    arm.server.expect_request(VMS_A).respond_with_data(
        '{"value": [{"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMa',
        content_type="application/json",
    )

    failure = _fail(make_connector())

    assert failure.reason.startswith("malformed response from Azure: ")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[1, 2]", f"unexpected response shape from Azure: GET {VMSS_A} answered a list"),
        ("{}", f"unexpected response shape from Azure: GET {VMSS_A}: the answer has no value (not a real API"),
        ('{"value": {}}', f"unexpected response shape from Azure: GET {VMSS_A} has a value that is not a list"),
        ('{"value": ["x"]}', "unexpected response shape from Azure: AttributeError: 'str' object has no attribute "),
    ],
)
def test_json_in_a_wrong_shape_fails_the_scope(arm, make_connector, body, reason):
    arm.server.expect_request(VMSS_A).respond_with_data(body, content_type="application/json")

    failure = _fail(make_connector())

    assert failure.reason.startswith(reason)


def test_one_subscription_refused_the_other_scanned(fleet_a, make_connector):
    forbidden = "The client does not have authorization to perform action 'Microsoft.Compute/virtualMachines/read'."
    fleet_a.error(
        f"/subscriptions/{SUB_B}/providers/Microsoft.Compute/virtualMachineScaleSets",
        403,
        "AuthorizationFailed",
        forbidden,
    )
    connector = make_connector(subscriptions=[SUB_B, SUB_A])

    results, failures = {}, {}
    for scope in connector.scopes():  # the way the sync service walks scopes
        try:
            results[scope.key] = [asset.name for asset in connector.iter_assets(scope)]
        except ScopeFailed as exc:
            failures[exc.scope.key] = exc.reason

    assert failures == {SUB_B: f"access refused (HTTP 403): AuthorizationFailed: {forbidden}"}
    assert sorted(results) == [SUB_A]
    assert len(results[SUB_A]) == 6


def test_unreachable_endpoint_fails_the_scope(make_connector):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    failure = _fail(make_connector(base_url=f"https://127.0.0.1:{port}", retry_total=1))

    assert failure.reason.startswith("cannot reach the Azure endpoint: ")


def test_connection_verify_true_rejects_the_self_signed_server(arm, make_connector):
    arm.list(VMSS_A, [])

    failure = _fail(make_connector(connection_verify=True, retry_total=0))

    assert failure.reason.startswith("cannot reach the Azure endpoint: ")
    assert "CERTIFICATE_VERIFY_FAILED" in failure.reason or "certificate verify failed" in failure.reason
    assert arm.requests_to(VMSS_A) == []


def test_read_timeout_fails_the_scope(arm, make_connector):
    def slow(request):
        time.sleep(0.6)
        return Response('{"value": []}', content_type="application/json")

    arm.server.expect_request(VMSS_A).respond_with_handler(slow)

    started = time.monotonic()
    failure = _fail(make_connector(read_timeout=0.2, retry_total=0))

    assert failure.reason.startswith("no usable response from the Azure endpoint: ")
    assert time.monotonic() - started < 0.6
    time.sleep(0.5)  # let the single-threaded server finish the slow handler before the next test


def test_images_failures_are_scope_failures_too(arm, make_connector):
    arm.error(f"/subscriptions/{SUB_A}/providers/Microsoft.Compute/galleries", 403, "AuthorizationFailed", "no")

    with pytest.raises(ScopeFailed) as info:
        list(make_connector().iter_images(Scope(account=SUB_A)))

    assert info.value.reason == "access refused (HTTP 403): AuthorizationFailed: no"


def test_test_connection_reads_one_page_per_subscription(fleet_a, make_connector):
    message = make_connector().test_connection()

    assert message == "Azure: 1 subscription(s) reachable, 2 VM(s) on the first page(s)"
    assert [r.args.get("$skiptoken") for r in fleet_a.requests_to(VMS_A)] == [None]


def test_test_connection_raises_connector_error(fleet_a, make_connector):
    fleet_a.error(
        f"/subscriptions/{SUB_B}/providers/Microsoft.Compute/virtualMachines", 403, "AuthorizationFailed", "no"
    )

    with pytest.raises(ConnectorError) as info:
        make_connector(subscriptions=[SUB_A, SUB_B]).test_connection()

    assert not isinstance(info.value, ScopeFailed)
    assert str(info.value) == f"{SUB_B}: access refused (HTTP 403): AuthorizationFailed: no"


class _RefusedCredential:
    """A credential whose identity provider refuses the secret, as azure-identity reports it."""

    def get_token(self, *scopes, **kwargs):
        raise ClientAuthenticationError("AADSTS7000222: The provided client secret keys for app '2222' are expired.")

    def get_token_info(self, *scopes, options=None):
        return self.get_token(*scopes)


def test_a_credential_that_cannot_get_a_token_fails_the_scope(arm, make_connector):
    from apps.inventory.connectors.azure import AzureConnector

    config = make_connector().config
    connector = AzureConnector(config, secret="expired", credential=_RefusedCredential())

    failure = _fail(connector)

    assert failure.reason == (
        "authentication failed: AADSTS7000222: The provided client secret keys for app '2222' are expired."
    )
    assert arm.requests_to(VMSS_A) == []
