"""Portal views of the tenancy app: the organisation page; the dashboard at / is drift's."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.views.generic import TemplateView

from .models import Organization
from .selectors import organization_get, organization_overview


class OrganizationDetailView(LoginRequiredMixin, TemplateView):
    """One organisation's projects, environments and sites; 404 for an organisation the user cannot see."""

    template_name = "tenancy/organization_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            organization = organization_get(self.request.user, kwargs["slug"])
        except Organization.DoesNotExist:
            raise Http404("no such organization") from None
        context["overview"] = organization_overview(self.request.user, organization)
        return context
