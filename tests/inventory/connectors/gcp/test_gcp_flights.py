"""The recorded cloud-custodian flights (real Compute REST bodies) read through the connector and the real SDK."""

from __future__ import annotations

import json

from apps.inventory.connectors.base import AssetEdge, Scope

BASE = "https://www.googleapis.com/compute/v1/"
MIG_2 = "projects/cloud-custodian/zones/us-central1-a/instanceGroupManagers/instance-group-2"
TEMPLATE_1 = "projects/cloud-custodian/global/instanceTemplates/instance-template-1"
CUSTODIAN_TEMPLATE = "projects/cloud-custodian-190204/global/instanceTemplates/custodian-instance-template"
DEBIAN_9 = "projects/debian-cloud/global/images/debian-9-stretch-v20190514"


def test_images_list_flight_served_verbatim(compute, make_connector, flight_body):
    body = flight_body("compute-images-list.flight.json")
    compute.respond_raw(r"/projects/cloud-custodian/global/images\?", json.dumps(body))

    images = list(make_connector(["cloud-custodian"]).iter_images(Scope("cloud-custodian")))

    assert [image.name for image in images] == ["image-1"]
    image = images[0]
    assert image.image_ref == "projects/cloud-custodian/global/images/image-1"
    assert (image.state, image.extra["deprecated_state"], image.extra["status"]) == (
        "deprecated",
        "DEPRECATED",
        "READY",
    )
    assert (image.family, image.version, image.extra["family_current"]) == ("", "", False)
    assert image.created_at == "2023-07-21T09:32:02.116-07:00"
    assert image.extra["id"] == "4646858144391564305"
    assert image.extra["storage_locations"] == ["us"]


def test_images_list_and_image_get_flights_as_two_pages(compute, make_connector, flight_body):
    compute.page_size = 1
    compute.images["cloud-custodian"] = [
        flight_body("compute-images-list.flight.json")["items"][0],
        flight_body("compute-image-get.flight.json"),
    ]

    images = list(make_connector(["cloud-custodian"]).iter_images(Scope("cloud-custodian")))

    assert [(image.name, image.state) for image in images] == [("image-1", "deprecated"), ("image-1-dev", "ready")]
    assert images[1].tags == {"env": "dev"}
    assert images[1].extra["architecture"] == "X86_64"
    assert [q.get("pageToken", "") for _, _, q in compute.log] == ["", "1"]


def custodian_project(compute, flight_body) -> dict[str, dict]:
    """cloud-custodian with the recorded MIG instance-group-2 and one member, plus a MIG on the recorded template."""
    compute.igms["cloud-custodian"] = flight_body("compute-instanceGroupManagers-list.flight.json")["items"]
    compute.templates["cloud-custodian-190204"] = flight_body("compute-instanceTemplates-list.flight.json")["items"]
    compute.add_template("cloud-custodian", "instance-template-1", "global/images/image-1")
    image_1 = f"{BASE}projects/cloud-custodian/global/images/image-1"
    disk_1 = compute.add_disk("cloud-custodian", "us-central1-a", "instance-group-2-k3m9", source_image=image_1)
    member = compute.add_instance("cloud-custodian", "us-central1-a", "instance-group-2-k3m9", disk=disk_1)
    compute.set_members(compute.igms["cloud-custodian"][0], [member])
    debian = f"{BASE}{DEBIAN_9}"
    disk_2 = compute.add_disk("cloud-custodian", "us-central1-a", "custodian-mig-x1z2", source_image=debian)
    other = compute.add_instance("cloud-custodian", "us-central1-a", "custodian-mig-x1z2", disk=disk_2)
    compute.add_mig("cloud-custodian", "custodian-mig", f"{BASE}{CUSTODIAN_TEMPLATE}", [other], zone="us-central1-a")
    return {"member": member, "other": other}


def test_instance_group_managers_flight_gives_group_2_on_template_1(compute, make_connector, flight_body):
    made = custodian_project(compute, flight_body)

    assets = {a.name: a for a in make_connector(["cloud-custodian"]).iter_assets(Scope("cloud-custodian"))}

    member = assets["instance-group-2-k3m9"]
    image_1 = "projects/cloud-custodian/global/images/image-1"
    assert (member.group_ref, member.extra["template"], member.image_ref) == (MIG_2, TEMPLATE_1, image_1)
    assert member.edges == (
        AssetEdge("instance", made["member"]["id"], "group", MIG_2, "member_of"),
        AssetEdge("group", MIG_2, "template", TEMPLATE_1, "uses_template"),
        AssetEdge("template", TEMPLATE_1, "image", image_1, "launched_from"),
        AssetEdge("instance", made["member"]["id"], "image", image_1, "launched_from"),
    )


def test_instance_templates_flight_gives_the_debian_9_source_image(compute, make_connector, flight_body):
    custodian_project(compute, flight_body)

    assets = {a.name: a for a in make_connector(["cloud-custodian"]).iter_assets(Scope("cloud-custodian"))}

    other = assets["custodian-mig-x1z2"]
    assert other.extra["template"] == CUSTODIAN_TEMPLATE
    assert other.extra["template_source_image"] == DEBIAN_9
    assert other.image_ref == DEBIAN_9
    assert AssetEdge("template", CUSTODIAN_TEMPLATE, "image", DEBIAN_9, "launched_from") in other.edges
    # a template of another project is not in this project's list: it is fetched once with instanceTemplates.get
    assert compute.count(r"^/compute/v1/projects/cloud-custodian-190204/global/instanceTemplates/custodian-") == 1
