"""Filters shared by the drill API and portal."""

import django_filters

from .choices import DrillRunStatusChoices
from .models import DrillDefinition, DrillRun


class DrillDefinitionFilterSet(django_filters.FilterSet):
    platform = django_filters.CharFilter()
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = DrillDefinition
        fields = ["platform", "enabled"]


class DrillRunFilterSet(django_filters.FilterSet):
    drill = django_filters.CharFilter(field_name="definition__name")
    status = django_filters.MultipleChoiceFilter(choices=DrillRunStatusChoices.choices)

    class Meta:
        model = DrillRun
        fields = ["drill", "status"]
