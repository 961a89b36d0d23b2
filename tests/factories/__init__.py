"""factory_boy factories, seeded for repeatable data."""

import factory
import factory.random
from django.contrib.auth import get_user_model

from apps.tenancy.choices import EnvironmentTierChoices, SiteKindChoices
from apps.tenancy.models import Environment, Organization, Project, Site

factory.random.reseed_random("qlrf")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pw")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


class EnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Environment

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Env {n}")
    slug = factory.Sequence(lambda n: f"env-{n}")
    tier = EnvironmentTierChoices.DEV
    signature_policy = "warn"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    slug = factory.Sequence(lambda n: f"site-{n}")
    kind = SiteKindChoices.CLOUD_REGION
    platform = "aws"
    region = "eu-west-1"
