"""FilterSets of the inventory, shared by the API and the portal."""

import django_filters
from django.db.models import Q

from apps.compliance.filters import BadgeFilter
from apps.tenancy.filtersets import TenantFilterSet

from .choices import ScanStatusChoices
from .models import Asset, Connector, DiscoveredImage, ScanRun


class ConnectorFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")

    class Meta:
        model = Connector
        fields = ["organization", "platform", "enabled"]


class ScanRunFilterSet(TenantFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ScanStatusChoices.choices)

    class Meta:
        model = ScanRun
        fields = ["connector", "status"]


class AssetFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    site = django_filters.CharFilter(field_name="site__slug")
    environment = django_filters.CharFilter(field_name="environment__slug")
    family = django_filters.CharFilter(field_name="image_version__family__slug")
    image_version = django_filters.CharFilter(method="filter_image_version", help_text="family@version")
    managed = django_filters.BooleanFilter(field_name="image_version", lookup_expr="isnull", exclude=True)
    tag = django_filters.CharFilter(method="filter_tag", help_text="key=value")
    removed = django_filters.BooleanFilter(field_name="removed_at", lookup_expr="isnull", exclude=True)
    badge = BadgeFilter(version_path="image_version")

    class Meta:
        model = Asset
        fields = ["organization", "platform", "account", "region", "site", "environment", "state", "family"]

    def filter_image_version(self, queryset, name, value):
        family, _, version = value.rpartition("@")
        return queryset.filter(Q(image_version__family__slug=family) & Q(image_version__version=version))

    def filter_tag(self, queryset, name, value):
        key, _, tag_value = value.partition("=")
        return queryset.filter(**{f"tags__{key}": tag_value})


class AssetApiFilterSet(AssetFilterSet):
    """The API's asset filters: those of the portal, plus ``status`` over the drift annotation of the API's queryset
    (the portal filters its own status, with its own vocabulary)."""

    status = django_filters.MultipleChoiceFilter(
        field_name="drift_status",
        choices=[(s, s) for s in ("current", "compliant", "outdated", "unmanaged", "stale", "removed")],
        method="filter_status",
        help_text="Drift status now (repeatable); compliant is a synonym of current.",
    )

    class Meta(AssetFilterSet.Meta):
        pass

    def filter_status(self, queryset, name, value):
        wanted = {"current" if v == "compliant" else v for v in value}
        return queryset.filter(drift_status__in=wanted) if wanted else queryset


class DiscoveredImageFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    matched = django_filters.BooleanFilter(field_name="artifact", lookup_expr="isnull", exclude=True)
    removed = django_filters.BooleanFilter(field_name="removed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = DiscoveredImage
        fields = ["organization", "connector", "platform", "account", "region", "state", "family", "flagged"]
