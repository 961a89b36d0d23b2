"""Portal routes of the tenancy app."""

from django.urls import path

from apps.drift.views import DashboardView  # the dashboard at / is drift's; the URL name stays portal:dashboard

from . import views

app_name = "portal"

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("organizations/<slug:slug>/", views.OrganizationDetailView.as_view(), name="organization-detail"),
]
