"""The README's demo: one organisation whose fleet spans four platforms, resolved against the demo registry."""

import pytest
from django.db.models import Count

from apps.inventory.models import Asset
from qlrf.demo import demo_load

pytestmark = pytest.mark.django_db


def test_demo_fleet_spans_four_platforms_and_loads_idempotently():
    lines = demo_load()
    assert "Demo fleet: 3000 machines on 4 platforms (scan succeeded)" in lines
    by_platform = dict(Asset.objects.values_list("platform").annotate(n=Count("id")))
    assert "Legacy site: 120 machines in Berlin (scan partial: one vCenter does not answer)" in lines
    by_platform = dict(
        Asset.objects.filter(connector__name="demo-fleet").values_list("platform").annotate(n=Count("id"))
    )
    assert by_platform == {"aws": 1200, "azure": 600, "gcp": 600, "vsphere": 600}
    legacy = Asset.objects.filter(connector__name="dc-berlin-legacy")
    assert legacy.count() == 120 and set(legacy.values_list("site__slug", flat=True)) == {"dc-berlin"}
    managed = Asset.objects.filter(image_version__isnull=False).count()
    assert 0.9 * 3120 < managed < 3120  # a few unmanaged machines, on purpose
    assert Asset.objects.filter(environment__isnull=True).count() == 0
    assert Asset.objects.filter(site__isnull=True).count() == 0
    assert "Demo fleet: connector demo-fleet already present" in demo_load()
    assert Asset.objects.count() == 3120
