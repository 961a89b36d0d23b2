"""Demo supply chain: a cosign key pair made at load time, signatures, SBOMs, scan results and SLSA provenance.

Everything goes through the compliance services, as an upload from a pipeline would, so every badge the portal shows
is computed from evidence, not set. The documents are the public files under ``fixtures/external/`` (their origin is
in ``/work/shared/fixtures/external/README.md`` and the ``ORIGIN.md`` beside them), stood in for the demo's images
and varied per version the way a rebuild varies them:

- SBOMs: RHEL versions carry the real Red Hat UBI 9 SPDX document, older versions a prefix of its packages (packages
  added release by release); the Ubuntu families carry two real Alpine CycloneDX SBOMs of different ages (so a diff
  shows real upgrades: busybox 1.35 → 1.36, apk-tools 2.12 → 2.14; the older one's ``pkg:alpine/…`` purls are
  written in the newer tool's ``pkg:apk/alpine/…`` form so the same package matches), each cut the same way; Windows
  the CycloneDX 1.6 example. A version's diff against its predecessor therefore shows real packages and versions.
- Vulnerability scans: the real Trivy and Grype SARIF logs; newer RHEL rebuilds drop the Grype log's error-level
  result (fixed), so older ones fail the contract's thresholds and newer ones pass.
- CIS: the real InSpec STIG results, with a growing share of failed controls turned passed per version, so pass rates
  rise from the original's to above the contract's threshold on the newest version.
- Signatures: ECDSA P-256 over each version's manifest with the demo key (the contract lists it); the oldest RHEL
  version and the Windows family stay unsigned, one Ubuntu version carries a real Sigstore bundle that signs
  something else, so its check fails as it would in real life, and one Kubernetes node version gains a regional copy
  after it was signed, so its signature is ``stale``.
- Provenance: in-toto SLSA statements, unsigned (L1), in a DSSE envelope signed with the demo key (L2), or from the
  SLSA GitHub generator's workflow (L3).

The private key lives only for the load; the public key is registered as ``demo-cosign``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from apps.images.models import ImageVersion
from apps.images.services import image_artifact_add

from .models import SigningKey
from .selectors import version_manifest
from .services.signatures import signature_verify, signing_key_create
from .services.uploads import upload_store_and_parse

DEMO_KEY_NAME = "demo-cosign"
EXTERNAL = Path(settings.BASE_DIR) / "fixtures" / "external"
UNSIGNED = {("rhel-9-appserver", "2026.08.1"), ("rhel-9-appserver", "2026.11.1")}
FOREIGN_BUNDLE = ("ubuntu-2204-base", "1.2.0")
COPIED_AFTER_SIGNING = ("ubuntu-2204-k8s-node", "2.1.0")  # a regional copy added later: the signature is "stale"
SLSA_BUILDERS = {  # version → (builder id, signed): L3 from the hardened generator, L2 signed, L1 unsigned
    ("ubuntu-2204-base", "1.3.0"): (
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"
        "@refs/tags/v2.0.0",
        True,
    ),
    ("ubuntu-2204-base", "1.2.0"): ("https://github.com/example-org/golden-images/.github/workflows/ubuntu.yml", True),
    ("ubuntu-2204-k8s-node", "2.2.0"): (
        "https://github.com/example-org/golden-images/.github/workflows/k8s.yml",
        False,
    ),
    ("rhel-9-appserver", "2026.10.1"): ("https://jenkins.example.com/job/golden-rhel9", True),
    ("rhel-9-appserver", "2026.09.1"): ("https://jenkins.example.com/job/golden-rhel9", False),
    ("windows-2022-core", "2026.11.10"): ("https://dev.azure.com/example-org/golden/_build", True),
}


def load_keys(context: dict) -> list[str]:
    """Make the demo cosign key pair and register its public half (before the registry, whose contracts list it)."""
    organization = context["organization"]
    existing = SigningKey.objects.filter(organization=organization, name=DEMO_KEY_NAME).first()
    if existing is not None:
        context["demo_key_id"] = existing.key_id
        return []
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = signing_key_create(actor=None, organization=organization, name=DEMO_KEY_NAME, public_key_pem=pem.decode())
    context.update(demo_key_id=key.key_id, demo_private_key=private, demo_signing_key=key)
    return [
        f"Signing key: {DEMO_KEY_NAME} ({key.key_id[:12]}), a cosign key pair made now; the private half is not kept"
    ]


def load(context: dict) -> list[str]:
    """Sign and upload the evidence of every demo version, once: only right after the registry was created."""
    organization = context["organization"]
    private = context.get("demo_private_key")
    if not context.get("demo_registry_created") or private is None:
        return []
    signed = 0
    documents = 0
    for family_slug in ("ubuntu-2204-base", "ubuntu-2204-k8s-node", "rhel-9-appserver", "windows-2022-core"):
        versions = list(
            ImageVersion.objects.filter(organization=organization, family__slug=family_slug).order_by("created_at")
        )
        for index, version in enumerate(versions):
            key = (family_slug, version.version)
            signed += _sign(version, key, private, context["demo_signing_key"])
            for kind, filename, data in _documents(family_slug, index, len(versions)):
                upload_store_and_parse(actor=None, version=version, kind=kind, data=data, filename=filename)
                documents += 1
            if key in SLSA_BUILDERS:
                builder, envelope = SLSA_BUILDERS[key]
                data = _provenance(version, builder, private if envelope else None)
                upload_store_and_parse(actor=None, version=version, kind="provenance", data=data, filename="prov.json")
                documents += 1
    return [f"Supply chain: {signed} versions signed with {DEMO_KEY_NAME}, {documents} SBOM/scan/provenance uploads"]


def _sign(version, key: tuple[str, str], private: ec.EllipticCurvePrivateKey, signing_key: SigningKey) -> int:
    method = ((version.contract.get("supply_chain") or {}).get("signature") or {}).get("method")
    if key == FOREIGN_BUNDLE:
        bundle = (EXTERNAL / "sigstore" / "bundle.txt.sigstore").read_bytes()
        signature_verify(actor=None, version=version, bundle=bundle)
        return 0
    if method != "key" or key in UNSIGNED:
        return 0
    signature = private.sign(version_manifest(version), ec.ECDSA(hashes.SHA256()))
    signature_verify(actor=None, version=version, signature=base64.b64encode(signature).decode(), key=signing_key)
    if key == COPIED_AFTER_SIGNING:
        source = version.artifacts.get(platform="aws", region="eu-west-1")
        copy_ref = "ami-" + hashlib.sha256(f"{source.image_ref}/eu-central-1".encode()).hexdigest()[:17]
        image_artifact_add(
            actor=None,
            version=version,
            platform="aws",
            account=source.account,
            region="eu-central-1",
            image_ref=copy_ref,
        )
    return 1


def _documents(family: str, index: int, count: int) -> list[tuple[str, str, bytes]]:
    """(kind, filename, bytes) of the SBOM and scan results of the ``index``-th (oldest first) of ``count`` versions."""
    newest = index == count - 1
    docs: list[tuple[str, str, bytes]] = []
    if family == "rhel-9-appserver":
        docs.append(("sbom", "ubi9.spdx.json", _spdx_prefix("ubi9-9.2-755.1697625012.spdx.json", index, count)))
        docs.append(("sarif", "grype.sarif", _sarif("grype-image.sarif", fixed_errors=index >= 2)))
        docs.append(("inspec", "stig.json", _inspec("rhel8_sample_oneOfEachControlStatus.json", index, count)))
    elif family.startswith("ubuntu"):
        source = "guac-alpine-cyclonedx.json" if index < count // 2 else "syft-scan-alpine-container.cdx.json"
        docs.append(("sbom", "alpine.cdx.json", _cyclonedx_prefix(source, index, count)))
        if index > 0:  # the first release predates the scanner in the pipeline: "no scan"
            docs.append(("sarif", "trivy.sarif", _sarif("trivy-alpine-310.sarif", fixed_errors=False)))
        docs.append(("inspec", "stig.json", _inspec("ubuntu-16.04-baseline-results.json", index, count)))
    else:
        docs.append(("sbom", "bom.cdx.json", _cyclonedx_prefix("valid-bom-1.6.json", index, count)))
        if newest:
            docs.append(("sarif", "trivy.sarif", _sarif("trivy-alpine-310.sarif", fixed_errors=False)))
    return docs


def _json(path: str) -> dict:
    return json.loads((EXTERNAL / path).read_text())


def _kept(total: int, index: int, count: int) -> int:
    """How many of ``total`` packages the ``index``-th of ``count`` versions has: all on the newest, fewer before."""
    return max(1, total - (count - 1 - index) * max(1, total // 10))


def _spdx_prefix(name: str, index: int, count: int) -> bytes:
    doc = _json(f"sbom/spdx/{name}")
    described = set(doc.get("documentDescribes") or [])
    packages = doc["packages"]
    kept = [p for p in packages if p["SPDXID"] in described]
    others = [p for p in packages if p["SPDXID"] not in described]
    kept += others[: _kept(len(others), index, count)]
    ids = {p["SPDXID"] for p in kept} | {doc["SPDXID"]}
    doc["packages"] = kept
    doc["relationships"] = [
        r for r in doc.get("relationships", []) if r["spdxElementId"] in ids and r["relatedSpdxElement"] in ids
    ]
    return json.dumps(doc, indent=1).encode()


def _cyclonedx_prefix(name: str, index: int, count: int) -> bytes:
    doc = _json(f"sbom/cyclonedx/{name}")
    components = doc.get("components") or []
    doc["components"] = components[: _kept(len(components), index, count)]
    refs = {c.get("bom-ref") for c in doc["components"]} | {
        ((doc.get("metadata") or {}).get("component") or {}).get("bom-ref")
    }
    if "dependencies" in doc:
        doc["dependencies"] = [
            {**d, "dependsOn": [r for r in d.get("dependsOn", []) if r in refs]}
            for d in doc["dependencies"]
            if d.get("ref") in refs
        ]
    for component in doc["components"]:  # the older tool's purl type, written as the newer one's (``pkg:apk/alpine``)
        if str(component.get("purl", "")).startswith("pkg:alpine/"):
            component["purl"] = "pkg:apk/alpine/" + component["purl"].removeprefix("pkg:alpine/")
    doc.pop("serialNumber", None)  # one document per version: not the same BOM
    return json.dumps(doc, indent=1).encode()


def _sarif(name: str, *, fixed_errors: bool) -> bytes:
    doc = _json(f"sarif/{name}")
    if fixed_errors:
        for run in doc["runs"]:
            run["results"] = [r for r in run.get("results", []) if r.get("level") != "error"]
    return json.dumps(doc, indent=1).encode()


def _inspec(name: str, index: int, count: int) -> bytes:
    """The report with the first share of its failed controls passing: none on the oldest, all on the newest."""
    doc = copy.deepcopy(_json(f"inspec/{name}"))
    failed = [
        control
        for profile in doc["profiles"]
        for control in profile["controls"]
        if any(result.get("status") == "failed" for result in control.get("results", []))
    ]
    fixed = len(failed) * index // max(1, count - 1)
    for control in failed[:fixed]:
        for result in control["results"]:
            if result.get("status") == "failed":
                result["status"] = "passed"
                result.pop("message", None)
    return json.dumps(doc).encode()


def _provenance(version, builder: str, private: ec.EllipticCurvePrivateKey | None) -> bytes:
    """An in-toto SLSA v1 statement about the version's manifest; in a signed DSSE envelope when ``private``."""
    manifest = version_manifest(version)
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {
                "name": f"{version.family.slug}@{version.version}",
                "digest": {"sha256": hashlib.sha256(manifest).hexdigest()},
            }
        ],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {"buildType": "https://example.org/golden-image/packer@v1", "externalParameters": {}},
            "runDetails": {"builder": {"id": builder}},
        },
    }
    if private is None:
        return json.dumps(statement).encode()
    payload = json.dumps(statement).encode()
    payload_type = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)
    signature = private.sign(pae, ec.ECDSA(hashes.SHA256()))
    envelope = {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
    }
    return json.dumps(envelope).encode()
