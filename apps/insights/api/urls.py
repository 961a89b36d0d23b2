"""Routes of the insights API."""

from django.urls import path

from . import views


def register(router) -> None:
    """Insights have no router viewsets: plain read views."""


urlpatterns = [
    path("insights", views.InsightView.as_view(), name="insights"),
    path("insights/<int:pk>", views.InsightDetailView.as_view(), name="insight-detail"),
]
