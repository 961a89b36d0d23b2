"""Portal: the "Why?" page of a scope (an environment's page, a heatmap cell's drill-down) and the panel context."""

from __future__ import annotations

from django.views.generic import TemplateView

from apps.drift.selectors import DriftQueryError
from apps.drift.views import OrganizationPageMixin

from .panel import why_panel
from .scope import insight_scope


class WhyView(OrganizationPageMixin, TemplateView):
    """Ranked root causes of a scope: ?env=&site=&platform=&as_of= (bad parameters: 400 with the reason)."""

    template_name = "insights/why.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        error = context.get("query_error")
        return self.render_to_response(context, status=error.status if error else 200)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization, params = self.organization, self.request.GET
        if organization is None:
            return context
        try:
            scope = insight_scope(
                organization,
                environment=params.get("env"),
                site=params.get("site"),
                platform=params.get("platform"),
                as_of=params.get("as_of"),
            )
        except DriftQueryError as exc:
            context["query_error"] = exc
            return context
        context.update(scope=scope, insight=why_panel(organization, scope))
        return context
