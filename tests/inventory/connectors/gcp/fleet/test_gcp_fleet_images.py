"""GCP images of the acme image project through the real compute_v1 clients: paging, families, states, versions."""

from __future__ import annotations

from apps.inventory.connectors.base import Scope

ROOT = "projects/acme-images/global/images/"


def images_by_name(make_connector, project: str = "acme-images"):
    connector = make_connector(["acme-prod"], image_projects=["acme-images"])
    return {image.name: image for image in connector.iter_images(Scope(project))}


def test_all_pages_of_images_are_read(fleet, compute, make_connector):
    images = images_by_name(make_connector)

    assert sorted(images) == [
        "base-a",
        "base-b",
        "golden-api-v2-0-0",
        "golden-web-v1-0-0",
        "golden-web-v1-1-0",
        "golden-web-v1-2-0",
        "golden-web-v1-3-0",
        "scratch-build",
    ]
    pages = [q.get("pageToken", "") for _, path, q in compute.log if path.endswith("/acme-images/global/images")]
    assert pages == ["", "2", "4", "6"]  # 8 images at 2 per page


def test_family_current_is_the_newest_ready_non_deprecated_image(fleet, make_connector):
    images = images_by_name(make_connector)

    current = sorted(name for name, image in images.items() if image.extra["family_current"])
    # golden-web: v1-3-0 is PENDING and v1-2-0 DEPRECATED, so v1-1-0 is what getFromFamily returns;
    # base: base-a (2024-02-02T07:00Z) is newer than base-b (01:00Z) although its string sorts first
    assert current == ["base-a", "golden-api-v2-0-0", "golden-web-v1-1-0"]


def test_image_fields(fleet, make_connector):
    images = images_by_name(make_connector)
    web110, web100, web130 = images["golden-web-v1-1-0"], images["golden-web-v1-0-0"], images["golden-web-v1-3-0"]

    assert web110.image_ref == ROOT + "golden-web-v1-1-0"
    assert (web110.platform, web110.account, web110.region) == ("gcp", "acme-images", "")
    assert (web110.family, web110.version, web110.state) == ("golden-web", "1.1.0", "ready")
    assert web110.created_at == "2024-02-01T10:00:00.000-08:00"
    assert web110.tags == {"version": "1-1-0"}
    assert web110.extra["id"] == fleet["golden-web-v1-1-0"]["id"]
    assert (web100.state, web100.extra["deprecated_state"], web100.extra["status"]) == (
        "deprecated",
        "DEPRECATED",
        "READY",
    )
    assert (web130.state, web130.extra["family_current"]) == ("pending", False)
    assert images["golden-api-v2-0-0"].version == "2.0.0"
    assert images["golden-api-v2-0-0"].tags == {"team": "api"}
    assert (images["scratch-build"].family, images["scratch-build"].version) == ("", "")


def test_project_without_images_yields_none(fleet, make_connector):
    assert images_by_name(make_connector, "acme-prod") == {}


def test_scopes_are_projects_then_image_projects(make_connector):
    connector = make_connector(["acme-prod", "acme-stage"], image_projects=["acme-images", "acme-prod"])

    assert connector.scopes() == [Scope("acme-prod"), Scope("acme-stage"), Scope("acme-images")]
    assert [scope.key for scope in connector.scopes()] == ["acme-prod", "acme-stage", "acme-images"]
