"""Image registry API: the generic isolation suite per endpoint, the CI pipeline flow, contract validation."""

import itertools
from pathlib import Path

import pytest
import yaml
from django.urls import reverse
from rest_framework.test import APIClient

from apps.events.models import OutboxEvent
from apps.images.contracts import validate_contract
from apps.images.models import Channel, ImageFamily, ImageVersion
from apps.images.services import channel_promote
from apps.tenancy.models import AuditEvent
from apps.tenancy.services import token_create
from tests.api_base import TenantAPITests
from tests.factories import EnvironmentFactory
from tests.factories.images import EXAMPLES, register
from tests.images.contracts.test_contract_mutations import MUTATIONS

_seq = itertools.count(1)
UBUNTU = (EXAMPLES / "ubuntu-22.04.contract.yaml").read_text()


class TestImageFamilyAPI(TenantAPITests):
    basename = "image-family"
    model = ImageFamily
    update_payload = {"description": "changed"}

    def make(self, tenant):
        return ImageFamily.objects.create(organization=tenant.organization, name="F", slug=f"f-{next(_seq)}")

    def create_payload(self, tenant):
        n = next(_seq)
        return {"organization": tenant.organization.slug, "name": f"Fam {n}", "slug": f"fam-{n}"}


class TestImageVersionAPI(TenantAPITests):
    basename = "image"
    model = ImageVersion
    deletable = False

    def make(self, tenant):
        return register(tenant, UBUNTU, f"0.{next(_seq)}.0")

    def create_payload(self, tenant):
        return {"organization": tenant.organization.slug, "contract": UBUNTU, "version": f"9.{next(_seq)}.0"}


class TestChannelAPI(TenantAPITests):
    basename = "channel"
    model = Channel
    writable = False
    deletable = False

    def make(self, tenant):
        version = register(tenant, UBUNTU, f"0.{next(_seq)}.0")
        env = EnvironmentFactory(organization=tenant.organization)
        return channel_promote(actor=None, version=version, environment=env).channel


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.django_db
def test_ci_pipeline_registers_publishes_promotes_and_revokes_with_a_token(tenant_a, tenant_b):
    EnvironmentFactory(organization=tenant_a.organization, slug="prod", tier="prod")
    EnvironmentFactory(organization=tenant_b.organization, slug="prod-b", tier="prod")
    _, raw = token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")
    ci = bearer(raw)
    body = {
        "contract": UBUNTU,
        "version": "1.0.0",
        "artifacts": [
            {"platform": "aws", "image_ref": "ami-0123", "account": "111122223333", "region": "eu-west-1"},
            {"platform": "aws", "image_ref": "ami-0456", "account": "111122223333", "region": "us-east-1"},
        ],
    }
    created = ci.post(reverse("image-list"), body, format="json")
    assert created.status_code == 201, created.content
    version_id = created.json()["id"]
    assert created.json()["status"] == "draft" and len(created.json()["artifacts"]) == 2
    assert ci.post(reverse("image-list"), body, format="json").status_code == 200  # idempotent re-run
    refused = ci.post(reverse("image-promote", args=[version_id]), {"environment": "prod"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "illegal_transition"
    assert ci.post(reverse("image-publish", args=[version_id])).json()["status"] == "published"
    foreign = ci.post(reverse("image-promote", args=[version_id]), {"environment": "prod-b"}, format="json")
    assert foreign.status_code == 400 and foreign.json()["errors"][0]["path"] == "/environment"
    promoted = ci.post(
        reverse("image-promote", args=[version_id]), {"environment": "prod", "grace_days": 3}, format="json"
    )
    assert promoted.status_code == 201 and promoted.json()["to_version"] == "ubuntu-2204-base@1.0.0"
    revoked = ci.post(reverse("image-revoke", args=[version_id]), {"reason": "CVE-2024-3094"}, format="json")
    assert revoked.status_code == 200 and [v["status"] for v in revoked.json()] == ["revoked"]
    types = list(
        OutboxEvent.objects.filter(organization=tenant_a.organization)
        .order_by("occurred_at")
        .values_list("type", flat=True)
    )
    assert types == [
        "image.version.registered",
        "image.artifact.added",
        "image.artifact.added",
        "image.version.published",
        "image.channel.promoted",
        "image.version.revoked",
    ]
    actions = set(AuditEvent.objects.filter(actor__api_token__name="ci").values_list("action", flat=True))
    assert actions == {
        "images.imageversion.register",
        "images.imageartifact.add",
        "images.imageversion.publish",
        "images.channel.promote",
        "images.imageversion.revoke",
    }


@pytest.mark.django_db
def test_bad_registrations_are_refused_whole(tenant_a):
    client = APIClient()
    client.force_authenticate(tenant_a.users["engineer"])
    url = reverse("image-list")
    bad = client.post(url, {"contract": UBUNTU.replace("level: 1", "level: 3"), "version": "1.0.0"}, format="json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_contract"
    assert bad.json()["errors"][0]["path"] == "/hardening/cis/level"
    untargeted = client.post(
        url,
        {"contract": UBUNTU, "version": "1.0.0", "artifacts": [{"platform": "vsphere", "image_ref": "tmpl-1"}]},
        format="json",
    )
    assert untargeted.status_code == 400 and untargeted.json()["code"] == "platform_not_targeted"
    not_a_version = client.post(url, {"contract": UBUNTU, "version": "latest"}, format="json")
    assert not_a_version.status_code == 400 and not_a_version.json()["code"] == "invalid_version"
    assert ImageVersion.objects.count() == 0 and OutboxEvent.objects.count() == 0
    unknown = client.post(reverse("image-revoke", args=[999999]), {"reason": "x"}, format="json")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_examples_validate_through_the_api(tenant_a, name):
    client = APIClient()
    client.force_authenticate(tenant_a.users["viewer"])
    text = (EXAMPLES / name).read_text()
    response = client.post(reverse("contract-validate"), text.encode(), content_type="application/yaml")
    assert response.status_code == 200, response.content
    assert response.json()["digest"] == validate_contract(text).digest
    as_json = client.post(reverse("contract-validate"), {"contract": yaml.safe_load(text)}, format="json")
    assert as_json.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_mutated_contracts_fail_through_the_api_with_pointer_and_line(tenant_a, mutation):
    client = APIClient()
    client.force_authenticate(tenant_a.users["viewer"])
    text = mutation.mutate((EXAMPLES / mutation.example).read_text())
    expected = [(f.pointer or "/", f.line, f.code) for f in validate_contract(text).faults]
    response = client.post(reverse("contract-validate"), text.encode(), content_type="application/yaml")
    assert response.status_code in (413, 422)
    assert [(e["path"], e["line"], e["code"]) for e in response.json()["errors"]] == expected
    assert expected  # the mutation really breaks the contract


@pytest.mark.django_db
@pytest.mark.parametrize("mutation", MUTATIONS[:8], ids=lambda m: m.id)
def test_mutated_contracts_fail_from_the_cli(tmp_path, capsys, mutation):
    from qlrf.cli import main

    text = mutation.mutate((EXAMPLES / mutation.example).read_text())
    path = tmp_path / mutation.example
    path.write_text(text)
    expected = [f"{path}:{f.line}: {f.pointer or '/'}" for f in validate_contract(text).faults]
    assert main(["contract", "validate", str(EXAMPLES / "rhel-9.contract.yaml"), str(path)]) == 1
    err = capsys.readouterr().err
    for line in expected:
        assert line in err
    assert "Traceback" not in err


@pytest.mark.django_db
def test_every_example_validates_from_the_cli(capsys):
    from qlrf.cli import main

    files = [str(p) for p in sorted(Path(EXAMPLES).glob("*.yaml"))]
    assert main(["contract", "validate", *files]) == 0
    assert capsys.readouterr().out.count(": valid ") == len(files)


def test_a_member_of_two_organizations_promotes_to_the_versions_own_environment(tenant_a, tenant_b, ubuntu_contract):
    """Both organisations have a "prod": the slug names the version's own (it was an ambiguous lookup, a 500)."""
    from apps.tenancy.services import membership_add

    prod_a = EnvironmentFactory(organization=tenant_a.organization, slug="prod", tier="prod")
    EnvironmentFactory(organization=tenant_b.organization, slug="prod", tier="prod")
    person = tenant_a.users["engineer"]
    membership_add(actor=None, organization=tenant_b.organization, user=person, role="engineer")
    version = register(tenant_a, ubuntu_contract, "1.0.0")
    client = APIClient()
    client.force_authenticate(user=person)
    promoted = client.post(reverse("image-promote", args=[version.pk]), {"environment": "prod"}, format="json")
    assert promoted.status_code == 201, promoted.content
    assert Channel.objects.get(version=version).environment == prod_a
    assert Channel.objects.filter(environment__organization=tenant_b.organization).count() == 0
