"""Routes of the inventory API."""

from . import views


def register(router) -> None:
    router.register("connectors", views.ConnectorViewSet, basename="connector")
    router.register("scan-runs", views.ScanRunViewSet, basename="scan-run")
    router.register("assets", views.AssetViewSet, basename="asset")
    router.register("discovered-images", views.DiscoveredImageViewSet, basename="discovered-image")
