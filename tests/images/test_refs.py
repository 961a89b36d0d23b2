"""Image references compared the way each platform compares them, in one place (apps.images.refs, ADR 012)."""

from __future__ import annotations

import pytest

from apps.images.refs import canonical_uuid, normalise_image_ref

SAME = {
    "aws": ["ami-0abcdef1234567890", "AMI-0ABCDEF1234567890", " ami-0AbCdEf1234567890 "],
    "azure": [
        "/subscriptions/6f1c/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/u/versions/1.0.0",
        "/subscriptions/6F1C/resourcegroups/RG/providers/microsoft.compute/galleries/G/images/U/versions/1.0.0/",
    ],
    "gcp": [
        "https://www.googleapis.com/compute/v1/projects/acme-img/global/images/web-v1",
        "https://compute.googleapis.com/compute/v1/projects/acme-img/global/images/web-v1",
        "https://compute.googleapis.com/compute/beta/projects/acme-img/global/images/web-v1",
        "HTTPS://WWW.GOOGLEAPIS.COM/compute/alpha/projects/acme-img/global/images/web-v1",
        "projects/acme-img/global/images/web-v1",
        "/projects/acme-img/global/images/web-v1",
    ],
    "vsphere": [
        "4211abcd-0000-4000-8000-0000000000f1",
        "4211ABCD-0000-4000-8000-0000000000F1",
        "4211Abcd-0000-4000-8000-0000000000F1",
    ],
}
DIFFERENT = {
    "aws": ["ami-0abcdef1234567890", "ami-0abcdef1234567891"],
    "gcp": ["projects/acme-img/global/images/web-v1", "projects/other/global/images/web-v1"],
    "vsphere": ["4211abcd-0000-4000-8000-0000000000f1", "vsphere:rhel@1.0.0-RC.1", "vsphere:rhel@1.0.0-rc.1"],
}


@pytest.mark.parametrize("platform", sorted(SAME))
def test_every_form_of_one_image_has_one_key(platform):
    keys = {normalise_image_ref(platform, ref) for ref in SAME[platform]}
    assert len(keys) == 1, keys


@pytest.mark.parametrize("platform", sorted(DIFFERENT))
def test_different_images_keep_different_keys(platform):
    refs = DIFFERENT[platform]
    assert len({normalise_image_ref(platform, ref) for ref in refs}) == len(refs)


def test_names_that_are_not_uuids_keep_their_case():
    assert canonical_uuid("vsphere:rhel@1.0.0-RC.1") == "vsphere:rhel@1.0.0-RC.1"
    assert canonical_uuid("Golden-Template") == "Golden-Template"
    assert canonical_uuid("4211ABCD-0000-4000-8000-0000000000F1") == "4211abcd-0000-4000-8000-0000000000f1"


@pytest.mark.django_db
def test_a_machine_reporting_its_template_uuid_in_another_case_is_managed(tenant_a):
    """The registry keeps the UUID as registered (upper case) and the asset as reported; both resolve to one key."""
    from apps.drift.scenarios.load import VSPHERE_TARGET
    from apps.images.models import ImageArtifact
    from apps.images.services import image_artifact_add
    from apps.inventory.services.resolution import ImageResolver, ref_key_for
    from tests.factories.images import UBUNTU, register

    upper = "4211ABCD-0000-4000-8000-0000000000F1"
    version = register(tenant_a, UBUNTU, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "AMI-0ABCDEF123456789"}])
    ami = ImageArtifact.objects.get(version=version)
    assert (ami.image_ref, ami.ref_key) == ("AMI-0ABCDEF123456789", "ami-0abcdef123456789")
    ImageArtifact.objects.filter(pk=ami.pk).delete()
    contract = UBUNTU.rstrip("\n") + "\n" + VSPHERE_TARGET  # a contract that targets vSphere
    version = register(tenant_a, contract, "1.1.0")
    image_artifact_add(actor=None, version=version, platform="vsphere", image_ref=upper)
    artifact = ImageArtifact.objects.get(version=version)
    assert artifact.image_ref == upper and artifact.ref_key == upper.lower()
    resolver = ImageResolver.load(tenant_a.organization)
    assert resolver.resolve("vsphere", ref_key_for("vsphere", upper.lower()))[1] == version.pk
