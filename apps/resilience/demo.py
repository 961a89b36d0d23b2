"""Demo drills: two definitions and twelve weeks of drill history, fabricated and labelled so (trigger ``demo``).

Nothing is provisioned: the demo's AWS connector has no credentials and is disabled, the definitions have their
schedules switched off, and the history rows are written directly with times derived from the load time. The
golden version of each run is the prod channel's assignment in force at the run's start.
"""

from __future__ import annotations

import datetime
import json

from django.utils import timezone

from apps.images.models import ChannelAssignment
from apps.inventory.models import Connector
from apps.inventory.services import connector_create

from .choices import DrillRunStatusChoices as Status
from .choices import DrillRunTriggerChoices, DrillStepKindChoices, DrillStepStatusChoices
from .models import DrillDefinition, DrillRun, DrillStep
from .services import drill_definition_save

CONNECTOR = "aws-dr (demo, no credentials)"
WEEKS = 12
DRILLS = (
    ("ubuntu-base-eu-west-1", "ubuntu-2204-base", "eu-west-1", 20, 60 * 24 * 30),
    ("rhel-appserver-us-west-2", "rhel-9-appserver", "us-west-2", 45, 60 * 24 * 60),
)


def _document(name: str, family: str, region: str, rto: int, rpo: int) -> str:
    return json.dumps(
        {
            "apiVersion": "qlrf.io/v1",
            "kind": "DrillDefinition",
            "metadata": {"name": name, "description": f"Demo: {family} from the prod golden image in {region}."},
            "workload": {"family": family, "environment": "prod"},
            "target": {"platform": "aws", "connector": CONNECTOR, "aws": {"account": "123456789012", "region": region}},
            "pilot_light": {"instance_type": "t3.micro", "count": 2},
            "health_checks": [
                {"name": "running", "type": "instance_state"},
                {"name": "golden", "type": "golden_version"},
                {"name": "app", "type": "http", "port": 8080, "path": "/healthz"},
            ],
            "objectives": {"rto_minutes": rto, "rpo_minutes": rpo},
            "recovery_point": {"source": "image_release"},
            "schedule": {"cron": "0 3 * * 1", "enabled": False},
        }
    )


def _golden_at(definition: DrillDefinition, at: datetime.datetime):
    assignment = (
        ChannelAssignment.objects.filter(
            channel__family=definition.family, channel__environment=definition.environment, assigned_at__lte=at
        )
        .select_related("to_version")
        .order_by("-assigned_at", "-id")
        .first()
    )
    return assignment.to_version if assignment else None


def _outcome(index: int, definition: DrillDefinition) -> tuple[str, float | None, list[str]]:
    """A deterministic history: mostly passed, one missing regional copy, one slow recovery."""
    objective = definition.rto_objective_seconds
    if definition.region == "us-west-2" and index == 2:
        return Status.FAILED, None, [f"golden version has no copy in {definition.region} (copies in: us-east-1)"]
    if index == 7:
        rto = objective * 1.25
        return Status.FAILED, rto, [f"RTO {rto:.0f} s exceeds the objective of {objective} s"]
    return Status.PASSED, objective * (0.45 + 0.05 * (index % 4)), []


def _history(definition: DrillDefinition, now: datetime.datetime) -> int:
    steps = []
    for index in range(WEEKS):
        start = now - datetime.timedelta(weeks=WEEKS - index, hours=-3)
        golden = _golden_at(definition, start)
        status, rto, reasons = _outcome(index, definition)
        released = (golden.released_at or golden.created_at) if golden else None
        rpo = (start - released).total_seconds() if released and released < start else None
        run = DrillRun.objects.create(
            organization=definition.organization,
            definition=definition,
            definition_digest=definition.digest,
            status=status,
            trigger=DrillRunTriggerChoices.DEMO,
            created_at=start,
            started_at=start,
            finished_at=start + datetime.timedelta(seconds=(rto or 120) + 90),
            deadline_at=start + datetime.timedelta(hours=1),
            golden_version=golden if rto is not None else None,
            recovery_point_at=released,
            rto_seconds=rto,
            rpo_seconds=rpo,
            rto_objective_seconds=definition.rto_objective_seconds,
            rpo_objective_seconds=definition.rpo_objective_seconds,
            rto_met=rto is not None and rto <= definition.rto_objective_seconds,
            rpo_met=rpo is not None and rpo <= definition.rpo_objective_seconds,
            reasons=reasons,
        )
        kinds = [DrillStepKindChoices.RESOLVE] if rto is None else [k for k in DrillStepKindChoices if k != "janitor"]
        offset = 0.0
        for sequence, kind in enumerate(kinds, start=1):
            failed = (rto is None) or (kind == DrillStepKindChoices.MEASURE and status == Status.FAILED)
            begin = start + datetime.timedelta(seconds=offset)
            offset += (rto or 1) / len(kinds)
            steps.append(
                DrillStep(
                    organization=definition.organization,
                    run=run,
                    sequence=sequence,
                    kind=kind,
                    status=DrillStepStatusChoices.FAILED if failed else DrillStepStatusChoices.OK,
                    started_at=begin,
                    finished_at=start + datetime.timedelta(seconds=offset),
                    detail="demo history (nothing was provisioned)",
                )
            )
    DrillStep.objects.bulk_create(steps)
    return WEEKS


def load(context: dict) -> list[str]:
    """Create the demo drills and their history once (idempotent)."""
    organization = context["organization"]
    if DrillDefinition.objects.filter(organization=organization).exists():
        return ["Demo drills: already present"]
    if not Connector.objects.filter(organization=organization, name=CONNECTOR).exists():
        config = {"accounts": [{"account_id": "123456789012"}], "regions": ["eu-west-1", "us-west-2"]}
        connector_create(
            actor=None, organization=organization, platform="aws", name=CONNECTOR, config=config, enabled=False
        )
    now, runs = timezone.now(), 0
    for name, family, region, rto, rpo in DRILLS:
        definition = drill_definition_save(
            actor=None, organization=organization, data=_document(name, family, region, rto, rpo)
        )
        runs += _history(definition, now)
    return [f"Demo drills: {len(DRILLS)} definitions with {runs} historical runs (labelled demo, nothing provisioned)"]
