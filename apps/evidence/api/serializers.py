"""Serializers of the evidence API."""

from rest_framework import serializers

from qlrf.api.viewsets import OrganizationField

from ..models import EvidencePack, EvidencePackJob


class EvidencePackSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    generated_by = serializers.StringRelatedField()
    filename = serializers.CharField(read_only=True)

    class Meta:
        model = EvidencePack
        fields = [
            "id",
            "organization",
            "filters",
            "as_of",
            "sha256",
            "size",
            "member_count",
            "empty",
            "filename",
            "generated_by",
            "generated_at",
        ]


class EvidencePackRequestSerializer(serializers.Serializer):
    """The scope of a new pack; ``organization`` may be left out by a caller with one organisation."""

    organization = OrganizationField(required=False)
    environments = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    from_date = serializers.DateField(required=False, allow_null=True, default=None, source="start")
    to = serializers.DateField(required=False, allow_null=True, default=None, source="end")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_date")  # "from" is a Python keyword: renamed here, not in the API
        return fields


class EvidencePackJobSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requested_by = serializers.StringRelatedField()

    class Meta:
        model = EvidencePackJob
        fields = [
            "id",
            "organization",
            "filters",
            "status",
            "progress_pct",
            "error_code",
            "error",
            "pack",
            "requested_by",
            "created_at",
            "finished_at",
        ]
