"""Artifact rules as pure functions: which registered version a discovered image is a copy of (ADR 025).

No ORM here: the service loads rules, unmatched images, versions and artifacts as plain values, this module decides,
the service writes. Order: tag and name rules first (rules by name), then copy sources until nothing more attaches
(a copy of a copy attaches in the next round).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from .choices import ArtifactRuleKindChoices

MAX_PATTERN = 300
COPY_ROUNDS = 5


def compile_rule_pattern(pattern: str, *, needs_family: bool) -> re.Pattern[str]:
    """Compile a name rule's regex; it must hold a ``version`` group (and a ``family`` group without a rule family)."""
    if not pattern or len(pattern) > MAX_PATTERN:
        raise ValidationError({"name_pattern": f"a name rule needs a pattern of 1-{MAX_PATTERN} characters"})
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValidationError({"name_pattern": f"not a valid regular expression: {exc}"}, code="invalid") from None
    if "version" not in compiled.groupindex:
        raise ValidationError({"name_pattern": "the pattern needs a (?P<version>…) group"}, code="invalid")
    if needs_family and "family" not in compiled.groupindex:
        raise ValidationError(
            {"name_pattern": "without a rule family the pattern needs a (?P<family>…) group"}, code="invalid"
        )
    return compiled


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    kind: str
    platform: str = ""
    family: str = ""  # slug, lower case; "" = named by the image
    family_tag: str = "Family"
    version_tag: str = "Version"
    name_pattern: str = ""


@dataclass(frozen=True)
class Image:
    id: int
    platform: str
    account: str
    name: str
    ref_key: str
    source_key: str  # ref_key of the image it was copied from, "" if unknown
    tags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    image_id: int
    version_id: int
    rule_id: int
    how: str


class Registry:
    """The registered versions and artifacts an image can be matched to."""

    def __init__(self, versions: dict[tuple[str, str], int], families: dict[str, str], artifacts: dict[tuple, int]):
        self.versions = versions  # (family slug, version) → version id
        self.family_of = {version_id: slug for (slug, _), version_id in versions.items()}
        self.families = families  # family slug or name, lower case → slug
        self.artifacts = artifacts  # (platform, ref_key) → version id
        self.named: dict[tuple[str, str, str], int] = {}  # (platform, account, image name) → version id

    def version(self, family: str, version: str) -> int | None:
        slug = self.families.get((family or "").strip().lower())
        if not slug or not version:
            return None
        version = version.strip()
        found = self.versions.get((slug, version))
        if found is None and version[:1] in "vV":
            found = self.versions.get((slug, version[1:]))
        return found


def _tag(tags: dict, key: str) -> str:
    key = key.lower()
    return next((str(v).strip() for k, v in tags.items() if str(k).lower() == key), "")


def _by_tags(rule: Rule, image: Image, registry: Registry) -> int | None:
    family = _tag(image.tags, rule.family_tag) if rule.family_tag else ""
    if rule.family:
        if family and registry.families.get(family.lower()) != rule.family:
            return None
        family = rule.family
    return registry.version(family, _tag(image.tags, rule.version_tag))


def _by_name(rule: Rule, image: Image, registry: Registry, pattern: re.Pattern[str]) -> int | None:
    match = pattern.search(image.name)
    if match is None:
        return None
    groups = match.groupdict()
    family = rule.family or groups.get("family") or ""
    if rule.family and groups.get("family") and registry.families.get(groups["family"].lower()) != rule.family:
        return None
    return registry.version(family, groups.get("version") or "")


def _by_copy(image: Image, registry: Registry) -> int | None:
    if image.source_key and (image.platform, image.source_key) in registry.artifacts:
        return registry.artifacts[(image.platform, image.source_key)]
    if image.platform == "aws" and image.name:  # CopyImage keeps the name: same account + name is the same build
        return registry.named.get((image.platform, image.account, image.name))
    return None


def match_images(rules: list[Rule], images: list[Image], registry: Registry) -> list[Match]:
    """Every image a rule attaches to a version (each image at most once; the first rule by name wins)."""
    matches: dict[int, Match] = {}
    patterns = {
        r.id: compile_rule_pattern(r.name_pattern, needs_family=not r.family)
        for r in rules
        if r.kind == ArtifactRuleKindChoices.NAME_PATTERN
    }
    for image in images:
        for rule in rules:
            if rule.platform and rule.platform != image.platform:
                continue
            if rule.kind == ArtifactRuleKindChoices.TAGS:
                version = _by_tags(rule, image, registry)
            elif rule.kind == ArtifactRuleKindChoices.NAME_PATTERN:
                version = _by_name(rule, image, registry, patterns[rule.id])
            else:
                continue
            if version is not None:
                matches[image.id] = Match(image.id, version, rule.id, f"{rule.kind} rule {rule.name!r}")
                break
    copy_rules = [r for r in rules if r.kind == ArtifactRuleKindChoices.COPY_SOURCE]
    for _ in range(COPY_ROUNDS if copy_rules else 0):
        for image in images:
            if image.id in matches:
                found = matches[image.id].version_id
                registry.artifacts.setdefault((image.platform, image.ref_key), found)
                registry.named.setdefault((image.platform, image.account, image.name), found)
        added = 0
        for image in images:
            if image.id in matches:
                continue
            version = _by_copy(image, registry)
            rule = next(
                (
                    r
                    for r in copy_rules
                    if (not r.platform or r.platform == image.platform)
                    and (not r.family or registry.family_of.get(version) == r.family)
                ),
                None,
            )
            if rule and version is not None:
                matches[image.id] = Match(image.id, version, rule.id, f"copy_source rule {rule.name!r}")
                added += 1
        if not added:
            break
    return list(matches.values())
