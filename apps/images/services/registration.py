"""Registering image versions from their contracts, and their artifacts (idempotent for CI pipelines)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.events.services import emit
from apps.tenancy.services import ensure_permitted, ensure_permitted_on
from qlrf.errors import Conflict, DocumentRejected, field_error

from ..choices import ImageVersionStatusChoices, OsFamilyChoices
from ..contracts import validate_contract
from ..models import ImageArtifact, ImageFamily, ImageVersion
from ..refs import normalise_image_ref
from ..versioning import DEFAULT_SCHEME, VersionFormatError, equal_to, parse_version, rank_key, ranked
from ._common import audited, version_event

PLATFORMS_BY_TARGET = {"aws": "aws", "azure": "azure", "gcp": "gcp", "vsphere": "vsphere"}


def contract_check(contract: str | bytes | dict, *, filename: str = "<contract>"):
    """Validate a contract (YAML/JSON text or an already-parsed mapping); raise DocumentRejected with every fault."""
    data = json.dumps(contract) if isinstance(contract, dict) else contract
    result = validate_contract(data, filename=filename)
    if not result.valid:
        errors = [
            {"path": f.pointer or "/", "line": f.line, "code": f.code, "detail": f.message} for f in result.faults
        ]
        code = "too_large" if result.codes == ["too_large"] else "invalid_contract"
        raise DocumentRejected(code, f"the contract has {len(errors)} fault(s); first: {result.faults[0]}", errors)
    return result


def _targets(version: ImageVersion) -> set[str]:
    return {PLATFORMS_BY_TARGET[key] for key in (version.contract.get("targets") or {}) if key in PLATFORMS_BY_TARGET}


def _resolve_parent(organization, family: ImageFamily, parent: str | None) -> ImageVersion | None:
    if not parent:
        return None
    family_slug, _, version = parent.rpartition("@") if "@" in parent else (family.slug, "", parent)
    found = ImageVersion.objects.filter(organization=organization, family__slug=family_slug, version=version).first()
    if found is None:
        raise field_error("parent", f"unknown parent version {parent!r}", "unknown_parent")
    return found


@transaction.atomic
def image_version_register(
    *, actor, organization, contract, version: str, parent: str | None = None, artifacts: list[dict] = ()
) -> tuple[ImageVersion, bool]:
    """Register ``family@version`` from its contract; the same contract again is a no-op, a different one a conflict.

    Returns the version and whether it was created. A child of a revoked parent is born revoked.
    """
    ensure_permitted(actor, scope="images", action="add", organization=organization)
    checked = contract_check(contract)
    identity = checked.document["identity"]
    scheme = identity.get("version_scheme") or DEFAULT_SCHEME
    try:
        parse_version(scheme, version)
    except VersionFormatError as exc:
        raise field_error("version", str(exc), "invalid_version") from None
    family_slug = identity["family"]
    family, _ = ImageFamily.objects.get_or_create(
        organization=organization,
        slug=family_slug,
        defaults={
            "name": family_slug,
            "os_family": OsFamilyChoices.WINDOWS if "Windows" in checked.kind else OsFamilyChoices.LINUX,
            "version_scheme": scheme,
        },
    )
    family = ImageFamily.objects.select_for_update().get(pk=family.pk)  # one registration per family at a time
    if family.version_scheme != scheme:
        raise Conflict(
            "version_scheme_conflict",
            f"{family} numbers its versions as {family.version_scheme}; this contract says {scheme}",
        )
    existing = ImageVersion.objects.filter(family=family, version=version).first()
    if existing is not None:
        if existing.contract_digest != checked.digest:
            raise field_error("contract", f"{existing} already exists with a different contract", "version_conflict")
        for artifact in artifacts:
            image_artifact_add(actor=actor, version=existing, **artifact)
        return existing, False
    siblings = list(ImageVersion.objects.filter(family=family).values_list("version", flat=True))
    twin = equal_to(scheme, version, siblings)
    if twin is not None:
        raise Conflict(
            "version_order_conflict",
            f"{family}@{version} orders equal to the registered {family}@{twin} under {scheme}; "
            "two different versions must never compare equal",
        )
    parent_version = _resolve_parent(organization, family, parent)
    image_version = ImageVersion.objects.create(
        organization=organization,
        family=family,
        version=version,
        version_key=rank_key(0),  # provisional: the family is re-ranked below
        contract=checked.document,
        contract_digest=checked.digest,
        parent=parent_version,
    )
    if parent_version is not None and parent_version.revoked_at is not None:
        image_version.revoked_at = parent_version.revoked_at
        image_version.revoked_via = parent_version.revoked_via or parent_version
        image_version.revocation_reason = f"inherited from {parent_version}"
        if parent_version.status == ImageVersionStatusChoices.REVOKED:
            image_version.status = ImageVersionStatusChoices.REVOKED
        image_version.save()
    family_rerank(family)
    image_version.refresh_from_db(fields=["version_key"])
    audited(actor=actor, obj=image_version, action="images.imageversion.register")
    version_event(image_version, "image.version.registered")
    for artifact in artifacts:
        image_artifact_add(actor=actor, version=image_version, **artifact)
    return image_version, True


def family_rerank(family: ImageFamily) -> None:
    """Store each version's rank under the family's scheme as its ``version_key`` (ADR 011)."""
    versions = list(ImageVersion.objects.filter(family=family).only("pk", "version", "version_key"))
    order = {text: rank for rank, text in enumerate(ranked(family.version_scheme, [v.version for v in versions]))}
    changed = []
    for version in versions:
        key = rank_key(order[version.version])
        if version.version_key != key:
            version.version_key = key
            changed.append(version)
    ImageVersion.objects.bulk_update(changed, ["version_key"], batch_size=500)


def _resolve_assets(artifact: ImageArtifact) -> None:
    """Machines already running this image become managed at once (one indexed UPDATE, no rescan needed)."""
    from apps.inventory.models import Asset

    Asset.objects.filter(
        organization=artifact.organization, platform=artifact.platform, ref_key=artifact.ref_key
    ).update(image_artifact=artifact, image_version=artifact.version)


@transaction.atomic
def image_artifact_add(
    *, actor, version: ImageVersion, platform: str, image_ref: str, account: str = "", region: str = ""
) -> ImageArtifact:
    """Record where a version lives on a platform the contract targets; re-adding the same artifact is a no-op."""
    ensure_permitted_on(actor, version, "change")
    if platform not in _targets(version):
        raise field_error(
            "platform",
            f"the contract of {version} does not target {platform!r} "
            f"(targets: {', '.join(sorted(_targets(version))) or 'none'})",
            "platform_not_targeted",
        )
    if not image_ref or len(image_ref) > 500:
        raise field_error("image_ref", "an artifact needs an image_ref of at most 500 characters", "invalid_ref")
    ref_key = normalise_image_ref(platform, image_ref)
    existing = ImageArtifact.objects.filter(
        organization=version.organization, platform=platform, ref_key=ref_key
    ).first()
    if existing is not None:
        if existing.version_id != version.pk:
            raise field_error(
                "image_ref", f"{image_ref} is already an artifact of {existing.version}", "artifact_conflict"
            )
        return existing
    artifact = ImageArtifact(
        organization=version.organization,
        version=version,
        platform=platform,
        account=account,
        region=region,
        image_ref=image_ref,
        ref_key=ref_key,
    )
    try:
        artifact.full_clean()
    except ValidationError:
        raise
    artifact.save()
    _resolve_assets(artifact)
    audited(actor=actor, obj=artifact, action="images.imageartifact.add")
    emit(
        organization=version.organization,
        type="image.artifact.added",
        payload={
            "family": version.family.slug,
            "version": version.version,
            "platform": platform,
            "account": account,
            "region": region,
            "image_ref": image_ref,
        },
    )
    return artifact
