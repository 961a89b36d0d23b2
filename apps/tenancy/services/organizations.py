"""Organisations and their projects, environments and sites."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from qlrf.errors import field_error

from ..choices import EnvironmentTierChoices, SignaturePolicyChoices
from ..models import Environment, Organization, Project, Site
from .audit import audit_record, snapshot
from .generic import tenant_object_create


@transaction.atomic
def organization_create(*, actor, name: str, slug: str, description: str = "") -> Organization:
    """Create a tenant. Only the installation (CLI) or a superuser may."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("only an installation administrator may create organizations")
    if Organization.objects.filter(slug=slug).exists():
        raise field_error("slug", f"an organization with slug {slug!r} already exists", "duplicate_slug")
    organization = Organization(name=name, slug=slug, description=description)
    organization.full_clean()
    organization.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="tenancy.organization.create",
        obj=organization,
        after=snapshot(organization),
    )
    return organization


def default_signature_policy(tier: str) -> str:
    """Production enforces signatures by default; every other tier warns."""
    return SignaturePolicyChoices.ENFORCE if tier == EnvironmentTierChoices.PROD else SignaturePolicyChoices.WARN


def project_create(*, actor, organization, name: str, slug: str, description: str = "") -> Project:
    """Create a project in an organisation."""
    return tenant_object_create(
        actor=actor,
        model=Project,
        data={"organization": organization, "name": name, "slug": slug, "description": description},
    )


def environment_create(
    *, actor, organization, name: str, slug: str, tier: str, signature_policy: str = ""
) -> Environment:
    """Create an environment; its signature policy defaults from its tier."""
    return tenant_object_create(
        actor=actor,
        model=Environment,
        data={
            "organization": organization,
            "name": name,
            "slug": slug,
            "tier": tier,
            "signature_policy": signature_policy or default_signature_policy(tier),
        },
    )


def site_create(*, actor, organization, name: str, slug: str, kind: str, platform: str = "", region: str = "") -> Site:
    """Create a site (cloud region or datacenter)."""
    return tenant_object_create(
        actor=actor,
        model=Site,
        data={
            "organization": organization,
            "name": name,
            "slug": slug,
            "kind": kind,
            "platform": platform,
            "region": region,
        },
    )
