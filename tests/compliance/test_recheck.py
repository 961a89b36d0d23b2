"""Re-check after deploy: every scan flags the running machines whose image has no valid signature."""

import pytest

from apps.compliance.selectors import version_manifest
from apps.compliance.services import signature_verify, signing_key_create
from apps.inventory.services import scan_run_now
from apps.tenancy.models import AuditEvent
from tests.compliance.conftest import rhel_version
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db


def _recheck_events():
    return list(AuditEvent.objects.filter(action="compliance.signature.recheck").order_by("id"))


def test_each_scan_flags_machines_on_unsigned_images(tenant_a, signer, django_capture_on_commit_callbacks):
    version = rhel_version(tenant_a, signer, artifacts=[{"platform": "aws", "image_ref": "ami-rhel"}])
    connector = synthetic(
        tenant_a, count=12, regions={"aws": ["eu-west-1"]}, stopped_ratio=0.0, image_refs={"aws": [["ami-rhel", 1]]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        scan_run_now(actor=None, connector=connector, trigger="cli")
    first = _recheck_events()[-1]
    assert first.changes["after"] == {"unsigned_running_assets": 12, "versions": {str(version): 12}}
    assert first.object_type == "inventory.scanrun"

    signing_key_create(actor=None, organization=tenant_a.organization, name="ci", public_key_pem=signer.public_pem)
    result = signature_verify(
        actor=None, version=version, signature=signer.sign(version_manifest(version)), key=signer.key_id
    )
    assert result.result == "verified"
    with django_capture_on_commit_callbacks(execute=True):
        scan_run_now(actor=None, connector=connector, trigger="cli")
    assert _recheck_events()[-1].changes["after"] == {"unsigned_running_assets": 0, "versions": {}}
