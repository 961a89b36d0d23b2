"""Base viewsets and serializers: every endpoint reaches rows only through ``restrict(user, action)``."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from apps.tenancy.models import Organization
from apps.tenancy.services import tenant_object_create, tenant_object_delete, tenant_object_update

HTTP_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def _request_user(serializer_field):
    request = serializer_field.context.get("request")
    return getattr(request, "user", None)


class TenantRelatedField(serializers.SlugRelatedField):
    """A related tenant object by slug (or pk), chosen only among rows the caller can see."""

    def get_queryset(self):
        return super().get_queryset().restrict(_request_user(self), "view")


class OrganizationField(TenantRelatedField):
    """The organisation a new object goes into: by slug, among the caller's organisations."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "slug")
        kwargs.setdefault("queryset", Organization.objects.all())
        super().__init__(**kwargs)


def default_organization(serializer):
    """A caller with exactly one organisation (every CI token) may leave ``organization`` out."""
    organizations = list(Organization.objects.restrict(_request_user(serializer), "view")[:2])
    if len(organizations) != 1:
        raise serializers.ValidationError({"organization": "this field is required"}, code="required")
    return organizations[0]


class TenantModelSerializer(serializers.ModelSerializer):
    """Writes go through the generic tenancy services; related objects must share the object's organisation."""

    organization = OrganizationField(required=False)

    def get_validators(self):
        # Uniqueness is validated by the service (model.full_clean) inside its transaction, with code "unique".
        return []

    def validate(self, attrs):
        attrs = super().validate(attrs)
        organization = attrs.get("organization") or getattr(self.instance, "organization", None)
        if organization is None:
            organization = self._default_organization()
            attrs["organization"] = organization
        for name, value in attrs.items():
            org_id = getattr(value, "organization_id", None)
            if name != "organization" and org_id is not None and org_id != organization.pk:
                raise serializers.ValidationError({name: "belongs to another organization"}, code="cross_tenant")
        return attrs

    def _default_organization(self):
        return default_organization(self)

    def _actor(self):
        return _request_user(self)

    def create(self, validated_data):
        return tenant_object_create(actor=self._actor(), model=self.Meta.model, data=validated_data)

    def update(self, instance, validated_data):
        return tenant_object_update(actor=self._actor(), instance=instance, data=validated_data)


class TenantReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """List/retrieve restricted to the caller's tenants; other tenants' objects are simply not there (404)."""

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view")


class TenantModelViewSet(viewsets.ModelViewSet):
    """CRUD whose reads are restricted and whose writes are checked again inside the service's transaction."""

    write_serializer_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view")

    def get_serializer_class(self):
        if self.write_serializer_class is not None and self.request.method in ("POST", "PUT", "PATCH"):
            return self.write_serializer_class
        return self.serializer_class

    def perform_destroy(self, instance):
        tenant_object_delete(actor=self.request.user, instance=instance)
