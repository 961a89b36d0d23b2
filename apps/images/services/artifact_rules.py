"""Attaching discovered images to registered versions: by artifact rules after each scan, or in one action (ADR 025).

Every attachment goes through ``image_artifact_add`` (validated against the version's contract targets, audited,
``image.artifact.added`` in the outbox, machines on the image resolved at once). An image a rule cannot attach keeps
a ``match_note`` saying why, so "register in one action" can show it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery

from apps.tenancy.services import audit_record, ensure_permitted_on
from qlrf.errors import field_error

from ..artifact_matching import Image, Registry, Rule, match_images
from ..models import ArtifactRule, ImageArtifact, ImageFamily, ImageVersion
from ..refs import normalise_image_ref
from .registration import image_artifact_add


@dataclass
class RulesOutcome:
    attached: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # image ref → reason


def _discovered():
    from apps.inventory.models import DiscoveredImage

    return DiscoveredImage


def discovered_images_link(*, organization) -> int:
    """Point every discovered image at the registered artifact with its ref (one UPDATE; hand registrations too)."""
    model = _discovered()
    artifacts = ImageArtifact.objects.filter(
        organization=organization, platform=OuterRef("platform"), ref_key=OuterRef("ref_key")
    )
    return (
        model.objects.filter(organization=organization, artifact__isnull=True)
        .annotate(found=Subquery(artifacts.values("id")[:1]))
        .filter(found__isnull=False)
        .update(artifact_id=Subquery(artifacts.values("id")[:1]), match_note="registered artifact")
    )


def _registry(organization) -> Registry:
    versions = {
        (slug.lower(), text): pk
        for pk, slug, text in ImageVersion.objects.filter(organization=organization).values_list(
            "id", "family__slug", "version"
        )
    }
    families: dict[str, str] = {}
    for slug, name in ImageFamily.objects.filter(organization=organization).values_list("slug", "name"):
        families.setdefault(name.lower(), slug.lower())
        families[slug.lower()] = slug.lower()
    artifacts = {
        (platform, ref_key): version_id
        for platform, ref_key, version_id in ImageArtifact.objects.filter(organization=organization).values_list(
            "platform", "ref_key", "version_id"
        )
    }
    registry = Registry(versions, families, artifacts)
    matched = _discovered().objects.filter(organization=organization, artifact__isnull=False)
    for platform, account, name, version_id in matched.values_list("platform", "account", "name", "artifact__version"):
        if name:
            registry.named.setdefault((platform, account, name), version_id)
    return registry


def _rules(organization) -> list[Rule]:
    return [
        Rule(
            id=rule.pk,
            name=rule.name,
            kind=rule.kind,
            platform=rule.platform,
            family=rule.family.slug.lower() if rule.family_id else "",
            family_tag=rule.family_tag,
            version_tag=rule.version_tag,
            name_pattern=rule.name_pattern,
        )
        for rule in ArtifactRule.objects.filter(organization=organization, enabled=True).select_related("family")
    ]


def artifact_rules_apply(*, organization, connector=None) -> RulesOutcome:
    """Attach every unmatched live discovered image (of ``connector``, or the organisation) that a rule recognises.

    Runs as the installation (after a scan; the rules themselves were written by an engineer or admin).
    """
    discovered_images_link(organization=organization)
    outcome = RulesOutcome()
    rules = _rules(organization)
    if not rules:
        return outcome
    model = _discovered()
    pending = model.objects.filter(organization=organization, artifact__isnull=True, removed_at__isnull=True)
    if connector is not None:
        pending = pending.filter(connector=connector)
    rows = {
        row["id"]: row
        for row in pending.values(
            "id", "platform", "account", "region", "name", "image_ref", "ref_key", "source_ref", "tags"
        )
    }
    images = [
        Image(
            id=pk,
            platform=row["platform"],
            account=row["account"],
            name=row["name"],
            ref_key=row["ref_key"],
            source_key=normalise_image_ref(row["platform"], row["source_ref"] or ""),
            tags=row["tags"] or {},
        )
        for pk, row in rows.items()
    ]
    matches = match_images(rules, images, _registry(organization))
    versions = ImageVersion.objects.select_related("family", "organization").in_bulk({m.version_id for m in matches})
    by_rule: dict[int, list[str]] = defaultdict(list)
    for match in matches:
        row = rows[match.image_id]
        try:
            with transaction.atomic():
                artifact = image_artifact_add(
                    actor=None,
                    version=versions[match.version_id],
                    platform=row["platform"],
                    image_ref=row["image_ref"],
                    account=row["account"],
                    region=row["region"],
                )
                model.objects.filter(
                    organization=organization, platform=row["platform"], ref_key=row["ref_key"]
                ).update(artifact=artifact, match_note=match.how[:300])
        except ValidationError as exc:
            reason = "; ".join(exc.messages)[:300]
            outcome.refused[row["image_ref"]] = reason
            model.objects.filter(pk=match.image_id).update(match_note=f"{match.how}: {reason}"[:300])
            continue
        outcome.attached += 1
        by_rule[match.rule_id].append(row["image_ref"])
    _audit_rules(organization, by_rule)
    return outcome


def _audit_rules(organization, by_rule: dict[int, list[str]]) -> None:
    """One audit event per rule that attached images (the artifacts themselves are audited one by one)."""
    if not by_rule:
        return
    with transaction.atomic():
        for rule in ArtifactRule.objects.filter(pk__in=by_rule):
            refs = by_rule[rule.pk]
            audit_record(
                organization=organization,
                actor=None,
                action="images.artifactrule.apply",
                obj=rule,
                after={"attached": len(refs), "image_refs": refs[:100]},
            )


def _version_named(organization, family: str, version: str) -> ImageVersion:
    found = (
        ImageVersion.objects.select_related("family", "organization")
        .filter(organization=organization, family__slug__iexact=(family or "").strip(), version=(version or "").strip())
        .first()
    )
    if found is None:
        raise field_error("version", f"no registered version {family}@{version}", "unknown_version")
    return found


@transaction.atomic
def discovered_image_register(*, actor, image, family: str = "", version: str = "") -> ImageArtifact:
    """Register one discovered image as an artifact of ``family@version`` (default: what its tags/name state).

    One action instead of typing the image id: checked against the version's contract, audited, evented.
    """
    ensure_permitted_on(actor, image, "view", scope="inventory")
    image = type(image).objects.select_for_update().get(pk=image.pk)
    if image.removed_at is not None:
        raise field_error("image", f"{image} is no longer listed by its connector", "image_removed")
    target = _version_named(image.organization, family or image.family, version or image.version)
    artifact = image_artifact_add(
        actor=actor,
        version=target,
        platform=image.platform,
        image_ref=image.image_ref,
        account=image.account,
        region=image.region,
    )
    type(image).objects.filter(organization=image.organization, platform=image.platform, ref_key=image.ref_key).update(
        artifact=artifact, match_note="registered in one action"
    )
    image.refresh_from_db()
    return artifact
