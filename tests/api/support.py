"""What the schema-driven API tests share: the generated OpenAPI document, two tenants with data, role tokens, and
the real object behind each path parameter (found through the URL resolver, so no endpoint is listed by hand)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from apps.compliance.services import signing_key_create, upload_job_submit, upload_store_and_parse
from apps.compliance.services.gate import gate_check
from apps.events.models import WebhookDelivery
from apps.evidence.models import EvidencePackJob
from apps.evidence.services.packs import evidence_pack_generate
from apps.inventory.services import connector_create
from apps.resilience.models import DrillRun
from apps.resilience.services import drill_definition_save, drill_run_start
from apps.tenancy.choices import RoleChoices
from apps.tenancy.models import Organization
from apps.tenancy.services import project_create
from apps.tenancy.services.tokens import token_create
from tests.conftest import make_tenant
from tests.events.test_api import endpoint, published_event
from tests.factories import EnvironmentFactory, SiteFactory
from tests.factories.images import WINDOWS, register
from tests.portal.fleet import build_fleet

ROLES = RoleChoices.values
SBOM = (
    Path(__file__).resolve().parents[2]
    / "fixtures"
    / "external"
    / "sbom"
    / "spdx"
    / "spdx-examples-example11.spdx.json"
)
METHODS = ("get", "post", "put", "patch", "delete")
PLACEHOLDER = re.compile(r"\{([^}]+)\}")


def openapi_document() -> dict:
    """The schema exactly as ``/api/schema/`` serves it (JSON types only)."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def operations(document: dict) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item if method in METHODS]


def seeded_tenant(slug: str, *, own_family: bool = False):
    """A tenant with a user per role, a fleet (registry, channels, assets, a connector, a scan), a project, a gate
    decision, an SBOM upload, a signing key, an evidence pack and a queued pack job, a webhook and a delivery of a
    published event, an environment and a site of its own (with ``own_family`` a family of its own), and an API
    token per role; returns ``(tenant, {role: raw token})``."""
    tenant = make_tenant(slug)
    fleet = build_fleet(tenant, slug[:2])
    project_create(actor=None, organization=tenant.organization, name=f"Project {slug}", slug=f"proj-{slug}")
    # Objects whose slugs exist in this tenant only, so a filter naming them cannot match the other tenant's rows.
    EnvironmentFactory(organization=tenant.organization, slug=f"env-{slug}", name=f"env-{slug}")
    SiteFactory(organization=tenant.organization, slug=f"site-{slug}", name=f"site-{slug}")
    if own_family:
        register(tenant, WINDOWS, "2.0.0")
    version = fleet["versions"][0]
    upload_store_and_parse(actor=None, version=version, kind="sbom", data=SBOM.read_bytes(), filename=SBOM.name)
    upload_job_submit(actor=tenant.users["engineer"], version=version, kind="sbom", data=SBOM.read_bytes())
    public_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    signing_key_create(actor=None, organization=tenant.organization, name=f"key-{slug}", public_key_pem=public_pem)
    evidence_pack_generate(actor=None, organization=tenant.organization)
    EvidencePackJob.objects.create(organization=tenant.organization, filters={})
    WebhookDelivery.objects.create(
        organization=tenant.organization,
        endpoint=endpoint(tenant.organization, name=f"hook-{slug}"),
        event=published_event(tenant.organization, 10_000),
    )
    gate_check(actor=None, version=fleet["versions"][1], environment=fleet["envs"]["prod"])
    seed_discovery(tenant, fleet["connector"], slug)
    seed_drill(tenant, slug)
    tokens = {
        role: token_create(actor=None, organization=tenant.organization, name=f"{slug}-{role}", role=role)[1]
        for role in ROLES
    }
    return tenant, tokens


def seed_discovery(tenant, connector, slug: str) -> None:
    """An artifact rule and a discovered image (named with the tenant's AMI marker) of the tenant's connector."""
    from django.utils import timezone

    from apps.images.models import ArtifactRule
    from apps.inventory.models import DiscoveredImage

    ArtifactRule.objects.create(organization=tenant.organization, name=f"rule-{slug}", kind="tags")
    now = timezone.now()
    ref = f"ami-0{slug[:2]}00000000000099"
    DiscoveredImage.objects.create(
        organization=tenant.organization,
        connector=connector,
        platform="aws",
        account="111111111111",
        region="eu-west-1",
        scope_key="111111111111/eu-west-1",
        image_ref=ref,
        ref_key=ref,
        name=f"golden-{slug}",
        first_seen=now,
        last_seen=now,
    )


def seed_drill(tenant, slug: str) -> None:
    """A DR drill and one finished run. Its recovery region holds no golden artifact, so a run requested by a test
    fails at the resolve step and never calls AWS (the connector points at a closed local port besides)."""
    config = {
        "accounts": [{"account_id": "123456789012"}],
        "regions": ["ap-south-1"],
        "endpoint_url": "http://127.0.0.1:9",
        "max_attempts": 1,
        "connect_timeout": 1,
        "read_timeout": 1,
    }
    organization = tenant.organization
    connector_create(actor=None, organization=organization, platform="aws", name=f"aws-dr-{slug}", config=config)
    document = {
        "apiVersion": "qlrf.io/v1",
        "kind": "DrillDefinition",
        "metadata": {"name": f"drill-{slug}"},
        "workload": {"family": "ubuntu-2204-base", "environment": "prod"},
        "target": {
            "platform": "aws",
            "connector": f"aws-dr-{slug}",
            "aws": {"account": "123456789012", "region": "ap-south-1"},
        },
        "pilot_light": {"instance_type": "t3.micro", "count": 1},
        "health_checks": [{"name": "running", "type": "instance_state"}],
        "objectives": {"rto_minutes": 30, "rpo_minutes": 1440},
        "recovery_point": {"source": "image_release"},
    }
    definition = drill_definition_save(actor=None, organization=organization, data=json.dumps(document))
    run = drill_run_start(actor=None, definition=definition, trigger="manual")
    DrillRun.objects.filter(pk=run.pk).update(status="failed", finished_at=run.created_at, reasons=["seeded"])


def view_model_and_lookup(path: str):
    """The model and lookup field of the view serving ``path`` (a detail route), or ``None`` if it has none."""
    view_class = view_class_for(path)
    queryset = getattr(view_class, "queryset", None)
    if queryset is None:
        return None
    return queryset.model, getattr(view_class, "lookup_field", "pk") or "pk"


def view_class_for(path: str):
    try:
        match = resolve(PLACEHOLDER.sub("1", path))
    except Resolver404:
        return None
    return getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)


def path_values(path: str, organization: Organization) -> dict | None:
    """Path parameters naming a real object of ``organization`` at ``path``; ``None`` if the path takes no id of a
    tenant object (e.g. ``/reports/{kind}``) or the organisation has no such object."""
    names = PLACEHOLDER.findall(path)
    if not names:
        return None
    found = view_model_and_lookup(path)
    if found is None:
        return None
    model, lookup = found
    if model is Organization:
        rows = model.objects.filter(pk=organization.pk)
    else:
        rows = model.objects.filter(organization=organization)
    obj = rows.order_by("pk").first()
    if obj is None:
        return None
    return {names[0]: str(getattr(obj, lookup))}
