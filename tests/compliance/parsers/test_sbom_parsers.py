"""Every SBOM fixture gives exactly the counts listed in fixtures/external/README.md."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from apps.compliance.parsers import DocumentError, PackageRecord, ParsedSbom, detect_and_parse


def parse_sbom(external: Path, name: str) -> ParsedSbom:
    path = external / "sbom" / name
    return detect_and_parse("sbom", path.read_bytes(), filename=path.name)


def test_spdx_23_json_example(external: Path) -> None:
    sbom = parse_sbom(external, "spdx/SPDXJSONExample-v2.3.spdx.json")
    assert (sbom.format, sbom.spec_version, sbom.encoding) == ("spdx", "2.3", "json")
    assert sbom.name == "SPDX-Tools-v2.0"
    assert len(sbom.packages) == 4
    assert sbom.relationships == {
        "CONTAINS": 2,
        "COPY_OF": 1,
        "DYNAMIC_LINK": 1,
        "GENERATED_FROM": 2,
        "SPECIFICATION_FOR": 1,
    }
    assert sum(sbom.relationships.values()) == 7
    assert sbom.describes == ("SPDXRef-File", "SPDXRef-Package")
    assert sbom.counts["files"] == 5
    assert sbom.counts["snippets"] == 1
    assert sbom.counts["has_files"] == 14
    assert sbom.counts["document_describes"] == 2
    assert sbom.purl_types() == {"maven": 1}
    glibc = sbom.packages[0]
    assert glibc == PackageRecord(
        name="glibc",
        version="2.11.1",
        purl=None,
        type="source",
        license="LGPL-2.0-only OR LicenseRef-3",
        supplier="Jane Doe",
        ref="SPDXRef-Package",
    )


def test_spdx_23_tag_value_example(external: Path) -> None:
    sbom = parse_sbom(external, "spdx/SPDXTagExample-v2.3.spdx")
    assert (sbom.format, sbom.spec_version, sbom.encoding) == ("spdx", "2.3", "tag-value")
    assert sbom.name == "SPDX-Tools-v2.0"
    assert len(sbom.packages) == 4
    assert sbom.relationships == {
        "CONTAINS": 3,
        "COPY_OF": 1,
        "DESCRIBES": 2,
        "GENERATED_FROM": 2,
        "DYNAMIC_LINK": 1,
        "SPECIFICATION_FOR": 1,
    }
    assert sum(sbom.relationships.values()) == 10
    assert sbom.counts["files"] == 5
    assert sbom.counts["snippets"] == 1
    assert sbom.purl_types() == {"maven": 1}


def test_spdx_json_and_tag_value_twins_agree_once_normalised(external: Path) -> None:
    """relationships[] (7) undercounts the tag-value twin (10 lines); the normalised relationship set is the same."""
    as_json = parse_sbom(external, "spdx/SPDXJSONExample-v2.3.spdx.json")
    as_tag_value = parse_sbom(external, "spdx/SPDXTagExample-v2.3.spdx")
    assert as_json.counts["relationships_effective"] == as_tag_value.counts["relationships_effective"] == 13
    assert as_json.describes == as_tag_value.describes
    assert [(p.name, p.version, p.purl) for p in as_json.packages] == [
        (p.name, p.version, p.purl) for p in as_tag_value.packages
    ]


def test_spdx_22_ubi9_is_imported_per_entry(external: Path) -> None:
    sbom = parse_sbom(external, "spdx/ubi9-9.2-755.1697625012.spdx.json")
    assert (sbom.format, sbom.spec_version, sbom.encoding) == ("spdx", "2.2", "json")
    assert sbom.name == "ubi9-container"
    assert len(sbom.packages) == 610
    assert sbom.relationships == {"CONTAINED_BY": 605, "DESCRIBES": 1, "VARIANT_OF": 4}
    assert len(sbom.describes) == 1
    assert sbom.counts["files"] == 0
    assert sbom.counts["snippets"] == 0
    assert sbom.counts["has_files"] == 0
    assert sbom.purl_types() == {"rpm": 605, "oci": 5}
    rpms = [p for p in sbom.packages if p.purl_type == "rpm"]
    assert len({p.name for p in rpms}) == 181
    arch = Counter(p.purl.split("arch=")[1].split("&")[0] for p in rpms if p.purl and "arch=" in p.purl)
    assert arch == {"aarch64": 142, "x86_64": 142, "ppc64le": 142, "s390x": 141, "noarch": 38}
    assert {p.supplier for p in rpms} == {"Red Hat"}


def test_spdx_23_example11(external: Path) -> None:
    sbom = parse_sbom(external, "spdx/spdx-examples-example11.spdx.json")
    assert (sbom.spec_version, sbom.encoding) == ("2.3", "json")
    assert sbom.name == "SBOM-SPDX-2d85f548-12fa-46d5-87ce-5e78e5e111f4"
    assert len(sbom.packages) == 4
    assert sbom.relationships == {"DEPENDS_ON": 3, "GENERATED_FROM": 1}
    assert len(sbom.describes) == 2
    assert sbom.counts["files"] == 1
    assert sbom.counts["snippets"] == 0
    assert sbom.purl_types() == {"deb": 1, "cargo": 3}


def test_spdx_3_json_ld_example11(external: Path) -> None:
    sbom = parse_sbom(external, "spdx/spdx-examples-example11.spdx3.json")
    assert (sbom.format, sbom.spec_version, sbom.encoding) == ("spdx", "3.0.1", "json-ld")
    assert sbom.counts["elements"] == 34
    assert {k.removeprefix("type:"): v for k, v in sbom.counts.items() if k.startswith("type:")} == {
        "CreationInfo": 2,
        "LifecycleScopedRelationship": 3,
        "Organization": 2,
        "Relationship": 13,
        "SpdxDocument": 1,
        "Tool": 2,
        "simplelicensing_LicenseExpression": 6,
        "software_File": 1,
        "software_Package": 4,
    }
    assert len(sbom.packages) == 4
    assert sum(sbom.relationships.values()) == 13 + 3
    assert sbom.relationships["dependsOn"] == 3  # the 3 LifecycleScopedRelationships, as in the 2.3 twin
    assert [(p.name, p.version, p.purl_type, p.license) for p in sbom.packages] == [
        ("hello-server-src", "0.1.0", "deb", "Apache-2.0"),
        ("hyper", "0.14", "cargo", "MIT"),
        ("tokio", "1.19.2", "cargo", "MIT"),
        ("pretty_env_logger", "0.4.0", "cargo", "(MIT OR Apache-2.0)"),
    ]
    assert len(sbom.describes) == 2


def test_spdx_3_and_23_twins_list_the_same_packages(external: Path) -> None:
    v2 = parse_sbom(external, "spdx/spdx-examples-example11.spdx.json")
    v3 = parse_sbom(external, "spdx/spdx-examples-example11.spdx3.json")
    assert sorted((p.name, p.version, p.purl) for p in v2.packages) == sorted(
        (p.name, p.version, p.purl) for p in v3.packages
    )


@pytest.mark.parametrize(
    ("name", "version", "serial", "subject", "top", "nested", "types", "dependencies", "vulnerabilities"),
    [
        (
            "valid-bom-1.6.json",
            "1.6",
            "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "Acme Application",
            3,
            3,
            {"application": 1, "library": 1, "framework": 1},
            1,
            0,
        ),
        (
            "valid-vulnerability-1.6.json",
            "1.6",
            "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            None,
            1,
            1,
            {"library": 1},
            0,
            1,
        ),
        (
            "syft-scan-alpine-container.cdx.json",
            "1.6",
            "urn:uuid:600bf98a-94fb-4a9c-b7b5-0bae4f32aeb7",
            "alpine",
            16,
            16,
            {"library": 15, "operating-system": 1},
            11,
            0,
        ),
        (
            "guac-alpine-cyclonedx.json",
            "1.4",
            "urn:uuid:90630c1e-1df2-4d35-85fa-a4e8ebd22d70",
            "docker.io/library/alpine:latest",
            15,
            15,
            {"library": 14, "operating-system": 1},
            0,
            0,
        ),
    ],
)
def test_cyclonedx_json(
    external: Path,
    name: str,
    version: str,
    serial: str,
    subject: str | None,
    top: int,
    nested: int,
    types: dict[str, int],
    dependencies: int,
    vulnerabilities: int,
) -> None:
    sbom = parse_sbom(external, f"cyclonedx/{name}")
    assert (sbom.format, sbom.spec_version, sbom.encoding) == ("cyclonedx", version, "json")
    assert sbom.serial == serial
    assert sbom.name == subject
    assert sbom.counts["components_top_level"] == top
    assert len(sbom.packages) == nested
    assert dict(Counter(p.type for p in sbom.packages)) == types
    assert sbom.counts["dependencies"] == dependencies
    assert sbom.counts["vulnerabilities"] == vulnerabilities
    assert sbom.counts["services"] == 0


def test_cyclonedx_15_xml(external: Path) -> None:
    """3 top-level components; the README's 5 <component> elements add metadata.component and a pedigree ancestor."""
    sbom = parse_sbom(external, "cyclonedx/valid-bom-1.5.xml")
    assert (sbom.format, sbom.spec_version, sbom.encoding) == ("cyclonedx", "1.5", "xml")
    assert sbom.serial == "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    assert sbom.name == "Acme Application"
    assert sbom.counts["components_top_level"] == 3
    assert len(sbom.packages) == 3
    assert dict(Counter(p.type for p in sbom.packages)) == {"application": 1, "library": 1, "framework": 1}
    assert sbom.counts["dependencies"] == 0
    assert sbom.counts["vulnerabilities"] == 0


def test_syft_component_record(external: Path) -> None:
    sbom = parse_sbom(external, "cyclonedx/syft-scan-alpine-container.cdx.json")
    by_name = {p.name: p for p in sbom.packages}
    assert by_name["alpine-baselayout"] == PackageRecord(
        name="alpine-baselayout",
        version="3.4.3-r1",
        purl="pkg:apk/alpine/alpine-baselayout@3.4.3-r1?arch=x86_64&distro=alpine-3.18.3",
        type="library",
        license="GPL-2.0-only",
        supplier="Natanael Copa <ncopa@alpinelinux.org>",
        ref="pkg:apk/alpine/alpine-baselayout@3.4.3-r1?arch=x86_64&distro=alpine-3.18.3&package-id=baca676b3df82a63",
    )
    assert sbom.purl_types() == {"apk": 15}


def test_nested_cyclonedx_components_are_counted() -> None:
    doc = (
        b'{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":['
        b'{"type":"application","name":"app","components":[{"type":"library","name":"inner",'
        b'"components":[{"type":"library","name":"innermost"}]}]},{"type":"library","name":"other"}]}'
    )
    sbom = detect_and_parse("sbom", doc)
    assert sbom.counts["components_top_level"] == 2
    assert sorted(p.name for p in sbom.packages) == ["app", "inner", "innermost", "other"]


def test_invalid_bomformat_is_rejected_at_bomformat(external: Path) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_sbom(external, "cyclonedx/invalid-bomformat-1.6.json")
    assert caught.value.code == "invalid_document"
    assert caught.value.path == "/bomFormat"
    assert "AnotherFormat" in caught.value.detail


def _cyclonedx(components: list[dict]) -> bytes:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}).encode()


def _component(index: int) -> dict:
    return {"type": "library", "name": f"p{index}", "version": "1.0", "purl": f"pkg:pypi/p{index}@1.0"}


def test_cyclonedx_components_are_listed_in_document_order_with_nested_ones_depth_first() -> None:
    inner = {"type": "library", "name": "inner", "components": [{"type": "library", "name": "innermost"}]}
    doc = _cyclonedx([{"type": "application", "name": "zeta", "components": [inner]}, _component(1)])
    assert [p.name for p in detect_and_parse("sbom", doc).packages] == ["zeta", "inner", "innermost", "p1"]


def test_a_large_cyclonedx_document_is_validated_whole_with_uniqueness_by_hashing() -> None:
    """20,000 components: the quadratic uniqueItems of the old validator took minutes here (ADR 019)."""
    components = [_component(i) for i in range(20_000)]
    sbom = detect_and_parse("sbom", _cyclonedx(components))
    assert len(sbom.packages) == 20_000
    assert sbom.packages[19_999].purl == "pkg:pypi/p19999@1.0"
    duplicated = _cyclonedx([*components, _component(7)])
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("sbom", duplicated)
    assert (caught.value.code, caught.value.path) == ("invalid_document", "/components/20000")
    assert caught.value.detail == "item 20000 repeats item 7; the items must be unique"


def test_a_schema_fault_deep_in_a_large_cyclonedx_document_names_its_path() -> None:
    components = [_component(i) for i in range(5_000)]
    components[4321]["type"] = "gadget"
    components[4322]["licenses"] = [{"license": {}}]
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("sbom", _cyclonedx(components))
    assert caught.value.code == "invalid_document"
    assert caught.value.path == "/components/4321/type"
    assert "gadget" in caught.value.detail


def test_cyclonedx_nested_deeper_than_json_allows_is_nesting_too_deep() -> None:
    text = '{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":' + "[" * 50_000 + "]" * 50_000 + "}"
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("sbom", text.encode())
    assert caught.value.code == "nesting_too_deep"


def test_cyclonedx_components_nested_hundreds_deep_are_all_listed() -> None:
    component: dict = {"type": "library", "name": "leaf"}
    for depth in range(300):
        component = {"type": "library", "name": f"n{depth}", "components": [component]}
    sbom = detect_and_parse("sbom", _cyclonedx([component]))
    assert len(sbom.packages) == 301
    assert sbom.packages[-1].name == "leaf"
