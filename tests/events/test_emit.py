"""The outbox: events are validated against contracts/events.schema.json and written in the caller's transaction."""

import pytest
from django.db import transaction

from apps.events.models import OutboxEvent
from apps.events.services import EventSchemaError, emit

pytestmark = pytest.mark.django_db(transaction=True)


def _payload():
    return {"family": "ubuntu-22.04", "version": "2024.06.1", "status": "published"}


def test_emit_writes_a_valid_envelope(tenant_a):
    with transaction.atomic():
        event = emit(organization=tenant_a.organization, type="image.version.published", payload=_payload())
    envelope = OutboxEvent.objects.get(pk=event.pk).envelope()
    assert envelope["type"] == "image.version.published"
    assert envelope["organization"] == "alpha"
    assert envelope["schemaversion"] == 1
    assert envelope["data"] == _payload()
    assert (envelope["specversion"], envelope["source"], envelope["id"]) == ("1.0", "/qlrf/alpha", str(event.pk))
    assert envelope["dataschema"] == "https://qlrf.io/contracts/events.schema.json"
    assert "sequence" not in envelope  # given by the relay when it publishes


def test_event_rolls_back_with_the_data(tenant_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(organization=tenant_a.organization, type="image.version.published", payload=_payload())
        raise RuntimeError("the write failed")
    assert OutboxEvent.objects.count() == 0


def test_emit_outside_a_transaction_is_refused(tenant_a):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        emit(organization=tenant_a.organization, type="image.version.published", payload=_payload())
    assert OutboxEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("type_", "payload", "path"),
    [
        ("image.version.published", {"family": "f", "version": "1", "status": "golden"}, "/data/status"),
        ("image.version.published", {"family": "f", "version": "1"}, "/data"),
        ("scan.finished", {"scan_run": "one", "connector": "c", "status": "succeeded"}, "/data/scan_run"),
        ("asset.discovered", {"platform": "aws", "account": "1", "instance_id": "i", "colour": "red"}, "/data"),
        ("asset.removed", {"platform": "aws", "count": 2}, "/data"),
        ("no.such.type", {}, "/type"),
    ],
)
def test_event_that_fails_its_schema_is_refused(tenant_a, type_, payload, path):
    with pytest.raises(EventSchemaError) as excinfo, transaction.atomic():
        emit(organization=tenant_a.organization, type=type_, payload=payload)
    assert excinfo.value.path == path
    assert OutboxEvent.objects.count() == 0
