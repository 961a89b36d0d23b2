"""The vSphere connector's config schema, version sources and secrets, without a vCenter."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from apps.inventory.connectors import base
from apps.inventory.connectors.base import ConnectorError, Scope
from apps.inventory.connectors.vsphere import CONFIG_SCHEMA, VsphereConnector
from apps.inventory.connectors.vsphere_library import item_version
from apps.inventory.connectors.vsphere_session import VcenterTarget, password_for
from apps.inventory.connectors.vsphere_versions import (
    ImageVersion,
    VmFacts,
    compile_annotation_pattern,
    parse_annotation,
    parse_sources,
    resolve_version,
)

VALID = {
    "vcenters": [
        {"host": "vc1.example", "user": "svc@vsphere.local"},
        {"host": "vc2.example", "port": 8443, "user": "svc", "verify_ssl": False, "datacenters": ["DC-East"]},
    ],
    "version_sources": [
        "extra_config",
        {"source": "annotation", "pattern": r"^image: (?P<family>\S+) (?P<version>\S+)$"},
        {"source": "custom_attribute", "version_key": "GoldenVersion"},
        {"source": "content_library", "item_key": "golden.item"},
    ],
    "timeout": 12.5,
    "site_from": "datacenter",
}


def errors(config: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    return sorted(error.message for error in validator.iter_errors(config))


def test_schema_is_draft_2020_12_and_accepts_a_full_config() -> None:
    jsonschema.Draft202012Validator.check_schema(CONFIG_SCHEMA)
    assert CONFIG_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert errors(VALID) == []
    assert errors({"vcenters": [{"host": "vc", "user": "u"}]}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.pop("vcenters"), "'vcenters' is a required property"),
        (lambda c: c.update(vcenters=[]), "[] should be non-empty"),
        (lambda c: c.update(extra=1), "Additional properties are not allowed ('extra' was unexpected)"),
        (lambda c: c["vcenters"][0].update(password="x"), "Additional properties are not allowed"),
        (lambda c: c["vcenters"][0].pop("user"), "'user' is a required property"),
        (lambda c: c["vcenters"][0].update(port=0), "0 is less than the minimum of 1"),
        (lambda c: c.update(site_from="host"), "'host' is not one of ['datacenter', 'cluster']"),
        (lambda c: c.update(timeout=0), "0 is less than or equal to the minimum of 0"),
        (lambda c: c.update(version_sources=["tags"]), "is not valid under any of the given schemas"),
        (lambda c: c.update(version_sources=[{"source": "annotation", "key": "x"}]), "is not valid under any"),
    ],
)
def test_schema_refuses(change, expected: str) -> None:
    config = copy.deepcopy(VALID)
    change(config)
    found = errors(config)
    assert len(found) == 1
    assert expected in found[0]


def test_registered_with_slug_and_label() -> None:
    assert base._REGISTRY["vsphere"] is VsphereConnector
    assert (VsphereConnector.slug, VsphereConnector.label) == ("vsphere", "VMware vSphere")


def test_scopes_one_per_vcenter_port_only_when_not_443() -> None:
    connector = VsphereConnector(VALID, "pw")
    assert connector.scopes() == [Scope("vc1.example"), Scope("vc2.example:8443")]


def test_duplicate_vcenter_is_a_config_error() -> None:
    config = {"vcenters": [{"host": "vc", "user": "a"}, {"host": "vc", "port": 443, "user": "b"}]}
    with pytest.raises(ConnectorError, match="vc is listed twice"):
        VsphereConnector(config, "pw")


def test_sources_defaults_and_custom_keys() -> None:
    assert [s.kind for s in parse_sources(None)] == ["extra_config", "annotation"]
    sources = parse_sources(VALID["version_sources"])
    assert [s.kind for s in sources] == ["extra_config", "annotation", "custom_attribute", "content_library"]
    assert (sources[2].version_key, sources[2].family_key) == ("GoldenVersion", "qlrf.image.family")
    assert sources[3].item_key == "golden.item"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("(?P<version>", "not a valid regex"), (r"image=(?P<family>\S+)", "needs a named group (?P<version>...)")],
)
def test_bad_annotation_patterns(pattern: str, message: str) -> None:
    with pytest.raises(ConnectorError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        VsphereConnector({"vcenters": [{"host": "vc", "user": "u"}], "version_sources": [
            {"source": "annotation", "pattern": pattern}]}, "pw")  # fmt: skip


def test_annotation_parsing() -> None:
    default = compile_annotation_pattern(None)
    text = "Owner: platform team\nqlrf.image=ubuntu-22.04@2024.06.1\nnotes"
    assert parse_annotation(text, default) == ("ubuntu-22.04", "2024.06.1")
    assert parse_annotation("qlrf.image = rhel-9@9.4 ", default) == ("rhel-9", "9.4")
    assert parse_annotation("qlrf.image=ubuntu-22.04", default) is None
    assert parse_annotation("", default) is None
    version_only = compile_annotation_pattern(r"Build (?P<version>\d+\.\d+)")
    assert parse_annotation("CIS Build 7.2 hardened", version_only) == ("", "7.2")


def test_resolution_order_and_library_lookup() -> None:
    facts = VmFacts(
        annotation="qlrf.image=debian-12@12.6.0",
        extra_config={"qlrf.image.version": "12.5.0", "qlrf.image.library_item": "item-1"},
        custom_attributes={"qlrf.image.version": "1.0", "qlrf.image.family": "win"},
    )
    library = {"item-1": ImageVersion("rocky-9", "9.3.1", "content_library")}
    found = [
        resolve_version(facts, parse_sources([first]), library.get)
        for first in ("annotation", "extra_config", "custom_attribute", "content_library")
    ]
    assert found == [
        ImageVersion("debian-12", "12.6.0", "annotation"),
        ImageVersion("", "12.5.0", "extra_config"),
        ImageVersion("win", "1.0", "custom_attribute"),
        ImageVersion("rocky-9", "9.3.1", "content_library", library_item="item-1"),
    ]
    assert resolve_version(facts, parse_sources(["content_library"]), {}.get) is None
    assert resolve_version(VmFacts("", {}, {}), parse_sources(None)) is None


def test_library_item_versions() -> None:
    pattern = compile_annotation_pattern(None)
    described = {"id": "i1", "name": "rocky", "description": "qlrf.image=rocky-9@9.3.1"}
    assert item_version(described, pattern) == ImageVersion("rocky-9", "9.3.1", "content_library", "i1")
    assert item_version({"id": "i2", "name": "alma-9@9.4.0"}, pattern).version == "9.4.0"
    assert item_version({"id": "i3", "name": "plain"}, pattern) == ImageVersion("plain", "", "content_library", "i3")


def test_password_for_plain_and_per_host_json() -> None:
    vc1, vc2 = VcenterTarget("vc1.example", "u"), VcenterTarget("vc2.example", "u", port=8443)
    assert password_for("s3cret", vc1) == "s3cret"
    per_host = json.dumps({"vc1.example": "one", "vc2.example:8443": "two"})
    assert (password_for(per_host, vc1), password_for(per_host, vc2)) == ("one", "two")
    with pytest.raises(ConnectorError, match="no password for vc2.example:8443"):
        password_for(json.dumps({"vc2.example:443": "x"}), vc2)
    with pytest.raises(ConnectorError, match="does not parse"):
        password_for("{not json", vc1)
    with pytest.raises(ConnectorError, match="no password"):
        password_for("", vc1)
