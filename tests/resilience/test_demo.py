"""The demo's drills: two definitions with twelve weeks of labelled history, nothing provisioned, loaded once."""

import pytest
from django_q.models import Schedule

from apps.resilience.models import DrillDefinition, DrillRun
from apps.tenancy.models import Organization
from qlrf.demo import DEMO_LOADERS, demo_load

pytestmark = pytest.mark.django_db


def test_demo_drills_have_history_and_no_schedule():
    assert DEMO_LOADERS[-1] == "apps.resilience.demo.load"
    lines = demo_load()
    assert "Demo drills: 2 definitions with 24 historical runs (labelled demo, nothing provisioned)" in lines
    acme = Organization.objects.get(slug="acme")
    definitions = DrillDefinition.objects.filter(organization=acme)
    assert definitions.count() == 2
    runs = DrillRun.objects.filter(organization=acme)
    assert runs.count() == 24 and set(runs.values_list("trigger", flat=True)) == {"demo"}
    assert set(runs.values_list("status", flat=True)) == {"passed", "failed"}
    assert not Schedule.objects.filter(name__startswith="resilience-drill-").exists()
    assert runs.filter(status="passed", golden_version__isnull=False).exists()
    assert "Demo drills: already present" in demo_load()
    assert DrillRun.objects.filter(organization=acme).count() == 24
