"""Canonical GCP references, zones, states and versions (expected values written by hand)."""

from __future__ import annotations

import pytest

from apps.inventory.connectors.gcp import normalise_image_ref
from apps.inventory.connectors.gcp_refs import (
    image_family_of,
    is_family_ref,
    normalise_resource_ref,
    normalise_state,
    parse_image_version,
    project_of,
    region_of_zone,
)

CANONICAL = "projects/debian-cloud/global/images/debian-12-bookworm-v20240110"
FAMILY = "projects/p/global/images/family/ubuntu-2204"
SAME_IMAGE = [
    "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20240110",
    "https://compute.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20240110",
    "https://compute.googleapis.com/compute/beta/projects/debian-cloud/global/images/debian-12-bookworm-v20240110",
    "https://www.googleapis.com/compute/alpha/projects/debian-cloud/global/images/debian-12-bookworm-v20240110",
    "http://127.0.0.1:8089/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20240110",
    "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20240110?alt=json",
    "projects/debian-cloud/global/images/debian-12-bookworm-v20240110",
    "/projects/debian-cloud/global/images/debian-12-bookworm-v20240110",
    " projects/debian-cloud/global/images/debian-12-bookworm-v20240110\n",
]


@pytest.mark.parametrize("ref", SAME_IMAGE)
def test_every_form_of_one_image_is_canonical(ref):
    assert normalise_image_ref(ref) == CANONICAL
    assert normalise_image_ref(normalise_image_ref(ref)) == CANONICAL
    assert is_family_ref(ref) is False


def test_projectless_form_takes_the_given_project():
    assert normalise_image_ref("global/images/golden-web-v1-1-0", project="acme-images") == (
        "projects/acme-images/global/images/golden-web-v1-1-0"
    )
    assert normalise_image_ref(f"{CANONICAL}", project="acme-images") == CANONICAL  # an explicit project wins


@pytest.mark.parametrize(
    "ref",
    [
        "https://www.googleapis.com/compute/v1/projects/p/global/images/family/ubuntu-2204",
        "https://compute.googleapis.com/compute/beta/projects/p/global/images/family/ubuntu-2204",
        "projects/p/global/images/family/ubuntu-2204",
    ],
)
def test_family_references_keep_their_family_shape(ref):
    assert normalise_image_ref(ref) == FAMILY
    assert is_family_ref(ref) is True
    assert image_family_of(ref) == "ubuntu-2204"


def test_projectless_family_reference():
    assert normalise_image_ref("global/images/family/ubuntu-2204", project="p") == FAMILY
    assert image_family_of(CANONICAL) == ""


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "debian-12-bookworm-v20240110",
        "global/images/golden-web-v1-1-0",  # no project given
        "projects/acme-prod/global/snapshots/db-snap",
        "projects/acme-prod/zones/us-east1-b/disks/web-1",
        "projects/debian-cloud/global/images/",
        "projects/debian-cloud/global/images/family/",
        "projects/debian-cloud/global/images/a/b",
        "projects/debian-cloud/global/images/debian-12-bookworm-v20240110/",
    ],
)
def test_non_image_references_are_refused(ref):
    with pytest.raises(ValueError):
        normalise_image_ref(ref)


def test_resource_refs_lose_host_version_and_query():
    link = "https://www.googleapis.com/compute/v1/projects/acme-prod/zones/us-central1-a/instanceGroupManagers/web-mig"
    assert normalise_resource_ref(link) == "projects/acme-prod/zones/us-central1-a/instanceGroupManagers/web-mig"
    assert normalise_resource_ref("") == ""
    assert project_of(link) == "acme-prod"
    assert project_of("global/images/x") == ""


@pytest.mark.parametrize(
    ("zone", "region"),
    [
        ("us-east1-b", "us-east1"),
        ("europe-west4-a", "europe-west4"),
        ("me-central2-c", "me-central2"),
        ("https://www.googleapis.com/compute/v1/projects/acme-prod/zones/asia-southeast1-a", "asia-southeast1"),
        ("us-central1", "us-central1"),
    ],
)
def test_region_of_zone(zone, region):
    assert region_of_zone(zone) == region


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("RUNNING", "running"),
        ("TERMINATED", "stopped"),
        ("STOPPED", "stopped"),
        ("SUSPENDED", "suspended"),
        ("STOPPING", "stopped"),
        ("SUSPENDING", "suspended"),
        ("PROVISIONING", "running"),
        ("STAGING", "running"),
        ("REPAIRING", "running"),
        ("running", "running"),
        ("", "unknown"),
        ("HIBERNATING", "unknown"),
    ],
)
def test_states(status, state):
    assert normalise_state(status) == state


@pytest.mark.parametrize(
    ("name", "labels", "version"),
    [
        ("debian-9-stretch-v20190514", {}, "20190514"),
        ("golden-web-v1-4-2", {}, "1.4.2"),
        ("golden-web-v1-4-2", {"version": "1_5_0"}, "1.5.0"),
        ("golden-web", {"version": "v2-0"}, "2.0"),
        ("golden-web", {"image-version": "3-1-4"}, "3.1.4"),
        ("golden-web-v3", {"version": "release-candidate"}, "release-candidate"),
        ("image-1", {}, ""),
        ("image-1-dev", {"env": "dev"}, ""),
    ],
)
def test_image_versions(name, labels, version):
    assert parse_image_version(name, labels) == version
