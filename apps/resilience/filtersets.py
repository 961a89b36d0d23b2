"""Filters shared by the drill API and portal."""

import django_filters

from apps.tenancy.filtersets import TenantFilterSet

from .choices import DrillRunStatusChoices
from .models import DrillDefinition, DrillRun


class DrillDefinitionFilterSet(TenantFilterSet):
    platform = django_filters.CharFilter()
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = DrillDefinition
        fields = ["platform", "enabled"]


class DrillRunFilterSet(TenantFilterSet):
    drill = django_filters.CharFilter(field_name="definition__name")
    status = django_filters.MultipleChoiceFilter(choices=DrillRunStatusChoices.choices)

    class Meta:
        model = DrillRun
        fields = ["drill", "status"]
