"""Portal pages of the drills (for auditors): the list with each drill's last result and its RTO/RPO trend against
the objectives, and one run's step timeline with every health-check attempt."""

from __future__ import annotations

import math

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.utils.safestring import mark_safe
from django.views.generic import TemplateView

from apps.drift.charts import chart_table, line_chart
from apps.tenancy.selectors import current_organization

from .models import DrillRun
from .selectors import drill_definition_list, drill_run_get, drill_run_list, drill_summaries, drill_trend

TITLES = {
    "rto": "RTO (minutes): measured against the objective",
    "rpo": "RPO (minutes): measured against the objective",
}


def trend_charts(definition) -> list[dict]:
    """The drill's RTO and RPO charts (SVG) with their numbers as tables."""
    charts = []
    for key, series in drill_trend(definition).items():
        highest = max((v for line in series for _, v in line.points if v is not None), default=0.0)
        if not any(line.points for line in series):
            continue
        y_max = float(max(1, math.ceil(highest * 1.1)))
        chart_id = f"drill-{definition.pk}-{key}"
        svg = line_chart(series, chart_id=chart_id, title=TITLES[key], y_label="min", y_max=y_max)
        names, rows = chart_table(series)
        charts.append({"id": chart_id, "title": TITLES[key], "svg": mark_safe(svg), "names": names, "rows": rows})  # noqa: S308 - charts.py escapes every text it writes
    return charts


class DrillListView(LoginRequiredMixin, TemplateView):
    """Every drill of the current organisation with its last result, and the trend of each against its objectives."""

    template_name = "resilience/drill_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = context["organization"] = current_organization(self.request)
        if organization is None:
            return context
        visible = set(
            drill_definition_list(self.request.user).filter(organization=organization).values_list("pk", flat=True)
        )
        summaries = [s for s in drill_summaries(organization) if s.definition.pk in visible]
        context["drills"] = [{"summary": s, "charts": trend_charts(s.definition)} for s in summaries]
        context["active_runs"] = drill_run_list(self.request.user).filter(
            organization=organization, status__in=("queued", "running")
        )
        return context


class DrillRunDetailView(LoginRequiredMixin, TemplateView):
    """One run: outcome and reasons, measured RTO/RPO against the objectives, the step timeline, every check
    attempt; 404 outside the user's tenant."""

    template_name = "resilience/run_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            run = drill_run_get(self.request.user, kwargs["pk"])
        except DrillRun.DoesNotExist:
            raise Http404("no such drill run") from None
        steps = list(run.steps.all())
        origin = run.started_at or run.created_at
        context.update(
            run=run,
            steps=[{"step": s, "offset": (s.finished_at - origin).total_seconds()} for s in steps],
            checks=list(run.check_results.all()),
        )
        return context
