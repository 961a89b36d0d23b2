"""Tenancy API viewsets: a few lines each; the base classes and services do the work."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from qlrf.api.viewsets import TenantModelViewSet, TenantReadOnlyViewSet

from ..filtersets import AuditEventFilterSet, EnvironmentFilterSet, MembershipFilterSet, SiteFilterSet
from ..models import ApiToken, AuditEvent, Environment, Membership, Organization, Project, Site
from ..services import membership_remove, token_revoke
from . import serializers


class OrganizationViewSet(TenantReadOnlyViewSet):
    queryset = Organization.objects.all()
    serializer_class = serializers.OrganizationSerializer
    lookup_field = "slug"


class ProjectViewSet(TenantModelViewSet):
    queryset = Project.objects.select_related("organization")
    serializer_class = serializers.ProjectSerializer
    filterset_fields = ["slug"]


class EnvironmentViewSet(TenantModelViewSet):
    queryset = Environment.objects.select_related("organization")
    serializer_class = serializers.EnvironmentSerializer
    filterset_class = EnvironmentFilterSet


class SiteViewSet(TenantModelViewSet):
    queryset = Site.objects.select_related("organization")
    serializer_class = serializers.SiteSerializer
    filterset_class = SiteFilterSet


_SERVICE_ACCOUNT_409 = OpenApiResponse(
    response=inline_serializer(
        "ServiceAccountMembershipError",
        fields={"code": drf_serializers.CharField(), "detail": drf_serializers.CharField()},
    ),
    description="code `service_account_membership`: the membership of an API token's service account follows the "
    "token; revoke the token instead",
)
_UNKNOWN_USER_400 = OpenApiResponse(
    description="code `unknown_user`: the same answer whether the username exists in another organisation or not "
    "at all; only people who already belong to the organisation can be added"
)


@extend_schema_view(
    create=extend_schema(responses={201: serializers.MembershipSerializer, 400: _UNKNOWN_USER_400}),
    partial_update=extend_schema(responses={200: serializers.MembershipSerializer, 409: _SERVICE_ACCOUNT_409}),
    destroy=extend_schema(responses={204: None, 409: _SERVICE_ACCOUNT_409}),
)
class MembershipViewSet(TenantModelViewSet):
    queryset = Membership.objects.select_related("organization", "user", "project")
    serializer_class = serializers.MembershipSerializer
    filterset_class = MembershipFilterSet

    def perform_destroy(self, instance):
        membership_remove(actor=self.request.user, membership=instance)


class ApiTokenViewSet(TenantModelViewSet):
    queryset = ApiToken.objects.select_related("organization")
    serializer_class = serializers.ApiTokenSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def perform_destroy(self, instance):
        token_revoke(actor=self.request.user, token=instance)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the token now (same as DELETE); the row stays for the audit trail."""
        token = token_revoke(actor=request.user, token=self.get_object())
        return Response(self.get_serializer(token).data, status=status.HTTP_200_OK)


class AuditEventViewSet(TenantReadOnlyViewSet):
    queryset = AuditEvent.objects.select_related("organization")
    serializer_class = serializers.AuditEventSerializer
    filterset_class = AuditEventFilterSet
