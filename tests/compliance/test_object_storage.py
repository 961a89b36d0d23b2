"""Uploads in object storage (S3 through django-storages, against moto): stored, read back, parsed by jobs, swept.

Every web and worker pod must see the same originals, reports and packs; with ``QLRF_STORAGE_S3_BUCKET`` set they
live in S3 (or an S3-compatible store) instead of the local MEDIA_ROOT. The services only use the storage API, so
the same paths run here against moto's S3.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import boto3
import pytest
from django.urls import reverse
from django.utils import timezone
from moto import mock_aws

from apps.compliance.models import SbomDocument
from apps.compliance.services import upload_job_run, upload_job_submit, upload_jobs, upload_store_and_parse
from apps.compliance.services.sweep import upload_originals_sweep
from tests.compliance.conftest import fixture_bytes, ubuntu_version
from tests.conftest import client_for

BUCKET = "qlrf-originals"
SBOM = "sbom/cyclonedx/syft-scan-alpine-container.cdx.json"


@pytest.fixture
def s3(settings, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": BUCKET, "region_name": "eu-west-1", "default_acl": None,
                            "file_overwrite": True, "object_parameters": {"ServerSideEncryption": "AES256"}},
            },
        }  # fmt: skip
        yield client


def _keys(client) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.mark.django_db
def test_an_upload_is_kept_in_the_bucket_and_downloaded_from_it(s3, tenant_a):
    version = ubuntu_version(tenant_a)
    data = fixture_bytes(SBOM)
    upload, created = upload_store_and_parse(actor=None, version=version, kind="sbom", data=data)
    digest = hashlib.sha256(data).hexdigest()
    assert created and _keys(s3) == [f"uploads/alpha/{digest}"]
    stored = s3.get_object(Bucket=BUCKET, Key=f"uploads/alpha/{digest}")
    assert stored["Body"].read() == data and stored["ServerSideEncryption"] == "AES256"
    download = client_for(tenant_a.users["viewer"]).get(reverse("image-sbom", args=[version.pk]), {"download": "1"})
    assert download.status_code == 200 and b"".join(download.streaming_content) == data
    assert upload_store_and_parse(actor=None, version=version, kind="sbom", data=data)[1] is False  # same bytes


@pytest.mark.django_db
def test_an_upload_job_reads_its_original_from_the_bucket(s3, tenant_a, monkeypatch):
    monkeypatch.setattr(upload_jobs, "task_in_background", lambda *args, **kwargs: None)  # a worker pod runs it
    job = upload_job_submit(
        actor=tenant_a.users["engineer"], version=ubuntu_version(tenant_a), kind="sbom", data=fixture_bytes(SBOM)
    )
    assert _keys(s3) == [job.file.name]
    finished = upload_job_run(job.pk)
    assert finished.status == "succeeded", (finished.error_code, finished.error_detail)
    assert SbomDocument.objects.get(upload=finished.upload).package_count == 16


@pytest.mark.django_db
def test_the_sweep_deletes_orphans_in_the_bucket_and_keeps_what_rows_name(s3, tenant_a):
    upload, _ = upload_store_and_parse(
        actor=None, version=ubuntu_version(tenant_a), kind="sbom", data=fixture_bytes(SBOM)
    )
    s3.put_object(Bucket=BUCKET, Key="uploads/alpha/" + "0" * 64, Body=b"orphan of a rolled-back row")
    deleted = upload_originals_sweep(grace=timedelta(0), now=timezone.now() + timedelta(minutes=5))
    assert deleted == ["uploads/alpha/" + "0" * 64]
    assert _keys(s3) == [upload.file.name]
