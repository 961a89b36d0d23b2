"""FilterSets of the tenancy app, shared by the API and the portal, and the ``TenantFilterSet`` base of them all."""

import django_filters
from django_filters.filters import QuerySetRequestMixin
from django_filters.utils import get_model_field

from .models import AuditEvent, Environment, Membership, Site


class TenantFilterSet(django_filters.FilterSet):
    """A FilterSet whose id filters choose only among rows the caller can see.

    Every ``ModelChoiceFilter`` / ``ModelMultipleChoiceFilter`` (declared, or generated from a foreign key in
    ``Meta.fields``) gets its choices from ``Model.objects.restrict(user, "view")``: another tenant's id is then the
    same 400 "not one of the available choices" as an id that does not exist, never an empty 200 that confirms it.
    The user comes from ``request`` (DRF's filter backend passes it) or ``user``; without either (the installation's
    own scheduled exports) the choices are the rows of ``organization``, and with no organisation either, none.
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None, organization=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = user if user is not None else getattr(request, "user", None)
        self.organization = organization
        for filter_ in self.filters.values():
            if isinstance(filter_, QuerySetRequestMixin):
                model = getattr(filter_.queryset, "model", None)
                if model is None:
                    model = get_model_field(self._meta.model, filter_.field_name).related_model
                filter_.queryset = self.choices_for(model, user)

    def choices_for(self, model, user):
        manager = model._default_manager
        if not hasattr(manager, "restrict"):
            raise TypeError(f"{model.__name__} is not a tenant model: a TenantFilterSet cannot filter by its ids")
        if user is not None:
            return manager.restrict(user, "view")
        if self.organization is None:
            return manager.none()
        return manager.filter(**{model.tenant_path or "pk": self.organization})


class OrganizationScopedFilterSet(TenantFilterSet):
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
