"""Portal routes of reports and evidence packs (mounted at /reports/)."""

from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("", views.ReportIndexView.as_view(), name="index"),
    path("generate", views.ReportGenerateView.as_view(), name="generate"),
    path("files/<int:pk>", views.ReportFileView.as_view(), name="report-file"),
    path("evidence-packs", views.EvidencePackCreateView.as_view(), name="pack-create"),
    path("evidence-packs/<int:pk>", views.EvidencePackFileView.as_view(), name="pack-file"),
    path("<str:kind>.csv", views.CsvDownloadView.as_view(), name="csv"),
    path("<str:name>.pdf", views.PdfDownloadView.as_view(), name="pdf"),
]
