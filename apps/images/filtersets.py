"""FilterSets of the image registry, shared by the API and the portal."""

import django_filters

from apps.compliance.filters import BadgeFilter
from apps.tenancy.filtersets import TenantFilterSet

from .choices import ImageVersionStatusChoices
from .models import ArtifactRule, Channel, ImageFamily, ImageVersion


class ImageFamilyFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")

    class Meta:
        model = ImageFamily
        fields = ["organization", "os_family", "slug"]


class ImageVersionFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    family = django_filters.CharFilter(field_name="family__slug")
    status = django_filters.MultipleChoiceFilter(choices=ImageVersionStatusChoices.choices)
    version = django_filters.CharFilter()
    badge = BadgeFilter()

    class Meta:
        model = ImageVersion
        fields = ["organization", "family", "status", "version"]


class ChannelFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    family = django_filters.CharFilter(field_name="family__slug")
    environment = django_filters.CharFilter(field_name="environment__slug")

    class Meta:
        model = Channel
        fields = ["organization", "family", "environment"]


class ArtifactRuleFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    family = django_filters.CharFilter(field_name="family__slug")

    class Meta:
        model = ArtifactRule
        fields = ["organization", "kind", "platform", "family", "enabled"]
