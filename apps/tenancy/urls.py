"""Portal routes of the tenancy app."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("organizations/<slug:slug>/", views.OrganizationDetailView.as_view(), name="organization-detail"),
]
