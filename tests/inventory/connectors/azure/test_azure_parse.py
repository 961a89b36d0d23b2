"""The pure rules of the Azure connector: id normalisation, image-reference resolution, power states."""

from __future__ import annotations

import pytest
from azure.mgmt.compute.models import ImageReference, InstanceViewStatus

from apps.inventory.connectors.azure import normalise_resource_id
from apps.inventory.connectors.azure_parse import ResolvedImage, power_state, resolve_image_reference, resource_id_part

SUB = "00000000-0000-0000-0000-0000000000aa"
DEFINITION = f"/subscriptions/{SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/gold/images/web"
LOWER_DEFINITION = DEFINITION.lower()


def test_normalise_resource_id_is_case_insensitive():
    upper = f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG-IMAGES/PROVIDERS/MICROSOFT.COMPUTE/GALLERIES/GOLD/IMAGES/WEB/"
    assert normalise_resource_id(upper) == normalise_resource_id(DEFINITION) == LOWER_DEFINITION
    assert normalise_resource_id(None) == ""


def test_resource_id_part_matches_keys_in_any_case():
    assert resource_id_part(DEFINITION.upper(), "resourceGroups") == "RG-IMAGES"
    assert resource_id_part(DEFINITION, "galleries") == "gold"
    assert resource_id_part(DEFINITION, "virtualMachineScaleSets") == ""


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        # on latest: the instance's exactVersion is the truth
        (
            ImageReference(id=f"{DEFINITION}/versions/latest", exact_version="1.1.0"),
            ResolvedImage(f"{LOWER_DEFINITION}/versions/1.1.0", "1.1.0"),
        ),
        (
            ImageReference(id=f"{DEFINITION}/Versions/LATEST", exact_version="1.0.0"),
            ResolvedImage(f"{LOWER_DEFINITION}/versions/1.0.0", "1.0.0"),
        ),
        # the bare image definition
        (
            ImageReference(id=DEFINITION, exact_version="2.3.4"),
            ResolvedImage(f"{LOWER_DEFINITION}/versions/2.3.4", "2.3.4"),
        ),
        # a pinned version wins over a (stale) exactVersion
        (
            ImageReference(id=f"{DEFINITION}/versions/1.0.0", exact_version="1.0.0"),
            ResolvedImage(f"{LOWER_DEFINITION}/versions/1.0.0", "1.0.0"),
        ),
        # latest with no exactVersion cannot be resolved: no ref, never "latest"
        (ImageReference(id=f"{DEFINITION}/versions/latest"), ResolvedImage("", "", f"{DEFINITION}/versions/latest")),
        # shared and community galleries
        (
            ImageReference(
                shared_gallery_image_id="/SharedGalleries/abc-GOLD/Images/Web/Versions/latest", exact_version="3.0.0"
            ),
            ResolvedImage("/sharedgalleries/abc-gold/images/web/versions/3.0.0", "3.0.0"),
        ),
        (
            ImageReference(community_gallery_image_id="/CommunityGalleries/pub-1/Images/web", exact_version="0.9.1"),
            ResolvedImage("/communitygalleries/pub-1/images/web/versions/0.9.1", "0.9.1"),
        ),
        # a managed image is concrete as it is (no gallery segment: never given a /versions suffix)
        (
            ImageReference(id=f"/subscriptions/{SUB}/resourceGroups/RG/providers/Microsoft.Compute/images/Golden-1"),
            ResolvedImage(f"/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.compute/images/golden-1", ""),
        ),
        # marketplace: the URN with the exact version
        (
            ImageReference(
                publisher="Canonical",
                offer="ubuntu-24_04-lts",
                sku="server",
                version="latest",
                exact_version="24.04.202601010",
            ),
            ResolvedImage("canonical:ubuntu-24_04-lts:server:24.04.202601010", "24.04.202601010"),
        ),
        (
            ImageReference(publisher="Canonical", offer="ubuntu-24_04-lts", sku="server", version="latest"),
            ResolvedImage("", "", "Canonical:ubuntu-24_04-lts:server:latest"),
        ),
        (None, ResolvedImage()),
    ],
)
def test_resolve_image_reference(reference, expected):
    assert resolve_image_reference(reference) == expected


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["ProvisioningState/succeeded", "PowerState/running"], ("running", "PowerState/running")),
        (["ProvisioningState/succeeded", "PowerState/deallocated"], ("deallocated", "PowerState/deallocated")),
        (["PowerState/deallocating"], ("deallocated", "PowerState/deallocating")),
        (["PowerState/stopped"], ("stopped", "PowerState/stopped")),
        (["PowerState/starting"], ("running", "PowerState/starting")),
        (["PowerState/unknown"], ("unknown", "PowerState/unknown")),
        (["ProvisioningState/creating"], ("unknown", "")),
        ([], ("unknown", "")),
    ],
)
def test_power_state(codes, expected):
    assert power_state([InstanceViewStatus(code=code) for code in codes]) == expected
