"""The /api/v1/ router: each app registers its viewsets through its ``api/urls.py`` ``register`` function."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.compliance.api import urls as compliance_api
from apps.drift.api import urls as drift_api
from apps.events.api import urls as events_api
from apps.evidence.api import urls as evidence_api
from apps.images.api import urls as images_api
from apps.insights.api import urls as insights_api
from apps.inventory.api import urls as inventory_api
from apps.resilience.api import urls as resilience_api
from apps.tenancy.api import urls as tenancy_api

API_MODULES = [
    tenancy_api,
    images_api,
    inventory_api,
    drift_api,
    compliance_api,
    evidence_api,
    events_api,
    resilience_api,
    insights_api,
]

router = DefaultRouter(trailing_slash="")
for module in API_MODULES:
    module.register(router)

extra_urlpatterns: list = []
for module in API_MODULES:
    extra_urlpatterns.extend(getattr(module, "urlpatterns", []))

urlpatterns = [*extra_urlpatterns, path("", include(router.urls))]
