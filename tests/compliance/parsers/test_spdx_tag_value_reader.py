"""The direct tag-value reader (``spdx_tagvalue_reader``) is held to spdx-tools' grammar: a document it reads gives the
same SBOM as the grammar; a document the grammar refuses, or one it is unsure of, is left to the grammar."""

from __future__ import annotations

import random
import re
from pathlib import Path
from unittest import mock

import pytest

from apps.compliance.parsers import DocumentError, detect_and_parse
from apps.compliance.parsers import spdx as spdx_module
from apps.compliance.parsers.spdx import tag_value_by_grammar
from apps.compliance.parsers.spdx_tagvalue_reader import read_simple
from bench.sbom_import import spdx_tag_value

EXAMPLE = Path(__file__).resolve().parents[3] / "fixtures" / "external" / "sbom" / "spdx" / "SPDXTagExample-v2.3.spdx"
_DROPPED_SECTIONS = ("SnippetSPDXID", "LicenseID", "Annotator")
_KEPT_SECTIONS = ("PackageName", "Relationship", "FileName")
_TAG_RE = re.compile(r"^\s*([A-Za-z]+):")


def simple_example(files: bool = True) -> str:
    """The official SPDX 2.3 example without its snippet, licence and annotation sections and external document
    reference: header, packages (multi-line texts, checksums, dates, purposes, external refs with comments), files
    (before and after packages: implicit containment) and relationships."""
    dropped = _DROPPED_SECTIONS if files else (*_DROPPED_SECTIONS, "FileName")
    kept, keeping, in_text = [], True, False
    for line in EXAMPLE.read_text().split("\n"):
        if not in_text and (match := _TAG_RE.match(line)):
            tag = match.group(1)
            if tag in dropped:
                keeping = False
            elif tag in _KEPT_SECTIONS:
                keeping = True
            line_kept = keeping and tag != "ExternalDocumentRef"
        else:
            line_kept = keeping if in_text else True
        if "<text>" in line:
            in_text = True
        if "</text>" in line:
            in_text = False
        if line_kept:
            kept.append(line)
    return "\n".join(kept)


def _outcome(text: str):
    try:
        return detect_and_parse("sbom", text.encode())
    except DocumentError as exc:
        return exc.code


def verdict(text: str):
    """(the grammar's result or error code, ours) for one document, both through format detection."""
    with mock.patch.object(spdx_module, "read_simple", lambda text: None):
        reference = _outcome(text)
    return reference, _outcome(text)


@pytest.mark.parametrize(
    ("text", "packages"),
    [(simple_example(), 4), (simple_example(files=False), 4), (spdx_tag_value(40).decode(), 40)],
    ids=["official-example", "official-example-without-files", "bench"],
)
def test_a_simple_document_is_read_directly_with_the_grammars_result(text: str, packages: int, monkeypatch) -> None:
    assert read_simple(text) is not None
    reference = tag_value_by_grammar(text, "2.3")
    monkeypatch.setattr(spdx_module, "tag_value_parser", lambda: pytest.fail("the grammar was used"))
    ours = detect_and_parse("sbom", text.encode())
    assert ours == reference
    assert len(ours.packages) == packages


def test_the_official_examples_packages_read_directly_are_the_full_examples_packages() -> None:
    direct = detect_and_parse("sbom", simple_example().encode())
    full = detect_and_parse("sbom", EXAMPLE.read_bytes())  # files and snippets: the grammar
    assert direct.packages == full.packages
    assert len(direct.packages) == 4
    assert direct.describes == full.describes
    assert direct.name == full.name and direct.serial == full.serial


def test_files_are_counted_with_the_grammars_implicit_containment() -> None:
    ours = detect_and_parse("sbom", simple_example().encode())
    full = detect_and_parse("sbom", EXAMPLE.read_bytes())  # snippets and licences: the grammar reads it all
    assert ours.counts["files"] == full.counts["files"] == 5
    assert ours.counts["relationships_effective"] == full.counts["relationships_effective"]


def test_a_document_with_snippets_is_left_to_the_grammar() -> None:
    assert read_simple(EXAMPLE.read_text()) is None
    sbom = detect_and_parse("sbom", EXAMPLE.read_bytes())
    assert sbom.counts["files"] == 5 and sbom.counts["snippets"] == 1


def test_missing_download_locations_are_the_same_findings_on_both_paths() -> None:
    text = "\n".join(
        line for line in spdx_tag_value(12).decode().split("\n") if not line.startswith("PackageDownloadLocation")
    )
    reference, ours = verdict(text)
    assert read_simple(text) is not None
    assert ours == reference
    assert [f.rule for f in ours.findings].count("missing-download-location") == 12
    assert ours.findings[0].path == "line 9"


HOSTILE_VALUES = (
    "NOASSERTION",
    "NONE",
    "Tool: scanner-1.0",
    "Person: Jane Doe (jane@example.com)",
    "Organization: Acme",
    "2020-01-01T00:00:00Z",
    "2020-01-01T00:00:00Z trailing",
    "2020-01-01",
    "SHA1: 85ed0817af83a24ad8da68c2b5094de69833983c",
    "SHA1: 85ED0817",
    "MD5:",
    "<text>one line</text>",
    "<text></text>",
    "<text>never closed",
    "PackageName",
    "MIT AND (",
    "MIT OR Apache-2.0",
    "GPLv2+",
    "LicenseRef-1",
    "a b",
    "PACKAGE-MANAGER purl pkg:rpm/acme/a@1",
    "PACKAGE_MANAGER purl pkg:rpm/acme/a@1",
    "SECURITY cpe23Type cpe:2.3:a:acme:a:1:*:*:*:*:*:*:*",
    "WRONG purl pkg:rpm/acme/a@1",
    "a b c d",
    "SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package",
    "SPDXRef-DOCUMENT DESCRIBES NONE",
    "SPDXRef-A NOT_A_TYPE SPDXRef-B",
    "true",
    "false",
    "yes",
    "OPERATING-SYSTEM",
    "OPERATING_SYSTEM",
    "operating-system",
    "d6a770ba38583ed4bb4525bd96e50461655d2758 (excludes: ./package.spdx)",
    "d6a770ba38583ed4bb4525bd96e50461655d275",
    "SPDX-2.3",
    "SPDXRef-x",
    "http://example.com/a",
    "  padded value  ",
    "x: y",
    "",
)
EXTRA_LINES = (
    "# a comment: with a colon",
    "   ",
    "UnknownTag: value",
    "FileName: ./a.c",
    "FileChecksum: SHA1: d6a770ba38583ed4bb4525bd96e50461655d2759",
    "FileType: SOURCE",
    "FileType: source",
    "LicenseConcluded: MIT",
    "Relationship: SPDXRef-Package CONTAINS SPDXRef-File",
    "Relationship: SPDXRef-Package CONTAINS SPDXRef-File\nRelationshipComment: stated",
    "ExternalRefComment: a comment out of place",
    "RelationshipComment: another",
    "ExternalDocumentRef: DocumentRef-x http://example.com SHA1: d6a770ba38583ed4bb4525bd96e50461655d2759",
    "no colon here",
    "  PackageComment: indented",
    "PackageComment : space before the colon",
    "SPDXID: SPDXRef-extra",
    "PackageName: late-package",
    "Creator: Tool: again",
    "Created: 2021-01-01T00:00:00Z",
)


def mutations(text: str, seed: int, count: int):
    rng = random.Random(seed)
    lines = text.split("\n")
    for _ in range(count):
        mutated = list(lines)
        for _step in range(rng.randint(1, 3)):
            index = rng.randrange(len(mutated))
            operation = rng.randrange(5)
            if operation == 0:
                del mutated[index]
            elif operation == 1:
                mutated.insert(index, mutated[rng.randrange(len(mutated))])
            elif operation == 2:
                tag, colon, _value = mutated[index].partition(":")
                if colon:
                    mutated[index] = f"{tag}: {rng.choice(HOSTILE_VALUES)}"
            elif operation == 3:
                mutated.insert(index, rng.choice(EXTRA_LINES))
            else:
                other = rng.randrange(len(mutated))
                mutated[index], mutated[other] = mutated[other], mutated[index]
        yield "\n".join(mutated)


@pytest.mark.parametrize(
    ("base", "seed"),
    [
        (simple_example(), 1),
        (simple_example(), 2),
        (simple_example(files=False), 5),
        (spdx_tag_value(3).decode(), 3),
        (spdx_tag_value(3).decode(), 4),
    ],
    ids=["example-1", "example-2", "example-without-files", "bench-1", "bench-2"],
)
def test_hostile_mutations_never_make_the_reader_disagree_with_the_grammar(base: str, seed: int) -> None:
    read_directly = 0
    for text in mutations(base, seed, 150):
        reference, ours = verdict(text)
        assert ours == reference, text
        read_directly += read_simple(text) is not None
    assert read_directly >= 25  # a good share of the mutated documents is read directly (32–57 of 150 when written)


@pytest.mark.parametrize(
    "line",
    [
        "PackageVersion: Tool: x",
        "PackageChecksum: SHA1: ABCDEF",
        "FilesAnalyzed: maybe",
        "PrimaryPackagePurpose: SPACESHIP",
        "PackageLicenseConcluded: MIT AND (",
        "ExternalRef: PACKAGE-MANAGER purl",
        "PackageSupplier: Tool: qlrf",
        "ReleaseDate: 2020-13-45T99:99:99Z",
        "PackageName: NOASSERTION",
    ],
)
def test_a_package_line_the_grammar_refuses_is_refused_with_the_grammars_error(line: str) -> None:
    base = spdx_tag_value(3).decode()
    text = base.replace("FilesAnalyzed: false\n", f"FilesAnalyzed: false\n{line}\n", 1)
    if line.startswith("FilesAnalyzed"):
        text = base.replace("FilesAnalyzed: false", line, 1)
    assert read_simple(text) is None
    reference, ours = verdict(text)
    assert ours == reference == "invalid_document"


@pytest.mark.parametrize("text", [simple_example(), EXAMPLE.read_text()], ids=["read-directly", "by-grammar"])
def test_windows_line_ends_read_as_line_ends(text: str) -> None:
    """A document written on Windows (CRLF) is the same document: spdx-tools' lexer alone refused it."""
    assert detect_and_parse("sbom", text.replace("\n", "\r\n").encode()) == detect_and_parse("sbom", text.encode())
