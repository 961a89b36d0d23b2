from django.apps import AppConfig


class DriftConfig(AppConfig):
    name = "apps.drift"
    label = "drift"
    verbose_name = "Drift"
