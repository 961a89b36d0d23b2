"""Routes of the compliance API. Upload views are non-atomic so a rejected upload's row survives the refusal."""

from django.db import transaction
from django.urls import include, path

from . import badge_urls, views


def register(router) -> None:
    router.register("signing-keys", views.SigningKeyViewSet, basename="signing-key")
    router.register("uploads", views.UploadViewSet, basename="upload")
    router.register("upload-jobs", views.UploadJobViewSet, basename="upload-job")
    router.register("signature-verifications", views.SignatureVerificationViewSet, basename="signature-verification")
    router.register("gate-decisions", views.GateDecisionViewSet, basename="gate-decision")


def _non_atomic(view_class):
    return transaction.non_atomic_requests(view_class.as_view())


urlpatterns = [
    path("images/<int:pk>/sbom", _non_atomic(views.ImageSbomView), name="image-sbom"),
    path("images/<int:pk>/sbom/diff", views.SbomDiffView.as_view(), name="image-sbom-diff"),
    path("images/<int:pk>/scans", _non_atomic(views.ImageScanView), name="image-scans"),
    path("images/<int:pk>/provenance", _non_atomic(views.ImageProvenanceView), name="image-provenance"),
    path("images/<int:pk>/signatures", views.ImageSignatureView.as_view(), name="image-signatures"),
    path("images/<int:pk>/manifest", views.ImageManifestView.as_view(), name="image-manifest"),
    path("images/<int:pk>/badges", views.ImageBadgesView.as_view(), name="image-badges"),
    path("packages", views.PackageSearchView.as_view(), name="package-search"),
    path("gate/check", views.GateCheckView.as_view(), name="gate-check"),
    # Until the site URLconf mounts badge_urls at /badges/ (a one-line change in qlrf/urls.py), it lives here.
    path("badges/", include(badge_urls)),
]
