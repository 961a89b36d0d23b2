"""The sweep of stored originals no row names (ADR 016): orphans past the grace go, anything a row names stays."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from apps.compliance.models import Upload
from apps.compliance.services import upload_store_and_parse
from apps.compliance.services.sweep import upload_originals_sweep
from apps.compliance.tasks import upload_originals_sweep_task
from qlrf.errors import DocumentRejected
from tests.compliance.conftest import fixture_bytes, ubuntu_version

pytestmark = pytest.mark.django_db

SBOM = "sbom/spdx/spdx-examples-example11.spdx.json"
TWO_DAYS = 2 * 24 * 3600


def stored_files(media_root) -> set[str]:
    return {str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()}


def age(media_root, name: str, seconds: int = TWO_DAYS) -> None:
    then = time.time() - seconds
    os.utime(media_root / name, (then, then))


class Rollback(Exception):
    pass


def test_an_original_whose_row_an_outer_transaction_rolled_back_is_swept(tenant_a, media_root):
    version = ubuntu_version(tenant_a)
    before = stored_files(media_root)
    with pytest.raises(Rollback), transaction.atomic():
        upload, created = upload_store_and_parse(
            actor=tenant_a.users["engineer"], version=version, kind="sbom", data=fixture_bytes(SBOM)
        )
        assert created
        raise Rollback  # a caller's transaction undoes the row after the service returned
    assert not Upload.objects.exists()
    orphan = upload.file.name
    assert stored_files(media_root) == before | {orphan}  # the file outlived its row: the sweep's job
    assert upload_originals_sweep() == []  # younger than the grace: its row may still be on its way
    age(media_root, orphan)
    assert upload_originals_sweep() == [orphan]
    assert stored_files(media_root) == before
    assert upload_originals_sweep() == []  # nothing left to do


def test_originals_rows_name_are_kept_whatever_their_age_or_status(tenant_a, media_root):
    version = ubuntu_version(tenant_a)
    accepted, _ = upload_store_and_parse(actor=None, version=version, kind="sbom", data=fixture_bytes(SBOM))
    with pytest.raises(DocumentRejected):
        upload_store_and_parse(actor=None, version=version, kind="sbom", data=b'{"not": "an sbom"}')
    rejected = Upload.objects.get(status="rejected")
    assert rejected.file.name  # a refusal keeps its original, like an acceptance
    elsewhere = default_storage.save("evidence/alpha/pack.zip", ContentFile(b"not an upload"))
    for name in stored_files(media_root):
        age(media_root, name)
    orphan = default_storage.save("uploads/beta/" + "0" * 64, ContentFile(b"orphan"))
    age(media_root, orphan)
    before = stored_files(media_root)

    assert upload_originals_sweep_task() == 1
    assert stored_files(media_root) == before - {orphan}
    assert {accepted.file.name, rejected.file.name, elsewhere} <= stored_files(media_root)


def test_the_grace_is_a_setting_and_fresh_orphans_wait_for_it(tenant_a, media_root, settings):
    orphan = default_storage.save("uploads/alpha/" + "1" * 64, ContentFile(b"orphan"))
    age(media_root, orphan, seconds=2 * 3600)
    settings.QLRF_UPLOAD_SWEEP_GRACE_MINUTES = 3 * 60
    assert upload_originals_sweep() == []
    settings.QLRF_UPLOAD_SWEEP_GRACE_MINUTES = 60
    assert upload_originals_sweep() == [orphan]
    assert upload_originals_sweep(grace=timedelta(0)) == []


def test_an_empty_storage_is_nothing_to_sweep(media_root):
    assert not media_root.exists() or not any(media_root.rglob("*"))
    assert upload_originals_sweep(grace=timedelta(0)) == []
