"""SBOM import benchmark: parsing and importing SBOMs against the standard library's parse of the same bytes.

For each size (``--sizes``, packages) and format, one generated document, measured in this process:

* baseline: ``json.loads`` (JSON formats) or ``xml.etree.ElementTree.fromstring`` (XML) of the same bytes — the cost
  of merely reading the document;
* parse: ``detect_and_parse`` (decode, syntax, schema validation, every package read) — what an upload pays before
  it writes anything;
* import (``--import``, PostgreSQL): ``upload_store_and_parse`` end to end (stored original, parse, upload, SBOM and
  package rows, audit, event) against a raw baseline of the same bytes: ``json.loads`` + psycopg ``COPY`` of the same
  package rows into ``compliance_sbompackage``.

Goal (issues #14 and #20): parse ≤ 5× the standard library's parse, linear from 1k to 100k packages (µs per package
flat across sizes). The fastest of ``--repeat`` rounds is reported.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable

from bench._common import (
    DEFAULT_DATABASE_URL,
    BenchError,
    ensure_database,
    environment,
    migrate,
    print_table,
    setup_django,
    sql,
    write_results,
)

MODULE = "bench.sbom_import"
GOAL_RATIO = 5.0
FORMATS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value", "spdx3-jsonld")
CDX_NS = "http://cyclonedx.org/schema/bom/1.6"


# --- documents -------------------------------------------------------------------------------------------------------


def _package(index: int) -> tuple[str, str, str, str]:
    """name, version, purl, licence of package ``index`` (varied like a distribution's package list)."""
    name = f"pkg-{index:06d}"
    version = f"{index % 7}.{index % 31}.{index % 97}-r{index % 5}"
    return name, version, f"pkg:rpm/acme/{name}@{version}?arch=x86_64&distro=acme-9", ("MIT", "GPL-2.0-only")[index % 2]


def cyclonedx_json(count: int) -> bytes:
    components = []
    for index in range(count):
        name, version, purl, licence = _package(index)
        components.append(
            {
                "type": "library",
                "bom-ref": f"{purl}&package-id={index:x}",
                "name": name,
                "version": version,
                "purl": purl,
                "licenses": [{"license": {"id": licence}}],
                "supplier": {"name": "Acme Packaging"},
            }
        )
    dependencies = [{"ref": c["bom-ref"], "dependsOn": [components[0]["bom-ref"]]} for c in components[1:]]
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.UUID(int=count)}",
        "version": 1,
        "metadata": {"component": {"type": "operating-system", "name": "acme-9", "bom-ref": "acme-9"}},
        "components": components,
        "dependencies": dependencies,
    }
    return json.dumps(document).encode()


def cyclonedx_xml(count: int) -> bytes:
    out = io.StringIO()
    out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<bom xmlns="{CDX_NS}" version="1"><components>')
    for index in range(count):
        name, version, purl, licence = _package(index)
        escaped = purl.replace("&", "&amp;")
        out.write(
            f'<component type="library" bom-ref="{escaped}&amp;package-id={index:x}"><name>{name}</name>'
            f"<version>{version}</version><licenses><license><id>{licence}</id></license></licenses>"
            f"<purl>{escaped}</purl></component>"
        )
    out.write("</components></bom>")
    return out.getvalue().encode()


def spdx_json(count: int) -> bytes:
    packages, relationships = [], []
    for index in range(count):
        name, version, purl, licence = _package(index)
        spdx_id = f"SPDXRef-Package-{index}"
        packages.append(
            {
                "SPDXID": spdx_id,
                "name": name,
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
                "licenseConcluded": licence,
                "licenseDeclared": licence,
                "copyrightText": "NOASSERTION",
                "supplier": "Organization: Acme Packaging",
                "externalRefs": [
                    {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}
                ],
            }
        )
        relationships.append(
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": spdx_id}
        )
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "acme-9",
        "documentNamespace": f"https://acme.example/spdx/acme-9-{count}",
        "creationInfo": {"created": "2026-12-04T00:00:00Z", "creators": ["Tool: qlrf-bench"]},
        "packages": packages,
        "relationships": relationships,
    }
    return json.dumps(document).encode()


def spdx_tag_value(count: int) -> bytes:
    out = io.StringIO()
    out.write(
        "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: acme-9\n"
        f"DocumentNamespace: https://acme.example/spdx/acme-9-{count}\nCreator: Tool: qlrf-bench\n"
        "Created: 2026-12-04T00:00:00Z\n"
    )
    for index in range(count):
        name, version, purl, licence = _package(index)
        out.write(
            f"\nPackageName: {name}\nSPDXID: SPDXRef-Package-{index}\nPackageVersion: {version}\n"
            "PackageSupplier: Organization: Acme Packaging\nPackageDownloadLocation: NOASSERTION\n"
            f"FilesAnalyzed: false\nPackageLicenseConcluded: {licence}\nPackageLicenseDeclared: {licence}\n"
            f"PackageCopyrightText: NOASSERTION\nExternalRef: PACKAGE-MANAGER purl {purl}\n"
            f"Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package-{index}\n"
        )
    return out.getvalue().encode()


def spdx3_jsonld(count: int) -> bytes:
    graph: list[dict] = [
        {"type": "CreationInfo", "@id": "_:creationinfo", "specVersion": "3.0.1", "created": "2026-12-04T00:00:00Z"},
        {
            "type": "SpdxDocument",
            "spdxId": "urn:acme:doc",
            "name": "acme-9",
            "creationInfo": "_:creationinfo",
            "rootElement": ["urn:acme:sbom"],
        },
    ]
    for licence in ("MIT", "GPL-2.0-only"):
        graph.append(
            {
                "type": "simplelicensing_LicenseExpression",
                "spdxId": f"urn:acme:licence:{licence}",
                "simplelicensing_licenseExpression": licence,
                "creationInfo": "_:creationinfo",
            }
        )
    for index in range(count):
        name, version, purl, licence = _package(index)
        graph.append(
            {
                "type": "software_Package",
                "spdxId": f"urn:acme:pkg:{index}",
                "name": name,
                "software_packageVersion": version,
                "software_packageUrl": purl,
                "software_primaryPurpose": "library",
                "creationInfo": "_:creationinfo",
            }
        )
        graph.append(
            {
                "type": "Relationship",
                "spdxId": f"urn:acme:rel:{index}",
                "from": f"urn:acme:pkg:{index}",
                "relationshipType": "hasConcludedLicense",
                "to": [f"urn:acme:licence:{licence}"],
                "creationInfo": "_:creationinfo",
            }
        )
    return json.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph}).encode()


GENERATORS: dict[str, Callable[[int], bytes]] = {
    "cyclonedx-json": cyclonedx_json,
    "cyclonedx-xml": cyclonedx_xml,
    "spdx-json": spdx_json,
    "spdx-tag-value": spdx_tag_value,
    "spdx3-jsonld": spdx3_jsonld,
}


def _tag_value_lines(data: bytes) -> list[tuple[str, str, str]]:
    """The nearest standard-library "parse" of a tag-value document: every line split into tag and value."""
    return [line.partition(": ") for line in data.decode("utf-8").splitlines()]


def stdlib_parse(fmt: str) -> Callable[[bytes], object]:
    if fmt == "spdx-tag-value":
        return _tag_value_lines
    return ET.fromstring if fmt.endswith("xml") else json.loads


# --- measurements ----------------------------------------------------------------------------------------------------


def best_of(repeat: int, work: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        # each round starts alike: the previous round's result released and collected, so neither side's timing
        # includes the garbage collector walking the other round's objects (ElementTree's tree is all Python objects)
        result = None
        gc.collect()
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure_parse(fmt: str, count: int, repeat: int) -> dict:
    from apps.compliance.parsers import detect_and_parse

    data = GENERATORS[fmt](count)
    baseline, _ = best_of(repeat, lambda: stdlib_parse(fmt)(data))
    parse, parsed = best_of(repeat, lambda: detect_and_parse("sbom", data, max_bytes=len(data) + 1))
    if len(parsed.packages) != count:
        raise BenchError(f"{fmt} at {count}: the parser found {len(parsed.packages)} packages")
    return {
        "format": fmt,
        "packages": count,
        "bytes": len(data),
        "baseline_seconds": baseline,
        "parse_seconds": parse,
        "ratio": parse / baseline,
        "parse_us_per_package": parse / count * 1e6,
    }


def _version():
    from pathlib import Path

    from apps.images.services import image_version_register
    from apps.tenancy.models import Organization

    organization, _ = Organization.objects.get_or_create(slug="bench-sbom", defaults={"name": "Bench SBOM"})
    contract = (Path(__file__).resolve().parents[1] / "contracts/examples/ubuntu-22.04.contract.yaml").read_text()
    version, _ = image_version_register(actor=None, organization=organization, contract=contract, version="1.0.0")
    return version


def _reset() -> None:
    sql('TRUNCATE "compliance_sbompackage", "compliance_sbomdocument", "compliance_upload" CASCADE')


def measure_import(count: int, repeat: int, version) -> dict:
    """The service end to end against ``json.loads`` + ``COPY`` of the same rows (both on PostgreSQL)."""
    from apps.compliance.services.uploads import upload_store_and_parse

    data = cyclonedx_json(count)
    columns = ("organization_id", "sbom_id", "version_id", "name", "package_version", "purl", "type", "license")
    columns += ("supplier",)

    def service():
        _reset()
        upload, created = upload_store_and_parse(actor=None, version=version, kind="sbom", data=data)
        assert created and upload.sbom.package_count == count

    service_seconds, _ = best_of(repeat, service)
    copy_seconds, _ = best_of(repeat, lambda: _copy_only(data, version, columns))
    return {
        "format": "cyclonedx-json",
        "packages": count,
        "import_seconds": service_seconds,
        "baseline_seconds": copy_seconds,
        "ratio": service_seconds / copy_seconds,
        "import_us_per_package": service_seconds / count * 1e6,
    }


def _copy_only(data: bytes, version, columns: tuple[str, ...]) -> None:
    """The floor of an import: read the bytes with json.loads and COPY the package rows under one SBOM row."""
    from django.db import connection, transaction

    from apps.compliance.models import SbomDocument, Upload

    _reset()
    document = json.loads(data)
    with transaction.atomic():
        upload = Upload.objects.create(
            organization=version.organization, version=version, kind="sbom", status="accepted",
            file="bench", sha256="0" * 64, size=len(data), filename="", media_type="application/json",
        )  # fmt: skip
        sbom = SbomDocument.objects.create(
            organization=version.organization, upload=upload, version=version, format="cyclonedx",
            spec_version="1.6", encoding="json", name="acme-9", package_count=len(document["components"]),
        )  # fmt: skip
        with (
            connection.cursor() as cursor,
            cursor.copy(f'COPY "compliance_sbompackage" ({", ".join(columns)}) FROM STDIN') as copy,
        ):
            for c in document["components"]:
                copy.write_row(
                    (version.organization_id, sbom.pk, version.pk, c["name"], c["version"], c["purl"], "library",
                     c["licenses"][0]["license"]["id"], c["supplier"]["name"])
                )  # fmt: skip


# --- run -------------------------------------------------------------------------------------------------------------


def show(payload: dict) -> None:
    print(f"sbom_import, sizes {', '.join(f'{n:,}' for n in payload['sizes'])} packages")
    rows = [
        (r["format"], f"{r['packages']:,}", f"{r['bytes'] / 1e6:.1f} MB", f"{r['baseline_seconds'] * 1000:.1f} ms",
         f"{r['parse_seconds'] * 1000:.1f} ms", f"{r['ratio']:.2f}×", f"{r['parse_us_per_package']:.1f}",
         "yes" if r["ratio"] <= GOAL_RATIO else "NO")
        for r in payload["parse"]
    ]  # fmt: skip
    print_table(("format", "packages", "size", "stdlib parse", "qlrf parse", "ratio", "µs/pkg", "≤ 5×"), rows)
    if payload["import"]:
        rows = [
            (r["format"], f"{r['packages']:,}", f"{r['baseline_seconds'] * 1000:.1f} ms",
             f"{r['import_seconds'] * 1000:.1f} ms", f"{r['ratio']:.2f}×", f"{r['import_us_per_package']:.1f}")
            for r in payload["import"]
        ]  # fmt: skip
        print_table(("import", "packages", "json.loads + COPY", "upload service", "ratio", "µs/pkg"), rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="packages per document, comma-separated")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated subset of {', '.join(FORMATS)}")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the fastest is reported")
    parser.add_argument("--import", dest="do_import", action="store_true", help="also measure the import on PostgreSQL")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="a PostgreSQL database named qlrf_bench*")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    args.formats = [fmt.strip() for fmt in args.formats.split(",")]
    unknown = sorted(set(args.formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown format(s) {', '.join(unknown)}; known: {', '.join(FORMATS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ensure_database(args.database_url)
    setup_django(args.database_url)
    migrate()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    payload = {"sizes": args.sizes, "environment": environment(), "parse": [], "import": []}
    for fmt in args.formats:
        for count in args.sizes:
            payload["parse"].append(measure_parse(fmt, count, args.repeat))
    if args.do_import:
        version = _version()
        for count in args.sizes:
            payload["import"].append(measure_import(count, args.repeat, version))
    show(payload)
    path = write_results(f"sbom_import-{max(args.sizes)}", payload)
    print(f"results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
