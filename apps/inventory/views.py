"""Portal pages of the inventory: the asset list (drill-down target), asset detail, scans and their live progress."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.http import urlencode
from django.views.generic import TemplateView

from apps.tenancy.models import Environment, Site
from apps.tenancy.selectors import current_organization

from .choices import ACTIVE_SCAN_STATUSES
from .filtersets import AssetFilterSet
from .models import Asset, ScanRun
from .selectors import asset_graph, asset_list, connector_latest_runs, connector_list, scan_run_list
from .services.seen import Sightings

PAGE_SIZE = 50
STATUS_CHOICES = [
    ("compliant", "Compliant"),
    ("outdated", "Outdated"),
    ("unmanaged", "Unmanaged"),
    ("stale", "Stale"),
    ("not_running", "Not running"),
]
# sort key → column label and fields; a leading "-" on a field inverts it (days behind grow as outdated_since shrinks)
SORTS = {
    "name": ("Name / instance", ("name", "instance_id")),
    "platform": ("Platform", ("platform", "instance_id")),
    "site": ("Site", ("site__slug", "instance_id")),
    "environment": ("Environment", ("environment__slug", "instance_id")),
    "version": ("Version", ("image_version__family__slug", "image_version__version_key", "instance_id")),
    "days": ("Days behind", ("-outdated_since", "instance_id")),
    "status": ("Status", ("drift_status", "instance_id")),
}


def _ordering(sort: str) -> list:
    """Order expressions for a sort key (``-key`` reverses it); empty values always last."""
    descending = sort.startswith("-")
    expressions = []
    for field in SORTS[sort.lstrip("-")][1]:
        inverted = field.startswith("-")
        expression = F(field.lstrip("-"))
        reverse = descending != inverted
        expressions.append(expression.desc(nulls_last=True) if reverse else expression.asc(nulls_last=True))
    return expressions


def _organization_or_none(request):
    return current_organization(request)


def scan_progress(run: ScanRun | None) -> dict | None:
    """What a progress bar shows: percent, scopes done of all, machines discovered so far, active or not."""
    if run is None:
        return None
    scopes = run.scopes.values()
    done = sum(1 for scope in scopes if scope.get("status") in ("succeeded", "failed"))
    active = run.status in ACTIVE_SCAN_STATUSES
    discovered = sum(int(scope.get("discovered") or 0) for scope in scopes) if active else run.discovered
    return {
        "run": run,
        "pct": run.progress_pct,
        "done": done,
        "scopes": len(run.scopes),
        "discovered": discovered,
        "active": active,
    }


def scan_panel_context(user, organization) -> dict:
    """The latest run of each of the organisation's connectors, and whether any is active (the panel then polls)."""
    latest = connector_latest_runs(user)
    connectors = list(connector_list(user).filter(organization=organization).order_by("name"))
    rows = [(connector, scan_progress(latest.get(connector.pk))) for connector in connectors]
    active = any(progress is not None and progress["active"] for _, progress in rows)
    return {"scan_rows": rows, "scans_active": active}


class AssetListView(LoginRequiredMixin, TemplateView):
    """Assets filtered (site, environment, platform, status…), sorted and paged; a constant number of queries."""

    template_name = "inventory/asset_list.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        return self.render_to_response(context, status=400 if context.get("filter_errors") else 200)

    def get_context_data(self, **kwargs):
        from apps.drift.engine import drift_evaluate
        from apps.drift.portal import annotate_status, baseline_for, days_behind

        context = super().get_context_data(**kwargs)
        organization = context["organization"] = _organization_or_none(self.request)
        if organization is None:
            return context
        params = self.request.GET
        user = self.request.user
        evaluation = drift_evaluate(organization)
        queryset = annotate_status(asset_list(user).filter(organization=organization), evaluation)
        filterset = AssetFilterSet(params, queryset=queryset, request=self.request)
        errors = dict(filterset.errors) if not filterset.is_valid() else {}
        status = params.get("status", "")
        if status and status not in dict(STATUS_CHOICES):
            errors["status"] = [f"unknown status {status!r}"]
        sort = params.get("sort", "name")
        if sort.lstrip("-") not in SORTS:
            errors["sort"] = [f"unknown sort {sort!r}"]
        if errors:
            context.update(filter_errors=errors, **self._choices(user, organization, params))
            return context
        if status == "not_running" and not evaluation.excludes_not_running:
            # stopped machines are classified like the others (and count unless the organisation opts out):
            # this filter lists them by state
            from apps.drift.choices import NOT_RUNNING_STATES

            assets = filterset.qs.filter(state__in=NOT_RUNNING_STATES)
        else:
            assets = filterset.qs.filter(drift_status=status) if status else filterset.qs
        assets = assets.order_by(*_ordering(sort))
        page = Paginator(assets, PAGE_SIZE).get_page(params.get("page"))
        for asset in page.object_list:
            asset.baseline = baseline_for(evaluation, asset)
            asset.days_behind = days_behind(asset.outdated_since, evaluation.at)
        context.update(page=page, sort=sort, evaluated_at=evaluation.at, **self._choices(user, organization, params))
        if status in ("outdated", "unmanaged", "stale", ""):
            # a heatmap cell's drill-down: its "Why?" (issue #16) is the insight of the same scope
            scope = {"env": params.get("environment"), "site": params.get("site"), "platform": params.get("platform")}
            context["why_query"] = urlencode({key: value for key, value in scope.items() if value})
        return context

    @staticmethod
    def _choices(user, organization, params) -> dict:
        query = params.copy()
        for consumed in ("page", "org"):  # org is the switcher's, already applied to the session
            query.pop(consumed, None)
        sort_query = query.copy()
        sort_query.pop("sort", None)
        return {
            "environments": Environment.objects.restrict(user, "view").filter(organization=organization),
            "sites": Site.objects.restrict(user, "view").filter(organization=organization),
            "platforms": ["aws", "azure", "gcp", "vsphere"],
            "status_choices": STATUS_CHOICES,
            "sort_columns": [(key, label) for key, (label, _) in SORTS.items()],
            "selected": params,
            "page_query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
        }


class AssetDetailView(LoginRequiredMixin, TemplateView):
    """One asset: its graph, its image version's badges, status and drift age; 404 outside the user's tenant."""

    template_name = "inventory/asset_detail.html"

    def get_context_data(self, **kwargs):
        from apps.compliance.selectors import version_badges
        from apps.drift.engine import drift_evaluate
        from apps.drift.portal import STATUS_LABELS, annotate_status, baseline_for, days_behind

        context = super().get_context_data(**kwargs)
        try:
            asset = asset_list(self.request.user, include_removed=True).get(pk=kwargs["pk"])
        except Asset.DoesNotExist:
            raise Http404("no such asset") from None
        evaluation = drift_evaluate(asset.organization)
        asset = annotate_status(asset_list(self.request.user, include_removed=True), evaluation).get(pk=asset.pk)
        version = asset.image_version
        seen = Sightings([asset.organization_id]).of(
            connector_id=asset.connector_id,
            scope_key=asset.scope_key,
            last_seen=asset.last_seen,
            removed_at=asset.removed_at,
            last_scan_id=asset.last_scan_id,
        )
        asset.last_seen, asset.last_scan_id = seen.at, seen.scan_id  # shown, never saved (ADR 026)
        context.update(
            asset=asset,
            graph=asset_graph(asset),
            badges=version_badges(version) if version else [],
            status_label=STATUS_LABELS.get(asset.drift_status, asset.drift_status),
            baseline=baseline_for(evaluation, asset),
            days_behind=days_behind(asset.outdated_since, evaluation.at),
            evaluated_at=evaluation.at,
        )
        return context


class ScanListView(LoginRequiredMixin, TemplateView):
    """The organisation's scan runs, newest first, paged; active runs show live progress."""

    template_name = "inventory/scan_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = context["organization"] = _organization_or_none(self.request)
        if organization is None:
            return context
        runs = scan_run_list(self.request.user).filter(organization=organization).order_by("-queued_at", "-id")
        context["page"] = Paginator(runs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(scan_panel_context(self.request.user, organization))
        return context


def _scan_run(user, pk) -> ScanRun:
    try:
        return scan_run_list(user).get(pk=pk)
    except ScanRun.DoesNotExist:
        raise Http404("no such scan") from None


class ScanDetailView(LoginRequiredMixin, TemplateView):
    """One scan run: status, progress per scope, counts and errors; 404 outside the user's tenant."""

    template_name = "inventory/scan_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = _scan_run(self.request.user, kwargs["pk"])
        context.update(run=run, progress=scan_progress(run), scopes=sorted(run.scopes.items()))
        return context


class ScanProgressView(ScanDetailView):
    """The progress fragment of one run (htmx polls it every 2 s while the run is queued or running)."""

    template_name = "inventory/_scan_progress.html"


class ScanPanelView(LoginRequiredMixin, TemplateView):
    """The dashboard's scan panel as a fragment (polled while any run is active)."""

    template_name = "inventory/_scan_panel.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = current_organization(self.request)
        if organization is not None:
            context.update(scan_panel_context(self.request.user, organization), now=timezone.now())
        return context
