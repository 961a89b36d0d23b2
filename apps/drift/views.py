"""Portal pages of drift: the dashboard, the drift page (heatmaps and trends), sites, and the snapshot poller."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.safestring import mark_safe
from django.views.generic import TemplateView

from apps.insights.panel import why_panel
from apps.inventory.views import scan_panel_context
from apps.tenancy.selectors import current_organization, organization_overview

from . import charts
from .engine import drift_evaluate
from .models import DriftSnapshot
from .portal import heatmap_build, trend_range, week_changes, week_over_week
from .reports import build_report_set, live_cells
from .selectors import DriftQueryError, drift_report_build, drift_trend


class OrganizationPageMixin(LoginRequiredMixin):
    """Resolves the current organisation (through the one door); pages render a notice when the user has none."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["organization"] = self.organization = current_organization(self.request)
        return context


def live_report(organization):
    """The live evaluation and its report set (one GROUP BY and one windowed query)."""
    evaluation = drift_evaluate(organization)
    cells, outdated = live_cells(organization, evaluation)
    return evaluation, build_report_set(organization, cells, evaluation.at, source="live", outdated_by_cell=outdated)


def latest_snapshot(user, organization):
    return (
        DriftSnapshot.objects.restrict(user, "view")
        .filter(organization=organization)
        .order_by("-taken_at", "-id")
        .first()
    )


class DashboardView(OrganizationPageMixin, TemplateView):
    """The landing page: coverage per environment, the site heatmap, scans, and what changed this week."""

    template_name = "drift/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization, user = self.organization, self.request.user
        if organization is None:
            return context
        evaluation, report_set = live_report(organization)
        context.update(
            report=report_set,
            heatmap=heatmap_build(organization, report_set, by="site", user=user),
            changes=week_changes(user, organization, evaluation, report_set.total.outdated_count),
            snapshot=latest_snapshot(user, organization),
            overview=organization_overview(user, organization),
            why=why_panel(organization),
            **scan_panel_context(user, organization),
        )
        return context


class DriftView(OrganizationPageMixin, TemplateView):
    """Both heatmaps and the coverage/drift trends over a chosen range, with week-over-week change."""

    template_name = "drift/drift.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        error = context.get("query_error")
        return self.render_to_response(context, status=error.status if error else 200)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization, user, params = self.organization, self.request.user, self.request.GET
        if organization is None:
            return context
        context.update(
            range_choices=[("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"), ("13m", "13 months")],
            params=params,
        )
        try:  # as_of: the figures of the snapshot in force at that instant (ADR 010)
            report_set = drift_report_build(organization, as_of=params.get("as_of") or None)
        except DriftQueryError as exc:
            context["query_error"] = exc
            report_set = live_report(organization)[1]
        context.update(
            report=report_set,
            heatmaps=[heatmap_build(organization, report_set, by=by, user=user) for by in ("site", "platform")],
        )
        if context.get("query_error"):
            return context
        try:
            selected = trend_range(params.get("range"), params.get("from"), params.get("to"))
            points = drift_trend(
                organization,
                environment=None,
                start=selected.start,
                end=selected.end,
                interval=selected.interval,
                as_of=report_set.as_of,
            )
        except DriftQueryError as exc:
            context["query_error"] = exc
            return context
        demo = DriftSnapshot.objects.restrict(user, "view").filter(organization=organization, trigger="demo")
        context.update(
            selected=selected,
            week_over_week=week_over_week(points),
            demo_history=demo.filter(taken_at__date__range=(selected.start, selected.end)).exists(),
            **trend_charts(points),
        )
        return context


def trend_charts(points: list[dict]) -> dict:
    """Coverage and drift charts (SVG) and their tables from ``drift_trend`` points."""
    environments = sorted({p["environment"] for p in points})
    result = {"charts": []}
    for key, title in (("coverage_pct", "Coverage % per environment"), ("drift_pct", "Drift % per environment")):
        series = [
            charts.Series(
                env or "no environment",
                tuple((p["taken_at"].date(), p[key]) for p in points if p["environment"] == env),
            )
            for env in environments
        ]
        names, rows = charts.chart_table(series)
        svg = charts.line_chart(series, chart_id=f"chart-{key}", title=title)
        result["charts"].append({"id": key, "title": title, "svg": mark_safe(svg), "names": names, "rows": rows})  # noqa: S308 - charts.py escapes every text it writes
    return result


class SitesView(OrganizationPageMixin, TemplateView):
    """Each site: its machines, coverage and RAG, per environment, linking to its assets."""

    template_name = "drift/sites.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization, user = self.organization, self.request.user
        if organization is None:
            return context
        _, report_set = live_report(organization)
        overview = organization_overview(user, organization)
        by_site = {report.site: report for report in report_set.by_site}
        context.update(
            heatmap=heatmap_build(organization, report_set, by="site", user=user),
            sites=[(site, by_site.get(site.slug)) for site in overview.sites],
        )
        return context


class SnapshotStatusView(OrganizationPageMixin, TemplateView):
    """A fragment polled by the dashboard: says when a snapshot newer than the page's figures has landed."""

    template_name = "drift/_snapshot_status.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.organization is not None:
            context["snapshot"] = latest_snapshot(self.request.user, self.organization)
            context["seen"] = self.request.GET.get("seen", "")
        return context
