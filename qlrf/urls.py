"""Top-level URLs: portal, admin, API, schema, health."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from qlrf import health, metrics
from qlrf.api.docs_access import ApiDocsAccess

admin.site.site_header = "Resilience Fabric administration"
admin.site.site_title = "Resilience Fabric"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("version", health.version, name="version"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/v1/health/slo", metrics.slo, name="health-slo"),
    path("api/v1/", include("qlrf.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[ApiDocsAccess]), name="schema"),
    path(
        "api/docs/",
        # the split view serves its start-up script as a file: no inline script under the CSP
        SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=[ApiDocsAccess]),
        name="swagger-ui",
    ),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("images/", include("apps.images.urls")),
    path("", include("apps.drift.urls")),  # /drift/ and /sites/
    path("", include("apps.inventory.urls")),  # /assets/ and /scans/
    path("", include("apps.insights.urls")),  # /insights/ (the Why? page)
    path("reports/", include("apps.evidence.urls")),
    path("drills/", include("apps.resilience.urls")),
    path("", include("apps.tenancy.urls")),
]

# Django's own 400/403/404/500 answer JSON on /api/ paths, HTML elsewhere (ADR 016).
handler400 = "qlrf.api.http_errors.bad_request"
handler403 = "qlrf.api.http_errors.permission_denied"
handler404 = "qlrf.api.http_errors.page_not_found"
handler500 = "qlrf.api.http_errors.server_error"
