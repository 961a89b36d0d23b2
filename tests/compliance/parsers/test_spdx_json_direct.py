"""SPDX JSON is validated by the official schema and read directly (ADR 019): the same answer as spdx-tools' model,
in linear time, with tolerated deviations listed and every other fault refused at its path (issue #14)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

from apps.compliance.parsers import DocumentError, detect_and_parse
from apps.compliance.parsers.spdx import _to_result

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
SPDX_JSON = sorted((FIXTURES / "external" / "sbom" / "spdx").glob("*.spdx.json"))
EXAMPLE = FIXTURES / "external" / "sbom" / "spdx" / "SPDXJSONExample-v2.3.spdx.json"
EXAMPLE11 = FIXTURES / "external" / "sbom" / "spdx" / "spdx-examples-example11.spdx.json"


def _through_the_model(document: dict) -> tuple:
    """What spdx-tools' full object model gives for the same document (the reference the direct reader must match)."""
    model = JsonLikeDictParser().parse(copy.deepcopy(document))
    declared = Counter(str(rel["relationshipType"]) for rel in document.get("relationships") or [])
    result = _to_result(model, document["spdxVersion"].removeprefix("SPDX-"), "json", dict(declared), {})
    return result.name, result.packages, result.relationships, result.describes, result.serial, result.counts


def _direct(document: dict):
    return detect_and_parse("sbom", json.dumps(document).encode())


@pytest.mark.parametrize("path", SPDX_JSON, ids=lambda p: p.name)
def test_the_direct_reader_gives_what_the_spdx_tools_model_gives(path: Path) -> None:
    document = json.loads(path.read_bytes())
    sbom = _direct(document)
    name, packages, relationships, describes, serial, counts = _through_the_model(document)
    assert (sbom.name, sbom.packages, sbom.relationships, sbom.describes, sbom.serial) == (
        name,
        packages,
        relationships,
        describes,
        serial,
    )
    assert sbom.counts["relationships_effective"] == counts["relationships_effective"]


def test_document_describes_and_has_files_count_once_like_spdx_tools_including_inverse_statements() -> None:
    document = json.loads(EXAMPLE.read_bytes())
    package = document["packages"][0]["SPDXID"]
    document["documentDescribes"] = [package, package, document["packages"][1]["SPDXID"]]
    # Stated inversely: the document is DESCRIBED_BY nothing, but one file says CONTAINED_BY its package.
    first_file = document["packages"][0]["hasFiles"][0]
    document["relationships"].append(
        {"spdxElementId": first_file, "relationshipType": "CONTAINED_BY", "relatedSpdxElement": package}
    )
    document["packages"][0]["hasFiles"].append(first_file)
    sbom = _direct(document)
    _, packages, _, describes, _, counts = _through_the_model(document)
    assert sbom.describes == describes
    assert sbom.counts["relationships_effective"] == counts["relationships_effective"]
    assert sbom.packages == packages


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["packages"][1].update(versionInfo=3), "/packages/1/versionInfo"),
        (lambda d: d["packages"][0].update(primaryPackagePurpose="GADGET"), "/packages/0/primaryPackagePurpose"),
        (lambda d: d["relationships"][0].update(relationshipType="LIKES"), "/relationships/0/relationshipType"),
        (lambda d: d["packages"][2]["externalRefs"][0].pop("referenceLocator"), "/packages/2/externalRefs/0"),
        (lambda d: d["packages"][0].update(licenseConcluded="MIT AND"), "/packages/0/licenseConcluded"),
        (lambda d: d["packages"][0].update(supplier="Acme without a kind"), "/packages/0/supplier"),
        (lambda d: d["creationInfo"].update(created="yesterday"), ""),
    ],
    ids=["wrong-type", "bad-purpose", "bad-relationship", "ref-without-locator", "bad-licence", "bad-supplier", "date"],
)
def test_faults_that_change_meaning_are_refused_at_their_path_in_document_terms(change, path) -> None:
    document = json.loads(EXAMPLE11.read_bytes())
    change(document)
    with pytest.raises(DocumentError) as caught:
        _direct(document)
    assert caught.value.code == "invalid_document"
    assert caught.value.path == path
    assert "__init__" not in caught.value.detail and "Traceback" not in caught.value.detail


def test_unknown_properties_and_missing_spdx_22_fields_are_findings_not_refusals() -> None:
    document = json.loads(EXAMPLE11.read_bytes())
    document["spdxVersion"] = "SPDX-2.2"
    for package in document["packages"]:
        package.pop("primaryPackagePurpose", None)
    document["packages"][0]["x-vendor-build"] = {"pipeline": 42}
    for key in ("copyrightText", "licenseDeclared", "licenseConcluded"):
        document["packages"][1].pop(key, None)
    sbom = _direct(document)
    assert len(sbom.packages) == 4
    found = {(f.path, f.rule) for f in sbom.findings}
    assert ("/packages/0/x-vendor-build", "unknown-property") in found
    assert ("/packages/1/copyrightText", "missing-required-field") in found
    assert ("/packages/1/licenseDeclared", "missing-required-field") in found
    assert sbom.packages[1].license is None


def test_every_missing_download_location_is_counted_however_many_there_are() -> None:
    document = json.loads(EXAMPLE11.read_bytes())
    template = document["packages"][0]
    document["packages"] = [
        {**{k: v for k, v in template.items() if k != "downloadLocation"}, "SPDXID": f"SPDXRef-p{i}"}
        for i in range(1500)
    ]
    document["relationships"] = []
    document["documentDescribes"] = []
    sbom = _direct(document)
    assert len(sbom.packages) == 1500
    assert sum(f.rule == "missing-download-location" for f in sbom.findings) == 1500
