"""Routes of the evidence API."""

from django.urls import re_path

from ..reports.csv_exports import EXPORTS
from . import views

KINDS = "|".join(sorted(EXPORTS))


def register(router) -> None:
    router.register("evidence-packs", views.EvidencePackViewSet, basename="evidence-pack")
    router.register("evidence-pack-jobs", views.EvidencePackJobViewSet, basename="evidence-pack-job")


urlpatterns = [
    re_path(rf"^reports/(?P<kind>{KINDS})\.csv$", views.CsvReportView.as_view(), name="report-csv"),
    re_path(rf"^reports/(?P<kind>{KINDS})$", views.CsvReportFormatView.as_view(), name="report-csv-format"),
]
