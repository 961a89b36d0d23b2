"""Discovered images and artifact rules over the API: the isolation suite, one-call registration, hostile bodies."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.images.choices import ArtifactRuleKindChoices
from apps.images.models import ArtifactRule, ImageArtifact
from apps.inventory.models import Asset, DiscoveredImage
from apps.tenancy.models import AuditEvent
from tests.api_base import TenantAPITests
from tests.conftest import client_for
from tests.factories.images import UBUNTU, register
from tests.inventory.conftest import synthetic

_seq = itertools.count(1)


def discovered(tenant, *, ref=None, name="golden-ubuntu", family="ubuntu-2204-base", version="", **extra):
    connector = synthetic(tenant, name=f"c{next(_seq)}", count=1)
    now = timezone.now()
    ref = ref or f"ami-{next(_seq):017x}"
    return DiscoveredImage.objects.create(
        organization=tenant.organization,
        connector=connector,
        platform="aws",
        account="111111111111",
        region="eu-west-1",
        scope_key="111111111111/eu-west-1",
        image_ref=ref,
        ref_key=ref,
        name=name,
        family=family,
        version=version,
        state="available",
        first_seen=now,
        last_seen=now,
        **extra,
    )


class TestDiscoveredImageAPI(TenantAPITests):
    basename = "discovered-image"
    model = DiscoveredImage
    writable = False
    deletable = False

    def make(self, tenant):
        return discovered(tenant)


class TestArtifactRuleAPI(TenantAPITests):
    basename = "artifact-rule"
    model = ArtifactRule
    update_payload = {"enabled": False}

    def make(self, tenant):
        return ArtifactRule.objects.create(organization=tenant.organization, name=f"r{next(_seq)}", kind="tags")

    def create_payload(self, tenant):
        return {"organization": tenant.organization.slug, "name": f"rule-{next(_seq)}", "kind": "copy_source"}


@pytest.mark.django_db
class TestRegisterInOneCall:
    def test_register_uses_the_images_own_family_and_version(self, tenant_a):
        version = register(tenant_a, UBUNTU, "1.2.0")
        image = discovered(tenant_a, version="1.2.0")
        now = timezone.now()
        machine = Asset.objects.create(
            organization=tenant_a.organization,
            platform="aws",
            account="111111111111",
            instance_id="i-1",
            image_ref=image.image_ref,
            ref_key=image.ref_key,
            fingerprint="x",
            first_seen=now,
            last_seen=now,
        )

        response = client_for(tenant_a.users["engineer"]).post(
            reverse("discovered-image-register", args=[image.pk]), {}, format="json"
        )

        assert response.status_code == 201, response.json()
        assert response.json()["matched_version"] == "ubuntu-2204-base@1.2.0"
        artifact = ImageArtifact.objects.get(organization=tenant_a.organization)
        assert (artifact.version_id, artifact.image_ref, artifact.region) == (version.pk, image.image_ref, "eu-west-1")
        assert Asset.objects.get(pk=machine.pk).image_version_id == version.pk  # resolved at once, no rescan
        assert AuditEvent.objects.filter(action="images.imageartifact.add", object_id=str(artifact.pk)).count() == 1

    def test_register_with_an_explicit_version_for_an_untagged_image(self, tenant_a):
        version = register(tenant_a, UBUNTU, "1.3.0")
        image = discovered(tenant_a, name="scratch", family="", version="")

        response = client_for(tenant_a.users["admin"]).post(
            reverse("discovered-image-register", args=[image.pk]),
            {"family": "ubuntu-2204-base", "version": "1.3.0"},
            format="json",
        )

        assert response.status_code == 201
        assert DiscoveredImage.objects.get(pk=image.pk).artifact.version_id == version.pk

    @pytest.mark.parametrize("role", ["viewer", "operator"])
    def test_below_engineer_is_refused_and_nothing_is_written(self, tenant_a, role):
        register(tenant_a, UBUNTU, "1.2.0")
        image = discovered(tenant_a, version="1.2.0")

        response = client_for(tenant_a.users[role]).post(reverse("discovered-image-register", args=[image.pk]), {})

        assert response.status_code == 403
        assert not ImageArtifact.objects.exists()
        assert DiscoveredImage.objects.get(pk=image.pk).artifact_id is None

    @pytest.mark.parametrize(
        "body",
        [{"family": "ubuntu-2204-base", "version": "9.9.9"}, {"family": "nope", "version": "1.2.0"}, {"version": ""}],
    )
    def test_an_unknown_version_is_400_with_a_code_and_nothing_written(self, tenant_a, body):
        register(tenant_a, UBUNTU, "1.2.0")
        image = discovered(tenant_a, version="")

        response = client_for(tenant_a.users["engineer"]).post(
            reverse("discovered-image-register", args=[image.pk]), body, format="json"
        )

        assert response.status_code == 400
        assert "unknown_version" in str(response.json())
        assert not ImageArtifact.objects.exists()

    def test_a_wrong_body_is_400(self, tenant_a):
        image = discovered(tenant_a, version="1.2.0")

        response = client_for(tenant_a.users["engineer"]).post(
            reverse("discovered-image-register", args=[image.pk]), {"family": {"nested": [1]}}, format="json"
        )

        assert response.status_code == 400
        assert not ImageArtifact.objects.exists()

    def test_another_tenants_image_is_404_and_its_version_is_never_reached(self, tenant_a, tenant_b):
        register(tenant_b, UBUNTU, "1.2.0")
        image = discovered(tenant_b, version="1.2.0")

        response = client_for(tenant_a.users["admin"]).post(reverse("discovered-image-register", args=[image.pk]), {})

        assert response.status_code == 404
        assert not ImageArtifact.objects.exists()

    def test_a_version_of_another_tenant_is_not_found(self, tenant_a, tenant_b):
        register(tenant_b, UBUNTU, "1.2.0")  # only bravo has it
        image = discovered(tenant_a, version="1.2.0")

        response = client_for(tenant_a.users["admin"]).post(reverse("discovered-image-register", args=[image.pk]), {})

        assert response.status_code == 400
        assert not ImageArtifact.objects.exists()

    def test_filters_matched_and_platform(self, tenant_a):
        register(tenant_a, UBUNTU, "1.2.0")
        matched = discovered(tenant_a, version="1.2.0")
        client = client_for(tenant_a.users["engineer"])
        client.post(reverse("discovered-image-register", args=[matched.pk]), {})
        other = discovered(tenant_a, version="")

        unmatched = client.get(reverse("discovered-image-list"), {"matched": "false"}).json()

        assert [row["id"] for row in unmatched["results"]] == [other.pk]


@pytest.mark.django_db
class TestArtifactRuleValidation:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "name_pattern", "name_pattern": "(unclosed"}, "name_pattern"),
            ({"kind": "name_pattern", "name_pattern": "golden-(?P<family>.+)"}, "name_pattern"),
            ({"kind": "name_pattern", "name_pattern": "v(?P<version>.+)"}, "name_pattern"),
            ({"kind": "name_pattern", "name_pattern": "x" * 400}, "name_pattern"),
            ({"kind": "tags", "version_tag": ""}, "version_tag"),
            ({"kind": "bogus"}, "kind"),
        ],
    )
    def test_a_bad_rule_is_refused_with_the_field_and_nothing_written(self, tenant_a, body, field):
        response = client_for(tenant_a.users["engineer"]).post(
            reverse("artifact-rule-list"), {"name": "r", **body}, format="json"
        )

        assert response.status_code in (400, 422), response.json()
        assert field in str(response.json())
        assert not ArtifactRule.objects.exists()

    def test_a_family_of_another_tenant_is_refused(self, tenant_a, tenant_b):
        theirs = register(tenant_b, UBUNTU, "1.0.0").family

        response = client_for(tenant_a.users["engineer"]).post(
            reverse("artifact-rule-list"),
            {"name": "r", "kind": ArtifactRuleKindChoices.TAGS, "family": theirs.slug},
            format="json",
        )

        assert response.status_code == 400
        assert not ArtifactRule.objects.exists()
