"""Routes of the image registry API."""

from django.urls import path

from . import views


def register(router) -> None:
    router.register("image-families", views.ImageFamilyViewSet, basename="image-family")
    router.register("images", views.ImageVersionViewSet, basename="image")
    router.register("channels", views.ChannelViewSet, basename="channel")
    router.register("artifact-rules", views.ArtifactRuleViewSet, basename="artifact-rule")


urlpatterns = [path("contracts/validate", views.ContractValidateView.as_view(), name="contract-validate")]
