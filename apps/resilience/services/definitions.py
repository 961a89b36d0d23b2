"""Saving drill definitions: the document validated whole, its names resolved inside the organisation, a schedule."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.images.models import ImageFamily
from apps.inventory.models import Connector
from apps.tenancy.models import Environment, Project
from apps.tenancy.services import audit_record, ensure_permitted, snapshot
from qlrf.errors import DocumentRejected
from qlrf.schedules import schedule_put

from ..checks.builtin import custom_check_allowed
from ..definitions import validate_drill
from ..models import DrillDefinition

SCHEDULED_TASK = "apps.resilience.tasks.drill_scheduled_task"


def _rejected(faults) -> DocumentRejected:
    errors = [{"path": f.pointer, "line": f.line, "code": f.code, "detail": f.message} for f in faults]
    code = "too_large" if any(f.code == "too_large" for f in faults) else "invalid_definition"
    return DocumentRejected(code, f"the drill definition has {len(errors)} fault(s)", errors)


def _fault(path: str, code: str, detail: str) -> DocumentRejected:
    return DocumentRejected(
        "invalid_definition", detail, [{"path": path, "line": None, "code": code, "detail": detail}]
    )


def _resolve(organization, document: dict) -> dict:
    """The organisation's rows the document names; an unknown name is a fault at its pointer."""
    workload, target = document["workload"], document["target"]
    family = ImageFamily.objects.filter(organization=organization, slug=workload["family"]).first()
    if family is None:
        raise _fault("/workload/family", "not_found", f"no image family {workload['family']!r} in this organisation")
    environment = Environment.objects.filter(organization=organization, slug=workload["environment"]).first()
    if environment is None:
        raise _fault("/workload/environment", "not_found", f"no environment {workload['environment']!r}")
    connector = Connector.objects.filter(organization=organization, name=target["connector"]).first()
    if connector is None:
        raise _fault("/target/connector", "not_found", f"no connector named {target['connector']!r}")
    if connector.platform != target["platform"]:
        raise _fault("/target/connector", "wrong_platform", f"connector {connector.name} is {connector.platform}")
    project = None
    if document["metadata"].get("project"):
        project = Project.objects.filter(organization=organization, slug=document["metadata"]["project"]).first()
        if project is None:
            raise _fault("/metadata/project", "not_found", f"no project {document['metadata']['project']!r}")
    for index, check in enumerate(document["health_checks"]):
        if check["type"] == "custom" and not custom_check_allowed(check["entry_point"]):
            detail = f"custom check {check['entry_point']} is not under a module allowed by QLRF_DRILL_CUSTOM_CHECKS"
            raise _fault(f"/health_checks/{index}/entry_point", "not_allowed", detail)
    platform_block = target[target["platform"]]
    region = platform_block.get("region") or f"{platform_block['datacenter']}/{platform_block['cluster']}"
    return {"family": family, "environment": environment, "connector": connector, "project": project, "region": region}


@transaction.atomic
def drill_definition_save(*, actor, organization, data: bytes | str, filename: str = "<input>") -> DrillDefinition:
    """Create or replace (by ``metadata.name``) a drill definition from its document; its schedule follows it."""
    ensure_permitted(actor, scope="drills", action="add", organization=organization)
    result = validate_drill(data, filename=filename)
    if not result.valid:
        raise _rejected(result.faults)
    document = result.document
    fields = _resolve(organization, document)
    if fields["project"] is not None:
        ensure_permitted(actor, scope="drills", action="add", organization=organization, project=fields["project"])
    schedule = document.get("schedule") or {}
    values = {
        **fields,
        "description": document["metadata"].get("description", ""),
        "platform": document["target"]["platform"],
        "document": document,
        "digest": result.digest,
        "rto_objective_seconds": round(document["objectives"]["rto_minutes"] * 60),
        "rpo_objective_seconds": round(document["objectives"]["rpo_minutes"] * 60),
        "cron": schedule.get("cron", ""),
        "enabled": schedule.get("enabled", True),
        "updated_at": timezone.now(),
    }
    existing = (
        DrillDefinition.objects.select_for_update()
        .filter(organization=organization, name=document["metadata"]["name"])
        .first()
    )
    before = snapshot(existing) if existing else None
    if existing is None:
        definition = DrillDefinition.objects.create(
            organization=organization, name=document["metadata"]["name"], **values
        )
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        definition = existing
    audit_record(
        organization=organization,
        actor=actor,
        action="resilience.drill.save",
        obj=definition,
        before=before,
        after=snapshot(definition),
    )
    drill_schedule_sync(definition)
    return definition


def drill_schedule_sync(definition: DrillDefinition) -> None:
    """Create, update or remove the definition's django-q2 schedule (by name) to match its cron and ``enabled``."""
    schedule_put(
        definition.schedule_name,
        SCHEDULED_TASK,
        enabled=bool(definition.enabled and definition.cron),
        args=(definition.pk,),
        cron=definition.cron or None,
    )
