"""FilterSets of the tenancy app, shared by the API and the portal."""

import django_filters

from .models import AuditEvent, Environment, Membership, Site


class OrganizationScopedFilterSet(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")


class EnvironmentFilterSet(OrganizationScopedFilterSet):
    class Meta:
        model = Environment
        fields = ["organization", "tier", "signature_policy"]


class SiteFilterSet(OrganizationScopedFilterSet):
    class Meta:
        model = Site
        fields = ["organization", "kind", "platform"]


class MembershipFilterSet(OrganizationScopedFilterSet):
    class Meta:
        model = Membership
        fields = ["organization", "role"]


class AuditEventFilterSet(OrganizationScopedFilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["organization", "action", "object_type"]
