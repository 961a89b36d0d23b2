"""Portal routes of drift: the drift page (heatmaps, trends), its snapshot poller, and the sites page."""

from django.urls import path

from . import views

app_name = "drift"

urlpatterns = [
    path("drift/", views.DriftView.as_view(), name="overview"),
    path("drift/snapshot-status", views.SnapshotStatusView.as_view(), name="snapshot-status"),
    path("sites/", views.SitesView.as_view(), name="sites"),
]
