"""Routes of the tenancy API, registered on the project's /api/v1/ router."""

from . import views


def register(router) -> None:
    router.register("organizations", views.OrganizationViewSet, basename="organization")
    router.register("projects", views.ProjectViewSet, basename="project")
    router.register("environments", views.EnvironmentViewSet, basename="environment")
    router.register("sites", views.SiteViewSet, basename="site")
    router.register("memberships", views.MembershipViewSet, basename="membership")
    router.register("api-tokens", views.ApiTokenViewSet, basename="api-token")
    router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
