"""Portal routes of the inventory: assets (list and detail) and scans (list, detail, live fragments)."""

from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("assets/", views.AssetListView.as_view(), name="asset-list"),
    path("assets/<int:pk>/", views.AssetDetailView.as_view(), name="asset-detail"),
    path("scans/", views.ScanListView.as_view(), name="scan-list"),
    path("scans/panel", views.ScanPanelView.as_view(), name="scan-panel"),
    path("scans/<int:pk>/", views.ScanDetailView.as_view(), name="scan-detail"),
    path("scans/<int:pk>/progress", views.ScanProgressView.as_view(), name="scan-progress"),
]
