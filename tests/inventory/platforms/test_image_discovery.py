"""Image discovery through real scans on the Azure (local ARM), GCP (local Compute API) and vSphere (vcsim) fakes:
what is stored per connector, the states compliance needs, canonical regions, rules, one-action registration, sites."""

from __future__ import annotations

import importlib

import pytest
from google.auth.credentials import AnonymousCredentials

from apps.images.choices import ArtifactRuleKindChoices
from apps.images.models import ArtifactRule, ImageArtifact
from apps.images.services import discovered_image_register
from apps.inventory.models import Asset, DiscoveredImage
from apps.inventory.services import connector_create, scan_run_now
from apps.tenancy.models import Site
from tests.factories.images import register

pytestmark = pytest.mark.django_db

four = importlib.import_module("tests.inventory.platforms.test_four_platforms")


def _connector(tenant, platform, name, config, credential_ref):
    return connector_create(
        actor=None,
        organization=tenant.organization,
        platform=platform,
        name=name,
        config=config,
        credential_ref=credential_ref,
    )


def _images(connector) -> dict[str, DiscoveredImage]:
    return {i.name: i for i in DiscoveredImage.objects.filter(connector=connector)}


def serve_galleries(arm, kit) -> None:
    """Subscription A's galleries as the Azure connector suite serves them (with ``$expand=ReplicationStatus``)."""
    sub = kit.SUB_A
    arm.list(kit.compute_path(sub, "galleries"), [kit.gallery(sub, "rg-images", "goldGallery")])
    gold = kit.group_path(sub, "rg-images", "galleries", "goldGallery", "images")
    arm.list(gold, [kit.gallery_image(sub, "rg-images", "goldGallery", "ubuntu-22", "Linux")])
    first = kit.gallery_version(sub, "rg-images", "goldGallery", "ubuntu-22", "1.0.0", ["West Europe", "North Europe"])
    first["properties"]["safetyProfile"] = {"allowDeletionOfReplicatedLocations": False}
    flagged = kit.gallery_version(sub, "rg-images", "goldGallery", "ubuntu-22", "1.1.0", ["West Europe"])
    flagged["tags"] = {"Family": "ubuntu-2204-base", "Version": "1.1.0"}  # the recorded body: reported for a violation
    arm.list(f"{gold}/ubuntu-22/versions", [first, flagged])
    arm.get(f"{gold}/ubuntu-22/versions/1.0.0", kit.with_replication(first, {"West Europe": 100, "North Europe": 35}))
    arm.get(f"{gold}/ubuntu-22/versions/1.1.0", kit.with_replication(flagged, {"West Europe": 100}))


def test_azure_gallery_versions_keep_replication_and_the_policy_flag(
    tenant_a, ubuntu_contract, arm, credential_env, azure_credential, worlds
):
    kit = worlds.azure_kit
    worlds.serve_subscription_a(arm)
    serve_galleries(arm, kit)
    register(tenant_a, ubuntu_contract, "1.1.0")
    ArtifactRule.objects.create(organization=tenant_a.organization, name="tags", kind=ArtifactRuleKindChoices.TAGS)
    config = four.azure_config(arm, [kit.SUB_A])
    connector = _connector(tenant_a, "azure", "azure", config, credential_env["azure"])

    run = scan_run_now(
        actor=None, connector=connector, trigger="cli", connector_kwargs={"credential": azure_credential}
    )

    assert run.status == "succeeded"
    assert run.image_scopes == {kit.SUB_A: {"status": "succeeded", "discovered": 2, "removed": 0}}
    images = _images(connector)
    assert set(images) == {"ubuntu-22/1.0.0", "ubuntu-22/1.1.0"}
    healthy, flagged = images["ubuntu-22/1.0.0"], images["ubuntu-22/1.1.0"]
    assert (healthy.state, healthy.flagged, healthy.region) == ("Succeeded", False, "westeurope")
    assert (flagged.state, flagged.flagged) == ("flagged", True)  # never "Succeeded" beside its violation
    assert healthy.replication == {
        "westeurope": {"replica_count": 1, "state": "Completed", "progress": 100, "details": ""},
        "northeurope": {"replica_count": 1, "state": "Replicating", "progress": 35, "details": ""},
    }
    assert flagged.facts["safety"]["policy_violations"] == [
        {"category": "ImageFlaggedUnsafe", "details": "This is the policy violation details."}
    ]
    assert flagged.artifact is not None and flagged.artifact.version.version == "1.1.0"  # the tags rule
    assert healthy.artifact_id is None and healthy.match_note == ""
    # regions in one canonical form everywhere: assets, images and the sites made from them
    regions = set(Asset.objects.filter(connector=connector).values_list("region", flat=True))
    assert regions == {"westeurope"}
    assert list(Site.objects.filter(organization=tenant_a.organization).values_list("platform", "region", "name")) == [
        ("azure", "westeurope", "Azure westeurope")
    ]


def test_a_failed_image_listing_keeps_the_images_and_the_machines_scan(
    tenant_a, arm, credential_env, azure_credential, worlds
):
    kit = worlds.azure_kit
    worlds.serve_subscription_a(arm)
    serve_galleries(arm, kit)
    connector = _connector(tenant_a, "azure", "azure", four.azure_config(arm, [kit.SUB_A]), credential_env["azure"])
    kwargs = {"credential": azure_credential}
    scan_run_now(actor=None, connector=connector, trigger="cli", connector_kwargs=kwargs)
    arm.server.clear()
    worlds.serve_subscription_a(arm)
    arm.error(kit.compute_path(kit.SUB_A, "galleries"), 403, "AuthorizationFailed", "no gallery read")

    run = scan_run_now(actor=None, connector=connector, trigger="cli", connector_kwargs=kwargs)

    assert run.status == "succeeded"  # the machines were read completely
    assert run.image_scopes[kit.SUB_A]["status"] == "failed"
    assert "AuthorizationFailed" in run.image_scopes[kit.SUB_A]["error"]
    assert DiscoveredImage.objects.filter(connector=connector, removed_at__isnull=True).count() == 2  # nothing lost


def test_gcp_images_and_families_with_their_deprecation(tenant_a, ubuntu_contract, compute, credential_env):
    config = four.gcp_config(compute, ["acme-prod"])
    connector = _connector(tenant_a, "gcp", "gcp", config, credential_env["gcp"])
    version = register(tenant_a, ubuntu_contract, "1.1.0")

    run = scan_run_now(
        actor=None, connector=connector, trigger="cli", connector_kwargs={"credentials": AnonymousCredentials()}
    )

    assert run.status == "succeeded"
    assert run.image_scopes["acme-images"]["discovered"] == 3
    images = _images(connector)
    assert set(images) == {"golden-web-v1-0-0", "golden-web-v1-1-0", "scratch-build"}
    old, new = images["golden-web-v1-0-0"], images["golden-web-v1-1-0"]
    assert (old.state, old.family, old.facts["deprecated_state"]) == ("deprecated", "golden-web", "DEPRECATED")
    assert (new.state, new.facts["family_current"]) == ("ready", True)
    assert new.image_ref == "projects/acme-images/global/images/golden-web-v1-1-0"
    assert new.image_created_at is not None

    artifact = discovered_image_register(
        actor=tenant_a.users["engineer"], image=new, family="ubuntu-2204-base", version="1.1.0"
    )

    assert artifact.version_id == version.pk and artifact.platform == "gcp"
    on_new = Asset.objects.filter(connector=connector, image_version=version).values_list("name", flat=True)
    assert sorted(on_new) == ["legacy-1", "web-2"]  # resolved at once, no rescan
    assert DiscoveredImage.objects.get(pk=new.pk).match_note == "registered in one action"


def test_vsphere_templates_become_images_and_datacenters_become_sites(tenant_a, vcenter, credential_env):
    connector = _connector(tenant_a, "vsphere", "vsphere", four.vsphere_config(vcenter), credential_env["vsphere"])

    run = scan_run_now(actor=None, connector=connector, trigger="cli")

    assert run.status == "succeeded"
    templates = DiscoveredImage.objects.filter(connector=connector)
    assert [(t.platform, t.region, t.image_ref) for t in templates] == [("vsphere", "DC0", four.TEMPLATE)]
    site = Site.objects.get(organization=tenant_a.organization)
    assert (site.name, site.kind, site.platform, site.region) == ("vSphere DC0", "datacenter", "vsphere", "DC0")
    assert not Asset.objects.filter(connector=connector, site__isnull=True).exists()
    assert not ImageArtifact.objects.exists()
