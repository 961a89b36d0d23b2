"""FilterSets of the compliance app, shared by the API and the portal."""

import django_filters

from apps.tenancy.filtersets import TenantFilterSet

from .choices import SignatureMethodChoices, VerificationResultChoices
from .models import GateDecision, SignatureVerification, SigningKey, Upload, UploadJob


class SigningKeyFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")

    class Meta:
        model = SigningKey
        fields = ["organization", "name", "key_id"]


class UploadFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    family = django_filters.CharFilter(field_name="version__family__slug")

    class Meta:
        model = Upload
        fields = ["organization", "family", "version", "kind", "status", "sha256"]


class UploadJobFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    family = django_filters.CharFilter(field_name="version__family__slug")

    class Meta:
        model = UploadJob
        fields = ["organization", "family", "version", "kind", "status", "sha256"]


class SignatureVerificationFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    family = django_filters.CharFilter(field_name="version__family__slug")
    environment = django_filters.CharFilter(field_name="environment__slug")
    method = django_filters.ChoiceFilter(choices=SignatureMethodChoices.choices)
    result = django_filters.ChoiceFilter(choices=VerificationResultChoices.choices)

    class Meta:
        model = SignatureVerification
        fields = ["organization", "family", "version", "environment", "method", "result", "via_gate"]


class GateDecisionFilterSet(TenantFilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    family = django_filters.CharFilter(field_name="version__family__slug")
    environment = django_filters.CharFilter(field_name="environment__slug")

    class Meta:
        model = GateDecision
        fields = ["organization", "family", "version", "environment", "allowed"]
