"""AzureConnector.iter_images: galleries → image definitions → image versions, through the real SDK client."""

from __future__ import annotations

from apps.inventory.connectors.base import Scope

SUB_A = "00000000-0000-0000-0000-0000000000aa"
GOLD_PATH = f"/subscriptions/{SUB_A}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/goldGallery"
GOLD = f"/subscriptions/{SUB_A}/resourcegroups/rg-images/providers/microsoft.compute/galleries/goldgallery"
RECORDED_REF = (
    "/subscriptions/{subscription-id}/resourcegroups/myresourcegroup/providers/microsoft.compute/locations/westus"
    "/galleries/mygalleryname/images/mygalleryimagename/versions/1.0.0"
)


def test_all_galleries_of_the_subscription(galleries_a, make_connector):
    images = list(make_connector().iter_images(Scope(account=SUB_A)))

    assert [(i.image_ref, i.family, i.version) for i in images] == [
        (f"{GOLD}/images/ubuntu-22/versions/1.0.0", "ubuntu-22", "1.0.0"),
        (f"{GOLD}/images/ubuntu-22/versions/1.1.0", "ubuntu-22", "1.1.0"),
        (RECORDED_REF, "myGalleryImageName", "1.0.0"),
    ]
    assert [i.extra["regions"] for i in images] == [  # one canonical form, never "West Europe" beside it
        ["westeurope", "northeurope"],
        ["westeurope"],
        ["westus", "eastus"],
    ]
    assert [i.region for i in images] == ["westeurope", "westeurope", "westus"]
    assert [i.state for i in images] == ["Succeeded", "Succeeded", "flagged"]
    assert images[0].extra["replication"] == {
        "westeurope": {"replica_count": 1, "state": "Completed", "progress": 100, "details": ""},
        "northeurope": {"replica_count": 1, "state": "Replicating", "progress": 40, "details": ""},
    }
    versions = galleries_a.requests_to(f"{GOLD_PATH}/images/ubuntu-22/versions/1.0.0")
    assert [r.args.get("$expand") for r in versions] == ["ReplicationStatus"]


def test_recorded_gallery_image_version_fields(galleries_a, make_connector):
    recorded = list(make_connector().iter_images(Scope(account=SUB_A)))[2]

    assert recorded.platform == "azure"
    assert recorded.account == SUB_A
    assert recorded.name == "myGalleryImageName/1.0.0"
    assert recorded.created_at == "2018-01-01T00:00:00+00:00"
    assert recorded.state == "flagged"  # reported for a policy violation: never shown as Succeeded
    assert recorded.tags == {}
    assert recorded.extra == {
        "resource_id": (
            "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/locations"
            "/westus/Galleries/myGalleryName/Images/myGalleryImageName/Versions/1.0.0"
        ),
        "resource_group": "myResourceGroup",
        "gallery": "myGalleryName",
        "regions": ["westus", "eastus"],
        "replica_count": 1,
        "replication": {
            "westus": {"replica_count": 1, "state": "Completed", "progress": 100, "details": ""},
            "eastus": {"replica_count": 2, "state": ""},
        },
        "exclude_from_latest": False,
        "end_of_life_date": "",
        "os_type": "Windows",
        "identifier": {"publisher": "myPublisherName", "offer": "myOfferName", "sku": "mySkuName"},
        "safety": {
            "reported_for_policy_violation": True,
            "policy_violations": [
                {"category": "ImageFlaggedUnsafe", "details": "This is the policy violation details."}
            ],
        },
        "provisioning_state": "Succeeded",
    }


def test_built_version_fields(galleries_a, make_connector):
    first, *_ = make_connector().iter_images(Scope(account=SUB_A))

    assert first.tags == {"build": "b-1.0.0"}
    assert first.created_at == "2026-01-15T10:00:00+00:00"
    assert first.extra["os_type"] == "Linux"
    assert first.extra["gallery"] == "goldGallery"
    assert first.extra["identifier"] == {"publisher": "qlrf", "offer": "golden", "sku": "ubuntu-22"}


def test_configured_galleries_skip_the_gallery_listing(galleries_a, make_connector):
    connector = make_connector(galleries=[{"resource_group": "rg-images", "gallery": "goldGallery"}])

    images = list(connector.iter_images(Scope(account=SUB_A)))

    assert [i.version for i in images] == ["1.0.0", "1.1.0"]
    assert galleries_a.requests_to(f"/subscriptions/{SUB_A}/providers/Microsoft.Compute/galleries") == []
    versions = galleries_a.requests_to(
        f"/subscriptions/{SUB_A}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/goldGallery"
        "/images/ubuntu-22/versions"
    )
    assert [r.args.get("$skiptoken") for r in versions] == [None, "1"]


def test_a_gallery_pinned_to_a_subscription_is_read_only_there(galleries_a, make_connector):
    other = "00000000-0000-0000-0000-0000000000bb"
    pinned = {"resource_group": "rg-images", "gallery": "goldGallery", "subscription": SUB_A.upper()}
    connector = make_connector(subscriptions=[SUB_A, other], galleries=[pinned])

    assert [i.version for i in connector.iter_images(Scope(account=SUB_A))] == ["1.0.0", "1.1.0"]
    assert list(connector.iter_images(Scope(account=other))) == []
    assert [r for r, _ in galleries_a.server.log if other in r.path] == []
