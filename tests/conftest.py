"""Shared fixtures: two tenants with a user per role, and API clients."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

import tests.factories as tf
from apps.tenancy.choices import RoleChoices
from apps.tenancy.services import membership_add
from tests.factories import OrganizationFactory, UserFactory


@dataclass
class Tenant:
    organization: object
    users: dict = field(default_factory=dict)  # role → user


def make_tenant(slug: str) -> Tenant:
    """An organisation with one member per role (permissions granted through the membership service)."""
    org = OrganizationFactory(slug=slug, name=slug.title())
    tenant = Tenant(organization=org)
    for role in RoleChoices.values:
        user = UserFactory(username=f"{slug}-{role}")
        membership_add(actor=None, organization=org, user=user, role=role)
        tenant.users[role] = user
    return tenant


@pytest.fixture
def tenant_a(db) -> Tenant:
    return make_tenant("alpha")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return make_tenant("bravo")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def ubuntu_contract() -> str:
    from tests.factories.images import UBUNTU

    return UBUNTU


@pytest.fixture
def windows_contract() -> str:
    from tests.factories.images import WINDOWS

    return WINDOWS


@pytest.fixture
def envs(tenant_a):
    return {
        slug: tf.EnvironmentFactory(
            organization=tenant_a.organization, slug=slug, tier=slug if slug != "staging" else "staging"
        )
        for slug in ("dev", "staging", "prod")
    }


@pytest.fixture
def sites(tenant_a):
    return {
        "aws-eu": tf.SiteFactory(organization=tenant_a.organization, slug="aws-eu", platform="aws", region="eu-west-1"),
        "aws-us": tf.SiteFactory(organization=tenant_a.organization, slug="aws-us", platform="aws", region="us-east-1"),
    }
