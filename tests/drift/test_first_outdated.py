"""A cell's first outdated machines (the report's inline list) are found per (cell, version) group by index, and are
exactly what one windowed pass over the fleet finds: ROW_NUMBER() per cell by (outdated since, instance id)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from apps.drift.engine import drift_evaluate, first_outdated, outdated_assets
from apps.drift.reports import live_cells
from apps.drift.scenarios import scenario_parse
from apps.drift.scenarios.load import scenario_load
from apps.images.models import ImageVersion
from apps.inventory.models import Asset
from apps.tenancy.models import Site

REGIONAL = Path(__file__).resolve().parents[2] / "fixtures" / "fleets" / "regional-copies-canaries-grace.yaml"

pytestmark = pytest.mark.django_db


def windowed(organization, evaluation, limit: int) -> dict[tuple, list[tuple]]:
    """The reference: one pass over the outdated assets, ranked per cell."""
    ranked = (
        outdated_assets(organization, evaluation)
        .select_related(None)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("environment_id"), F("platform"), F("site_id")],
                order_by=[F("outdated_since").asc(), F("instance_id").asc()],
            )
        )
        .filter(rank__lte=limit)
        .values_list(
            "environment_id", "platform", "site_id", "outdated_since", "instance_id", "image_version_id", "name"
        )
    )
    cells: dict[tuple, list[tuple]] = {}
    for env_id, platform, site_id, since, instance_id, version_id, name in ranked:
        cells.setdefault((env_id, platform, site_id), []).append((since, instance_id, version_id, name))
    return {cell: sorted(rows) for cell, rows in cells.items()}


def crowded(excludes_not_running: bool) -> dict:
    """The regional scenario with crowded cells: two outdated versions in one cell, stopped and unmanaged machines,
    machines without an environment, more outdated machines per cell than the inline list holds."""
    scenario = scenario_parse(REGIONAL.read_bytes())
    scenario["coverage_excludes_not_running"] = excludes_not_running
    # an older version never promoted: outdated longer than 1.0.0 in the same cells, its machines named to sort last
    # (registered last: its rows do not come first by id either)
    scenario["families"][0]["versions"].append(
        {"version": "0.9.0", "artifacts": [{"platform": "aws", "region": "eu-west-1", "image_ref": "ami-0090eu"}]}
    )
    extra = [
        {
            "id": f"i-zz-prod-oldest-{index:02d}",
            "platform": "aws",
            "account": "111111111111",
            "region": "eu-west-1",
            "environment": "prod",
            "image": {"image_id": "ami-0090eu"},
        }
        for index in range(12)
    ]
    for index in range(27):
        for env, image, account, region in (
            ("prod", "ami-0100eu", "111111111111", "eu-west-1"),  # outdated 13 days
            ("dev", "ami-0100us", "222222222222", "us-east-1"),  # two behind: outdated 27 days
            ("dev", "ami-0110us", "222222222222", "us-east-1"),  # in grace: compliant
            ("prod", "ami-0deadbeef", "111111111111", "eu-west-1"),  # unmanaged
        ):
            extra.append(
                {
                    "id": f"i-{env}-{image}-{index:02d}",
                    "platform": "aws",
                    "account": account,
                    "region": region,
                    "environment": env,
                    "state": "stopped" if index % 5 == 0 else "running",
                    "image": {"image_id": image},
                }
            )
    scenario["assets"] = scenario["assets"] + extra
    return scenario


def load(scenario: dict):
    """The scenario loaded, then shaped as scenarios cannot say: eu-west-1 machines in a site, and the oldest
    version revoked with some of its machines outside any environment (outdated there by the revocation)."""
    organization = scenario_load(scenario)
    site = Site.objects.create(organization=organization, name="EU", slug="eu", kind="cloud_region", region="eu-west-1")
    Asset.objects.filter(organization=organization, region="eu-west-1").update(site=site)
    ImageVersion.objects.filter(family__organization=organization, version="0.9.0").update(
        revoked_at=timezone.now() - datetime.timedelta(days=3)
    )
    Asset.objects.filter(
        organization=organization, instance_id__in=["i-zz-prod-oldest-00", "i-zz-prod-oldest-01"]
    ).update(environment=None)
    return organization


@pytest.mark.parametrize("excludes_not_running", [False, True], ids=["stopped-counted", "stopped-left-out"])
@pytest.mark.parametrize("limit", [1, 5, 20, 200])
def test_first_outdated_is_the_windowed_ranking(excludes_not_running: bool, limit: int) -> None:
    organization = load(crowded(excludes_not_running))
    evaluation = drift_evaluate(organization)
    reference = windowed(organization, evaluation, limit)
    assert sum(len(rows) for rows in reference.values()) >= min(limit, 20)  # the scenario does crowd the cells
    assert first_outdated(organization, evaluation, limit) == reference
    cells = set(reference)
    assert any(env is None for env, _p, _s in cells), cells
    assert any(site is None for _e, _p, site in cells), cells
    sinces = {len({row[0] for row in rows}) for rows in reference.values()}
    assert limit < 20 or max(sinces) == 2  # a cell whose first machines come from two versions


def test_the_reports_inline_list_holds_twenty_per_cell_oldest_first() -> None:
    organization = load(crowded(False))
    evaluation = drift_evaluate(organization)
    _cells, outdated = live_cells(organization, evaluation)
    lists = [rows for rows in outdated.values() if len(rows) == 20]
    assert lists, "a cell with more than twenty outdated machines"
    for rows in outdated.values():
        assert [(a.outdated_since, a.instance_id) for a in rows] == sorted(
            (a.outdated_since, a.instance_id) for a in rows
        )
    expected = windowed(organization, evaluation, 20)
    assert sum(len(rows) for rows in outdated.values()) == sum(len(rows) for rows in expected.values())
