"""Routes of the drift API."""

from django.urls import path

from . import views


def register(router) -> None:
    """Drift has no router viewsets: its three read endpoints are plain views."""


urlpatterns = [
    path("drift", views.DriftReportView.as_view(), name="drift-report"),
    path("drift/outdated", views.DriftOutdatedView.as_view(), name="drift-outdated"),
    path("drift/trend", views.DriftTrendView.as_view(), name="drift-trend"),
]
