"""Portal views of the image registry: the catalogue and one version's contract, artifacts, channels and ancestry."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from itertools import groupby

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.views.generic import TemplateView

from apps.compliance.badges import BADGES
from apps.compliance.selectors import (
    manifest_digests,
    sbom_diff,
    sbom_latest,
    version_badges_for,
    version_evidence,
)
from apps.tenancy.choices import PlatformChoices
from apps.tenancy.selectors import current_organization

from .choices import ImageVersionStatusChoices
from .filtersets import ImageVersionFilterSet
from .models import ChannelAssignment, ImageArtifact, ImageVersion
from .selectors import channel_list, image_family_list, image_version_ancestry, image_version_list

PLATFORMS = [value for value, _ in PlatformChoices.choices]
SECTION_TITLES = {
    "identity": "Identity",
    "base": "Base image",
    "hardening": "Hardening",
    "packages": "Packages",
    "features": "Windows features",
    "services": "Services",
    "kernel": "Kernel",
    "updates": "Updates",
    "defender": "Microsoft Defender",
    "laps": "LAPS",
    "credential_guard": "Credential Guard",
    "patch_sla": "Patch SLA",
    "supply_chain": "Supply chain",
    "targets": "Targets",
}
HIDDEN_KEYS = {"apiVersion", "kind"}
MAX_GENERATIONS = 20
SOON = datetime.timedelta(days=90)


def _platform_counts(queryset):
    """Annotate one artifact count per platform (one query for the whole catalogue)."""
    return queryset.annotate(
        **{f"n_{p}": Count("artifacts", filter=Q(artifacts__platform=p)) for p in PLATFORMS},
        n_artifacts=Count("artifacts"),
    )


@dataclass
class FamilyRow:
    family: object
    versions: list = field(default_factory=list)


class ImageCatalogueView(LoginRequiredMixin, TemplateView):
    """Every family of the current organisation with its versions: status, release, artifacts per platform."""

    template_name = "images/catalogue.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, organization = self.request.user, current_organization(self.request)
        versions = image_version_list(user).filter(organization=organization)
        filterset = ImageVersionFilterSet(self.request.GET or None, queryset=versions, request=self.request)
        versions = list(_platform_counts(filterset.qs).order_by("family__name", "family_id", "-version_key"))
        golden = self._golden(user, organization)
        badges = version_badges_for(versions)
        for version in versions:
            version.golden_in = golden.get(version.pk, [])
            version.badges = badges.get(version.pk, [])
        families = list(image_family_list(user).filter(organization=organization))
        rows = {family.pk: FamilyRow(family) for family in families}
        for family_id, group in groupby(versions, key=lambda v: v.family_id):
            group = list(group)
            rows.setdefault(family_id, FamilyRow(group[0].family)).versions = group
        filtered = bool(
            self.request.GET.get("family") or self.request.GET.getlist("status") or self.request.GET.get("badge")
        )
        context.update(
            organization=organization,
            families=[row for row in rows.values() if row.versions or not filtered],
            family_choices=families,
            status_choices=ImageVersionStatusChoices.choices,
            selected_family=self.request.GET.get("family", ""),
            selected_statuses=self.request.GET.getlist("status"),
            selected_badge=self.request.GET.get("badge", ""),
            badge_choices=[(f"{b}:{st}", f"{b} {st}") for b in BADGES for st in ("pass", "fail", "warn", "unknown")],
            filter_errors=filterset.errors if filterset.is_bound else {},
            platforms=PlatformChoices.choices,
            version_count=len(versions),
        )
        return context

    @staticmethod
    def _golden(user, organization) -> dict[int, list[str]]:
        golden: dict[int, list[str]] = {}
        channels = channel_list(user).filter(organization=organization, version__isnull=False)
        for channel in channels.order_by("environment__name"):
            golden.setdefault(channel.version_id, []).append(channel.environment.name)
        return golden


@dataclass
class Node:
    """One version in the children tree."""

    version: ImageVersion
    children: list = field(default_factory=list)


def _children_tree(user, version: ImageVersion) -> list[Node]:
    """Descendants of ``version`` as a tree, one restricted query per generation (bounded)."""
    nodes = {version.pk: Node(version)}
    frontier = [version.pk]
    for _ in range(MAX_GENERATIONS):
        if not frontier:
            break
        children = list(image_version_list(user).filter(parent_id__in=frontier).order_by("family__slug", "version_key"))
        for child in children:
            nodes[child.pk] = Node(child)
            nodes[child.parent_id].children.append(nodes[child.pk])
        frontier = [child.pk for child in children]
    return nodes[version.pk].children


ACRONYMS = {"asr", "aws", "cis", "dma", "gcp", "hvci", "id", "ids", "laps", "os", "sbom", "sla", "slsa", "uefi", "vbs"}


def _label(key: str) -> str:
    """``max_days_behind`` → "Max days behind", ``slsa_level`` → "SLSA level"; other keys (sysctl names) verbatim."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        return key
    words = [word.upper() if word in ACRONYMS else word for word in key.split("_")]
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def _render_value(value):
    """A contract value as a small tree the template renders: mapping → dl, list of mappings → table, list → ul."""
    if isinstance(value, dict):
        return {"kind": "map", "items": [(_label(str(k)), _render_value(v)) for k, v in value.items()]}
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            columns = list(dict.fromkeys(key for item in value for key in item))
            rows = [[_render_value(item.get(column, "")) for column in columns] for item in value]
            return {"kind": "table", "columns": [_label(c) for c in columns], "rows": rows}
        return {"kind": "list", "items": [_render_value(item) for item in value]}
    if isinstance(value, bool):
        return {"kind": "scalar", "value": "yes" if value else "no"}
    return {"kind": "scalar", "value": "—" if value in ("", None) else str(value)}


def _cis_exceptions(contract: dict, today: datetime.date) -> list[dict]:
    """The CIS exceptions with how long each one still excuses its control."""
    exceptions = ((contract.get("hardening") or {}).get("cis") or {}).get("exceptions") or []
    rows = []
    for item in exceptions:
        try:
            expiry = datetime.date.fromisoformat(str(item.get("expiry")))
        except ValueError:
            expiry = None
        days = (expiry - today).days if expiry else None
        state = "expired" if days is not None and days < 0 else "soon" if days is not None and days <= SOON.days else ""
        rows.append({**item, "expiry_date": expiry, "days_left": days, "state": state})
    return rows


def contract_sections(contract: dict) -> list[dict]:
    """Top-level contract sections in the contract's canonical order, each ready to render (never raw JSON).

    The order comes from SECTION_TITLES, not the stored mapping: PostgreSQL's jsonb does not keep key order.
    The CIS exceptions are left out of the hardening section's body: the page shows them in their own table.
    """
    order = {key: index for index, key in enumerate(SECTION_TITLES)}
    sections = []
    for key, value in sorted(contract.items(), key=lambda item: (order.get(item[0], len(order)), item[0])):
        if key in HIDDEN_KEYS:
            continue
        if key == "hardening" and isinstance(value, dict) and isinstance(value.get("cis"), dict):
            value = {**value, "cis": {k: v for k, v in value["cis"].items() if k != "exceptions"}}
        sections.append({"key": key, "title": SECTION_TITLES.get(key, _label(key)), "body": _render_value(value)})
    return sections


def _artifact_groups(user, version: ImageVersion) -> list[dict]:
    artifacts = ImageArtifact.objects.restrict(user, "view").filter(version=version).order_by("platform", "region")
    groups = []
    for platform, by_platform in groupby(artifacts, key=lambda a: a.platform):
        regions = [(region or "—", list(items)) for region, items in groupby(by_platform, key=lambda a: a.region)]
        groups.append(
            {"platform": PlatformChoices(platform).label if platform in PLATFORMS else platform, "regions": regions}
        )
    return groups


class ImageVersionDetailView(LoginRequiredMixin, TemplateView):
    """One version: contract, artifacts per platform and region, channel history, ancestry; 404 outside the tenant."""

    template_name = "images/version_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        try:
            version = image_version_list(user).select_related("revoked_via__family").get(pk=kwargs["pk"])
        except ImageVersion.DoesNotExist:
            raise Http404("no such image version") from None
        history = (
            ChannelAssignment.objects.restrict(user, "view")
            .filter(Q(to_version=version) | Q(from_version=version))
            .select_related("channel__environment", "from_version", "to_version", "assigned_by")
            .order_by("-assigned_at", "-id")
        )
        context.update(
            version=version,
            sections=contract_sections(version.contract),
            cis_exceptions=_cis_exceptions(version.contract, timezone.localdate()),
            artifact_groups=_artifact_groups(user, version),
            golden_in=list(channel_list(user).filter(version=version).order_by("environment__name")),
            history=list(history),
            ancestors=image_version_ancestry(version),
            children=_children_tree(user, version),
            scans=_scans(version),
            sbom=_sbom(version),
            signature=_signature(version),
            sbom_changes=_sbom_changes(user, version),
        )
        return context


SBOM_CHANGES_SHOWN = 50


def _signature(version: ImageVersion) -> dict:
    """The newest signature check of the version and whether it still covers the manifest (artifacts) it has now."""
    verification = version_evidence([version])[version.pk].verification
    current = manifest_digests([version])[version.pk]
    stale = bool(verification and verification.manifest_sha256 and verification.manifest_sha256 != current)
    return {"check": verification, "stale": stale, "checks": version.verifications.count()}


def _sbom_changes(user, version: ImageVersion) -> dict | None:
    """Packages added, removed and changed since the family's previous version (by version order), when both have
    an SBOM; at most ``SBOM_CHANGES_SHOWN`` rows of each kind are shown, with the full counts."""
    previous = (
        image_version_list(user)
        .filter(family_id=version.family_id, version_key__lt=version.version_key)
        .order_by("-version_key")
        .first()
    )
    if previous is None or sbom_latest(previous) is None or sbom_latest(version) is None:
        return {"previous": previous, "diff": None} if previous is not None else None
    diff = sbom_diff(previous, version)
    return {
        "previous": previous,
        "diff": diff,
        "counts": {kind: len(rows) for kind, rows in diff.items()},
        "shown": {kind: rows[:SBOM_CHANGES_SHOWN] for kind, rows in diff.items()},
    }


def _sbom(version: ImageVersion):
    """The newest accepted SBOM of the version, with the findings it was imported with (at most 50 shown)."""
    from apps.compliance.selectors import sbom_latest

    sbom = sbom_latest(version)
    if sbom is not None:
        sbom.shown_findings = (sbom.findings or [])[:50]
    return sbom


def _scans(version: ImageVersion) -> list[dict]:
    """The version's scan summaries, newest first: open and suppressed findings, baseline states, overlay chains."""
    from apps.compliance.models import ScanSummary
    from apps.compliance.parsers.sarif import BASELINE_STATES
    from apps.compliance.services.scan_counts import control_statuses, open_levels, suppressed_total

    rows = []
    summaries = ScanSummary.objects.filter(organization=version.organization, version=version).order_by("-id")[:20]
    for summary in summaries:
        counts = summary.counts or {}
        row = {"summary": summary, "kind": summary.kind, "tool": summary.tool}
        if summary.kind == "sarif":
            row.update(
                open=open_levels(counts),
                open_total=sum(open_levels(counts).values()),
                suppressed_total=suppressed_total(counts),
                suppressions=counts.get("suppressions") or [],
                # in SARIF's order: PostgreSQL's jsonb does not keep the stored key order
                baseline=[
                    (state, (counts.get("baseline") or {}).get(state))
                    for state in BASELINE_STATES
                    if (counts.get("baseline") or {}).get(state)
                ],
            )
        else:
            row.update(statuses=control_statuses(counts), chain=counts.get("chain") or [])
        rows.append(row)
    return rows
