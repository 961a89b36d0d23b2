"""Serializers of the tenancy API."""

from rest_framework import serializers

from qlrf.api.viewsets import TenantModelSerializer, TenantRelatedField

from ..models import ApiToken, AuditEvent, Environment, Membership, Organization, Project, Site
from ..services import membership_add, membership_update, token_create
from ..services.memberships import membership_user_resolve
from ..services.organizations import default_signature_policy


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "rag_red_below",
            "rag_amber_below",
            "strict_documents",
            "created_at",
        ]
        read_only_fields = ["id", "slug", "created_at"]


class ProjectSerializer(TenantModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "organization", "name", "slug", "description"]


class EnvironmentSerializer(TenantModelSerializer):
    signature_policy = serializers.ChoiceField(
        choices=Environment._meta.get_field("signature_policy").choices, required=False
    )

    class Meta:
        model = Environment
        fields = ["id", "organization", "name", "slug", "tier", "signature_policy"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None and not attrs.get("signature_policy"):
            attrs["signature_policy"] = default_signature_policy(attrs["tier"])
        return attrs


class SiteSerializer(TenantModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "organization", "name", "slug", "kind", "platform", "region"]


class MembershipSerializer(TenantModelSerializer):
    user = serializers.CharField(
        max_length=150,
        help_text="Username of someone who already belongs to the organisation (at any scope); anyone else, existing "
        "or not, is the same 400 `unknown_user`. New people are added with `manage.py member_add`.",
    )
    project = TenantRelatedField(slug_field="slug", queryset=Project.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "project", "role", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # uniqueness is checked by membership_add, with a clear error code

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None:
            attrs["user"] = membership_user_resolve(
                actor=self._actor(), organization=attrs["organization"], username=attrs["user"]
            )
        else:
            attrs.pop("user", None)  # a membership never changes hands
        return attrs

    def create(self, validated_data):
        return membership_add(actor=self._actor(), **validated_data)

    def update(self, instance, validated_data):
        return membership_update(
            actor=self._actor(), membership=instance, role=validated_data.get("role", instance.role)
        )


class ApiTokenSerializer(TenantModelSerializer):
    token = serializers.SerializerMethodField(help_text="The token itself; returned once, at creation only.")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "organization",
            "name",
            "role",
            "key_prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "token",
        ]
        read_only_fields = ["key_prefix", "created_at", "revoked_at", "last_used_at"]

    def get_token(self, obj) -> str | None:
        return getattr(obj, "_raw_token", None)

    def create(self, validated_data):
        token, raw = token_create(actor=self._actor(), **validated_data)
        token._raw_token = raw
        return token


class AuditEventSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "organization",
            "occurred_at",
            "actor_repr",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "request_id",
            "source_ip",
        ]
