"""Pages that are not real API answers — HTML with 200, an empty 200, a truncated body, JSON/XML of the wrong shape,
throttling that never ends — reach each connector through its real SDK. Each fails its scope with a reason; the run
ends partial; no asset is removed or re-seen; the drift snapshot written after the scan keeps the fleet's true totals.
"""

from __future__ import annotations

import pytest
from django.db.models import Sum
from google.auth.credentials import AnonymousCredentials

from apps.drift.models import DriftSnapshot, DriftSnapshotRow
from apps.inventory.connectors.base import Scope
from apps.inventory.services import connector_build
from tests.inventory.platforms.test_four_platforms import (
    ACCOUNT_A,
    SUB_A,
    SUB_B,
    assert_nothing_lost,
    aws_config,
    azure_config,
    counts,
    create,
    gcp_config,
    register_golden,
    scan,
    snapshot_of,
)

pytestmark = pytest.mark.django_db

HTML = "<!DOCTYPE html><html><head><title>Sign in to continue</title></head><body>Proxy login</body></html>"
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
INSTANCES_XML = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="{EC2_NS}">'
    "<requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId><reservationSet/></DescribeInstancesResponse>"
)
AWS_FAULTS = {
    "html-200": (200, HTML),
    "empty-200": (200, ""),
    "truncated": (200, INSTANCES_XML[:90]),
    "wrong-shape": (
        200,
        f'<DescribeImagesResponse xmlns="{EC2_NS}"><requestId>59dbff89-0000</requestId>'
        "<imagesSet/></DescribeImagesResponse>",
    ),
    "no-request-id": (
        200,
        f'<DescribeInstancesResponse xmlns="{EC2_NS}"><reservationSet/></DescribeInstancesResponse>',
    ),
    "throttled": (
        503,
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>'
        "<Message>Request limit exceeded.</Message></Error></Errors><RequestID>5d1e</RequestID></Response>",
    ),
}
JSON_FAULTS = {
    "html-200": HTML,
    "empty-200": "",
    "truncated": '{"value": [{"id": "/subscriptions/',
    "wrong-shape": '{"values": []}',
    "not-an-object": "[]",
}


def snapshot_total(run) -> int:
    """Machines the drift snapshot written after ``run`` counts (every cell's total)."""
    snapshot = DriftSnapshot.objects.filter(scan_run=run).latest("taken_at")
    return DriftSnapshotRow.objects.filter(snapshot=snapshot).aggregate(n=Sum("total"))["n"] or 0


def faulty_scan(connector, capture, **kwargs):
    with capture(execute=True):  # the snapshot is written on commit, as without a worker
        return scan(connector, **kwargs)


@pytest.mark.parametrize("fault", sorted(AWS_FAULTS))
def test_aws_page_that_is_not_an_answer_fails_the_scope_and_removes_nothing(
    tenant_a, ubuntu_contract, moto, credential_env, django_capture_on_commit_callbacks, fault
):
    register_golden(tenant_a, ubuntu_contract, moto=moto)
    connector = create(tenant_a, "aws", "aws-prod", aws_config(moto), credential_env["aws"])
    first = faulty_scan(connector, django_capture_on_commit_callbacks)
    assert counts(first)[:2] == ("succeeded", 6)
    before = snapshot_of(connector)

    impl = connector_build(connector)
    status, body = AWS_FAULTS[fault]
    hook = moto.kit.canned_response(status, body.encode())
    impl._client("ec2", Scope(ACCOUNT_A, "eu-west-1")).meta.events.register("before-send.ec2.DescribeInstances", hook)
    second = faulty_scan(connector, django_capture_on_commit_callbacks, connector_impl=impl)

    failed = f"{ACCOUNT_A}/eu-west-1"
    assert (second.status, second.removed, second.failed_scopes) == ("partial", 0, [failed])
    reason = second.scopes[failed]["error"]
    assert reason and "\n" not in reason and "Traceback" not in reason and not reason.endswith(":")
    assert second.error.startswith(f"{failed}: ")
    assert_nothing_lost(connector, failed, before, first, second)
    assert snapshot_total(second) == snapshot_total(first) == 6


def _serve_b(arm, body: str) -> None:
    """Subscription B's Compute lists answer 200 with ``body`` (ARM's content type), A is served as usual."""
    from werkzeug import Response

    from tests.inventory.connectors.azure.conftest import compute_path

    for collection in ("virtualMachineScaleSets", "virtualMachines"):
        arm.server.expect_request(compute_path(SUB_B, collection)).respond_with_response(
            Response(body, status=200, content_type="application/json; charset=utf-8")
        )


@pytest.mark.parametrize("fault", sorted(JSON_FAULTS))
def test_azure_page_that_is_not_an_answer_fails_the_subscription_and_removes_nothing(
    tenant_a, ubuntu_contract, arm, credential_env, azure_credential, worlds, django_capture_on_commit_callbacks, fault
):
    register_golden(tenant_a, ubuntu_contract)
    worlds.serve_subscription_a(arm)
    worlds.serve_subscription_b(arm)
    connector = create(tenant_a, "azure", "azure-prod", azure_config(arm, [SUB_A, SUB_B]), credential_env["azure"])
    injected = {"credential": azure_credential}
    first = faulty_scan(connector, django_capture_on_commit_callbacks, connector_kwargs=injected)
    assert counts(first)[:2] == ("succeeded", 8)
    before = snapshot_of(connector)

    arm.server.clear()
    worlds.serve_subscription_a(arm)
    _serve_b(arm, JSON_FAULTS[fault])
    second = faulty_scan(connector, django_capture_on_commit_callbacks, connector_kwargs=injected)

    assert (second.status, second.removed, second.failed_scopes) == ("partial", 0, [SUB_B])
    reason = second.scopes[SUB_B]["error"]
    assert reason and "\n" not in reason and "Traceback" not in reason and not reason.endswith(":")
    assert_nothing_lost(connector, SUB_B, before, first, second)
    assert snapshot_total(second) == snapshot_total(first) == 8


@pytest.mark.parametrize("fault", sorted(JSON_FAULTS))
def test_gcp_page_that_is_not_an_answer_fails_the_project_and_removes_nothing(
    tenant_a, ubuntu_contract, compute, credential_env, django_capture_on_commit_callbacks, fault
):
    register_golden(tenant_a, ubuntu_contract, compute=compute)
    connector = create(
        tenant_a, "gcp", "gcp-prod", gcp_config(compute, ["acme-prod", "acme-edge"]), credential_env["gcp"]
    )
    injected = {"credentials": AnonymousCredentials()}
    first = faulty_scan(connector, django_capture_on_commit_callbacks, connector_kwargs=injected)
    assert counts(first)[:2] == ("succeeded", 7)
    before = snapshot_of(connector)

    compute.respond_raw(r"/projects/acme-edge/aggregated/instances", JSON_FAULTS[fault])
    second = faulty_scan(connector, django_capture_on_commit_callbacks, connector_kwargs=injected)

    assert (second.status, second.removed, second.failed_scopes) == ("partial", 0, ["acme-edge"])
    reason = second.scopes["acme-edge"]["error"]
    assert reason and "\n" not in reason and "Traceback" not in reason and not reason.endswith(":")
    assert_nothing_lost(connector, "acme-edge", before, first, second)
    assert snapshot_total(second) == snapshot_total(first) == 7
