"""Reads of the compliance app: evidence per version (set-based), package search, SBOM diff, badges, logs."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Max

from apps.compliance.signing import canonical_manifest
from apps.images.models import ImageArtifact, ImageVersion

from .models import (
    GateDecision,
    ProvenanceDocument,
    SbomDocument,
    SbomPackage,
    ScanSummary,
    SignatureVerification,
    SigningKey,
    Upload,
)


@dataclass
class Evidence:
    """What is on record for one version: newest verification, SBOM, provenance, scan summaries (newest first)."""

    verification: SignatureVerification | None = None
    sbom: SbomDocument | None = None
    provenance: ProvenanceDocument | None = None
    scans: list[ScanSummary] = field(default_factory=list)


def version_evidence(versions) -> dict[int, Evidence]:
    """Evidence for many versions in four queries (no query per version)."""
    ids = [v.pk for v in versions]
    evidence = {pk: Evidence() for pk in ids}
    for row in SignatureVerification.objects.filter(version_id__in=ids, via_gate=False).order_by("-created_at", "-id"):
        if evidence[row.version_id].verification is None:
            evidence[row.version_id].verification = row
    for row in SbomDocument.objects.filter(pk__in=_latest_ids(SbomDocument, ids)).defer("findings"):
        evidence[row.version_id].sbom = row
    for row in ProvenanceDocument.objects.filter(pk__in=_latest_ids(ProvenanceDocument, ids)):
        evidence[row.version_id].provenance = row
    for row in ScanSummary.objects.filter(version_id__in=ids).defer("findings").order_by("-id"):
        evidence[row.version_id].scans.append(row)
    return evidence


def _latest_ids(model, version_ids: list[int]):
    """The newest (highest id) row of ``model`` per version."""
    return (
        model.objects.filter(version_id__in=version_ids).values("version").annotate(latest=Max("id")).values("latest")
    )


def version_manifest(version: ImageVersion, artifacts=None) -> bytes:
    """The canonical manifest a pipeline signs for ``version``: family, version, contract digest, its artifacts."""
    rows = version.artifacts.all() if artifacts is None else artifacts
    return canonical_manifest(
        family=version.family.slug,
        version=version.version,
        contract_digest=f"sha256:{version.contract_digest}",
        artifacts=[
            {"platform": a.platform, "account": a.account, "region": a.region, "image_ref": a.image_ref} for a in rows
        ],
    )


def manifest_digests(versions) -> dict[int, str]:
    """SHA-256 of each version's current manifest, with every artifact read in one query."""
    by_version = defaultdict(list)
    for artifact in ImageArtifact.objects.filter(version__in=[v.pk for v in versions]):
        by_version[artifact.version_id].append(artifact)
    return {v.pk: hashlib.sha256(version_manifest(v, by_version[v.pk])).hexdigest() for v in versions}


def image_version_get(user, pk) -> ImageVersion:
    """A version the user may see (DoesNotExist otherwise, also across tenants)."""
    return ImageVersion.objects.restrict(user, "view").select_related("family", "organization").get(pk=pk)


def image_version_by_ref(ref: str, *, organization, user=None) -> ImageVersion:
    """``family@version`` in an organisation; restricted to ``user`` when given (None: the installation, CLI)."""
    family, sep, version = ref.rpartition("@")
    if not sep or not family or not version:
        raise ValueError(f"expected FAMILY@VERSION, got {ref!r}")
    queryset = ImageVersion.objects.all() if user is None else ImageVersion.objects.restrict(user, "view")
    return queryset.select_related("family", "organization").get(
        organization=organization, family__slug=family, version=version
    )


def sbom_latest(version: ImageVersion) -> SbomDocument | None:
    """The newest accepted SBOM of a version."""
    return SbomDocument.objects.filter(version=version).select_related("upload").order_by("-id").first()


def upload_list(user):
    return Upload.objects.restrict(user, "view").select_related("version__family", "uploaded_by")


def signing_key_list(user):
    return SigningKey.objects.restrict(user, "view")


def signature_verification_list(user):
    return SignatureVerification.objects.restrict(user, "view").select_related(
        "version__family", "environment", "actor"
    )


def gate_decision_list(user):
    return GateDecision.objects.restrict(user, "view").select_related("version__family", "environment", "actor")


def package_search(user, name: str, version: str | None = None):
    """Packages named ``name`` (optionally at ``version``) in the newest SBOM of each version the user may see."""
    visible = SbomPackage.objects.restrict(user, "view")
    latest = SbomDocument.objects.restrict(user, "view").values("version").annotate(latest=Max("id")).values("latest")
    rows = visible.filter(name=name, sbom_id__in=latest)
    if version:
        rows = rows.filter(package_version=version)
    return rows.select_related("version__family", "organization").order_by("version__family__slug", "-version_id")


@dataclass(frozen=True)
class PackageChange:
    key: str
    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]


def package_key(purl: str, name: str) -> str:
    """Identity of a package across versions: its purl without version (keeping ``arch``), else its name."""
    if not purl:
        return f"name:{name}"
    base, _, qualifiers = purl.split("#", 1)[0].partition("?")
    head = base.rpartition("@")[0] if "@" in base else base  # purl: the version follows the last "@"
    arch = [q for q in qualifiers.split("&") if q.startswith("arch=")]
    return head + (f"?{arch[0]}" if arch else "")


def sbom_diff(version_a: ImageVersion, version_b: ImageVersion) -> dict[str, list[PackageChange]]:
    """Packages added, removed and changed from the newest SBOM of ``version_a`` to that of ``version_b``."""
    before, after = _package_versions(version_a), _package_versions(version_b)
    result: dict[str, list[PackageChange]] = {"added": [], "removed": [], "changed": []}
    for key in sorted(before.keys() | after.keys()):
        name_a, versions_a = before.get(key, ("", set()))
        name_b, versions_b = after.get(key, ("", set()))
        change = PackageChange(key, name_b or name_a, tuple(sorted(versions_a)), tuple(sorted(versions_b)))
        if key not in before:
            result["added"].append(change)
        elif key not in after:
            result["removed"].append(change)
        elif versions_a != versions_b:
            result["changed"].append(change)
    return result


def _package_versions(version: ImageVersion) -> dict[str, tuple[str, set[str]]]:
    sbom = sbom_latest(version)
    found: dict[str, tuple[str, set[str]]] = {}
    if sbom is None:
        return found
    names: dict[str, str] = {}
    versions: dict[str, set[str]] = defaultdict(set)
    for name, package_version, purl in sbom.packages.values_list("name", "package_version", "purl"):
        key = package_key(purl, name)
        names.setdefault(key, name)
        versions[key].add(package_version)
    return {key: (names[key], versions[key]) for key in versions}


def version_badges(version: ImageVersion):
    """The five badges of one version (see ``version_badges_for``)."""
    return version_badges_for([version])[version.pk]


def version_badges_for(versions) -> dict[int, list]:
    """Badges for many versions from set-based reads: evidence and manifests in a fixed number of queries."""
    from .badges import badges_for

    versions = list(versions)
    evidence, digests = version_evidence(versions), manifest_digests(versions)
    return {v.pk: badges_for(v, evidence[v.pk], digests[v.pk]) for v in versions}


def versions_with_valid_signature(versions) -> set[int]:
    """Ids of the versions whose newest signature check verified the manifest they have now (not stale)."""
    evidence = version_evidence(versions)
    digests = manifest_digests(versions)
    return {
        pk
        for pk, item in evidence.items()
        if item.verification is not None
        and item.verification.result == "verified"
        and item.verification.manifest_sha256 in ("", digests[pk])
    }


BADGE_STATUSES = ("pass", "fail", "warn", "unknown")


def version_ids_with_badge(versions, badge: str, status: str) -> list[int]:
    """Ids among ``versions`` whose ``badge`` (cis, slsa, signed, sbom, vulnerabilities) has ``status``.

    Badges are computed set-based per version (a registry holds hundreds of versions, not millions), then used as an
    ``IN`` filter on versions or on the assets that run them.
    """
    return [
        pk
        for pk, badges in version_badges_for(versions).items()
        if any(b.key == badge and b.status == status for b in badges)
    ]
