"""What the PDF reports show: the executive summary and the detailed drift report, as template contexts."""

from __future__ import annotations

import datetime
import itertools
from collections import Counter

from django.db.models import Count

from apps.compliance.models import SignatureVerification
from apps.compliance.selectors import version_badges_for
from apps.drift.selectors import DriftFilters, drift_outdated_list, drift_report_build, drift_trend
from apps.images.models import ChannelAssignment, ImageVersion
from apps.insights.evidence import insight_as_of
from apps.inventory.models import Asset
from apps.inventory.selectors import assets_present_at
from apps.resilience.selectors import drill_summaries

from ..selectors import visible
from .chart import coverage_chart_svg
from .csv_exports import outdated_rows

TREND_DAYS = 30
TOP_SITES = 5
PDF_OUTDATED_LIMIT = 200
RAG_LABELS = {"green": "Green", "amber": "Amber", "red": "Red", None: "No data"}


def rag_label(rag: str | None) -> str:
    """RAG as a word (never colour alone)."""
    return RAG_LABELS.get(rag, str(rag))


def _row(report) -> dict:
    return {"report": report, "rag_label": rag_label(report.rag)}


def _posture(organization, user, environment: str | None, as_of: datetime.datetime | None = None) -> dict:
    """Signature and CIS badges of the versions the fleet runs (live, or at ``as_of`` from the asset history), with
    how many machines run each."""
    if as_of is None:
        assets = visible(Asset.objects.all(), user).filter(organization=organization, removed_at__isnull=True)
        version = "image_version_id"
    else:
        assets = assets_present_at(organization, as_of, visible(Asset.objects.all(), user))
        version = "version_then"
    if environment:
        assets = assets.filter(environment__slug=environment)
    assets = assets.filter(**{f"{version}__isnull": False})
    counts = dict(assets.values_list(version).annotate(n=Count("id")).order_by())
    versions = list(
        ImageVersion.objects.filter(pk__in=counts)
        .select_related("family", "organization")
        .order_by("family__slug", "-version_key")
    )
    badges = version_badges_for(versions)
    rows, signed, cis = [], Counter(), Counter()
    for version in versions:
        by_key = {badge.key: badge for badge in badges[version.pk]}
        signed[by_key["signed"].status] += 1
        cis[by_key["cis"].status] += 1
        rows.append(
            {"version": version, "assets": counts[version.pk], "signed": by_key["signed"], "cis": by_key["cis"]}
        )
    return {"rows": rows, "signed": dict(sorted(signed.items())), "cis": dict(sorted(cis.items()))}


def _changes(organization, user, environment: str | None, at: datetime.datetime) -> dict:
    """Promotions, rollbacks, releases, revocations and failed signature checks of the seven days up to ``at``."""
    since = at - datetime.timedelta(days=7)
    assignments = visible(ChannelAssignment.objects.all(), user).filter(
        organization=organization, assigned_at__gt=since, assigned_at__lte=at
    )
    if environment:
        assignments = assignments.filter(channel__environment__slug=environment)
    versions = visible(ImageVersion.objects.all(), user).filter(organization=organization).select_related("family")
    failed = visible(SignatureVerification.objects.all(), user).filter(
        organization=organization, created_at__gt=since, created_at__lte=at
    )
    return {
        "since": since,
        "assignments": list(
            assignments.select_related(
                "channel__family", "channel__environment", "from_version", "to_version"
            ).order_by("assigned_at", "id")[:50]
        ),
        "released": list(versions.filter(released_at__gt=since, released_at__lte=at).order_by("released_at", "id")),
        "revoked": list(versions.filter(revoked_at__gt=since, revoked_at__lte=at).order_by("revoked_at", "id")),
        "failed_verifications": failed.exclude(result="verified").count(),
        "verifications": failed.count(),
    }


def executive_context(organization, *, user, params) -> tuple[dict, datetime.datetime]:
    """Coverage per environment with RAG, the trend, top outdated sites, posture and the week's changes."""
    environment = params.get("env") or None
    report = drift_report_build(organization, filters=DriftFilters(environment=environment), as_of=params.get("as_of"))
    at = report.calculated_at
    end = at.date()
    trend = drift_trend(
        organization,
        environment=environment,
        start=end - datetime.timedelta(days=TREND_DAYS - 1),
        end=end,
        as_of=report.as_of,
    )
    sites = sorted((r for r in report.by_site if r.outdated_count), key=lambda r: (-r.outdated_count, r.site or ""))
    context = {
        "organization": organization,
        "environment": environment,
        "at": at,
        "source": report.source,
        **_provenance(report),
        "total": _row(report.total),
        "environments": [_row(r) for r in report.by_environment],
        "chart_svg": coverage_chart_svg(trend),
        "trend_days": TREND_DAYS,
        "top_sites": [_row(r) for r in sites[:TOP_SITES]],
        "posture": _posture(organization, user, environment, report.as_of),
        "changes": _changes(organization, user, environment, at),
        "drills": drill_summaries(organization, at=at, environment=environment),
        "insight": insight_as_of(organization, environment=environment, at=report.as_of),
    }
    return context, at


def _provenance(report_set) -> dict:
    """Which snapshot answered (id, when taken, what wrote it) and the instant asked for: the reports' header."""
    return {
        "snapshot_id": report_set.snapshot_id,
        "snapshot_taken_at": report_set.snapshot_taken_at,
        "snapshot_trigger": report_set.snapshot_trigger,
        "as_of": report_set.as_of,
    }


def drift_context(organization, report_set, outdated, *, scope: str) -> dict:
    """The detailed drift report: every cell, roll-ups, and the outdated machines (``outdated``: (rows, total))."""
    rows, total = outdated
    return {
        "organization": organization,
        "scope": scope,
        "at": report_set.calculated_at,
        "source": report_set.source,
        **_provenance(report_set),
        "total": _row(report_set.total),
        "environments": [_row(r) for r in report_set.by_environment],
        "platforms": [_row(r) for r in report_set.by_platform],
        "cells": [_row(r) for r in report_set.reports],
        "outdated": rows,
        "outdated_total": total,
        "outdated_limit": PDF_OUTDATED_LIMIT,
    }


def drift_detail_context(organization, *, user, params) -> tuple[dict, datetime.datetime]:
    """The detailed drift report of the portal and schedules (live, or as of a past date)."""
    filters = DriftFilters(
        environment=params.get("env") or None, platform=params.get("platform") or None, site=params.get("site") or None
    )
    report = drift_report_build(organization, filters=filters, as_of=params.get("as_of"))
    source, queryset, evaluation = drift_outdated_list(organization, filters=filters, as_of=params.get("as_of"))
    rows = list(itertools.islice(outdated_rows(source, queryset, evaluation), PDF_OUTDATED_LIMIT))
    scope = ", ".join(f"{k} {v}" for k, v in vars(filters).items() if v) or "whole organisation"
    context = drift_context(organization, report, (rows, queryset.count()), scope=scope)
    return context, report.calculated_at
