"""Shared argument lookups of the compliance commands (organisation, image ref, environment)."""

from django.core.management.base import CommandError

from apps.images.models import ImageVersion
from apps.tenancy.models import Environment, Organization

from ...selectors import image_version_by_ref


def organization_get(slug: str) -> Organization:
    try:
        return Organization.objects.get(slug=slug)
    except Organization.DoesNotExist:
        raise CommandError(f"no organization {slug!r}") from None


def version_get(organization: Organization, ref: str) -> ImageVersion:
    try:
        return image_version_by_ref(ref, organization=organization)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    except ImageVersion.DoesNotExist:
        raise CommandError(f"no image {ref!r} in organization {organization.slug}") from None


def environment_get(organization: Organization, slug: str) -> Environment:
    try:
        return Environment.objects.get(organization=organization, slug=slug)
    except Environment.DoesNotExist:
        raise CommandError(f"no environment {slug!r} in organization {organization.slug}") from None
