"""Tenancy API viewsets: a few lines each; the base classes and services do the work."""

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

    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the token now (same as DELETE); the row stays for the audit trail."""
        token = token_revoke(actor=request.user, token=self.get_object())
        return Response(self.get_serializer(token).data, status=status.HTTP_200_OK)


class AuditEventViewSet(TenantReadOnlyViewSet):
    queryset = AuditEvent.objects.select_related("organization")
    serializer_class = serializers.AuditEventSerializer
    filterset_class = AuditEventFilterSet
