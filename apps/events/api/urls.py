"""Routes of the events API: the pull API, webhook endpoints and their delivery log."""

from . import views


def register(router) -> None:
    router.register("events", views.EventViewSet, basename="event")
    router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")
    router.register("webhook-deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")
