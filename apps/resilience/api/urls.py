"""Routes of the drill API."""

from . import views


def register(router) -> None:
    router.register("drills", views.DrillDefinitionViewSet, basename="drill")
    router.register("drill-runs", views.DrillRunViewSet, basename="drill-run")
