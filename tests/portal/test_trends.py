"""Trends: SVG charts with a table alternative, ranges, week over week, the demo history loader, remediations."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.drift import charts
from apps.drift.demo import HISTORY_DAYS, load
from apps.drift.engine import drift_evaluate
from apps.drift.models import DriftSnapshot, DriftSnapshotRow
from apps.drift.portal import trend_range, week_changes
from apps.drift.selectors import DriftQueryError
from apps.drift.services import drift_snapshot_write
from apps.inventory.models import Asset

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 1)


def test_line_chart_is_an_accessible_svg():
    series = [
        charts.Series(
            "prod", ((DAY, 80.0), (DAY + datetime.timedelta(days=1), None), (DAY + datetime.timedelta(2), 90))
        ),
        charts.Series("dev <x>", ((DAY, 50.0), (DAY + datetime.timedelta(days=2), 55.5))),
    ]
    svg = charts.line_chart(series, chart_id="c1", title="Coverage & drift", y_max=100)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="chart"')
    assert 'role="img" aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Coverage &amp; drift</title>' in svg
    assert "prod: 80% on 2026-03-01, 90% on 2026-03-03. dev &lt;x&gt;: 50% on 2026-03-01, 55.5% on 2026-03-03." in svg
    assert svg.count("<polyline") == 3  # prod is split by its missing day
    assert "dev &lt;x&gt;" in svg and "<x>" not in svg
    names, rows = charts.chart_table(series)
    assert names == ["prod", "dev <x>"]
    assert rows == [
        (DAY, [80.0, 50.0]),
        (DAY + datetime.timedelta(days=1), [None, None]),
        (DAY + datetime.timedelta(days=2), [90, 55.5]),
    ]


def test_empty_chart_says_so():
    svg = charts.line_chart([], chart_id="empty", title="Nothing")
    assert "No snapshots in this range" in svg and "No data in this range." in svg


def test_trend_range_parsing():
    today = datetime.date(2026, 6, 30)
    assert trend_range(None, None, None, today) == trend_range("30d", None, None, today)
    assert trend_range("13m", None, None, today).interval == "week"
    assert trend_range("custom", "2026-01-01", "2026-01-31", today).start == datetime.date(2026, 1, 1)
    for key, start, end in (("bogus", None, None), ("custom", "2026-02-01", "2026-01-01"), ("custom", "x", "y")):
        with pytest.raises(DriftQueryError):
            trend_range(key, start, end, today)


def test_demo_history_is_labelled_and_idempotent(tenant_a, fleet_a):
    context = {"organization": tenant_a.organization}
    assert load(context) == [
        f"Drift history: today's snapshot and {HISTORY_DAYS} days of synthetic demo history (trigger 'demo')"
    ]
    snapshots = DriftSnapshot.objects.filter(organization=tenant_a.organization)
    assert snapshots.count() == HISTORY_DAYS + 1
    assert snapshots.filter(trigger="demo").count() == HISTORY_DAYS
    assert snapshots.exclude(trigger="demo").get().trigger == "manual"
    rows = DriftSnapshotRow.objects.filter(snapshot__organization=tenant_a.organization).count()
    assert load(context) == ["Drift history: demo history already present"]
    assert (snapshots.count(), DriftSnapshotRow.objects.filter(organization=tenant_a.organization).count()) == (
        HISTORY_DAYS + 1,
        rows,
    )
    oldest = snapshots.order_by("taken_at").first()
    assert (timezone.now() - oldest.taken_at).days == HISTORY_DAYS
    # totals per cell are kept; only compliant ↔ outdated moves
    for row in DriftSnapshotRow.objects.filter(snapshot=oldest):
        assert row.compliant + row.outdated + row.unmanaged + row.stale == row.total  # stopped ones are classified too
        assert row.not_running <= row.total


def test_drift_page_renders_charts_with_table_alternative(client, tenant_a, fleet_a):
    load({"organization": tenant_a.organization})
    client.force_login(tenant_a.users["viewer"])
    response = client.get(reverse("drift:overview"), {"range": "7d"})
    assert response.status_code == 200
    chart = response.context["charts"][0]
    assert chart["names"] == ["dev", "prod"]
    assert len(chart["rows"]) == 8
    assert chart["rows"][-1][1] == [80.0, 57.89]  # today: dev 4/5, prod 11/19 (the stopped machine counts)
    body = response.content.decode()
    assert body.count('role="img"') == 2
    assert body.count('<details class="chart-data">') == 2
    assert "<caption>Coverage % per environment (data)</caption>" in body
    assert re.search(r"<svg[^>]+aria-labelledby=\"chart-coverage_pct-title chart-coverage_pct-desc\"", body)
    assert "synthetic demo history" in body
    rows = {row["environment"]: row for row in response.context["week_over_week"]}
    assert rows["prod"]["now"]["coverage_pct"] == 57.89 and rows["prod"]["before"] is not None


@pytest.mark.parametrize(
    "params",
    [{"range": "bogus"}, {"range": "custom", "from": "2026-02-01", "to": "2026-01-01"}, {"range": "custom"}],
)
def test_bad_trend_ranges_are_400(client, tenant_a, fleet_a, params):
    client.force_login(tenant_a.users["viewer"])
    response = client.get(reverse("drift:overview"), params)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_custom_range_and_13_months(client, tenant_a, fleet_a):
    load({"organization": tenant_a.organization})
    client.force_login(tenant_a.users["viewer"])
    today = timezone.now().date()
    start = (today - datetime.timedelta(days=3)).isoformat()
    response = client.get(reverse("drift:overview"), {"range": "custom", "from": start, "to": today.isoformat()})
    assert len(response.context["charts"][0]["rows"]) == 4
    response = client.get(reverse("drift:overview"), {"range": "13m"})
    assert response.context["selected"].interval == "week"
    assert 13 <= len(response.context["charts"][0]["rows"]) <= 15


def test_remediated_compares_with_the_snapshot_a_week_ago(tenant_a, fleet_a):
    org, v2 = tenant_a.organization, fleet_a["versions"][1]
    drift_snapshot_write(organization=org, trigger="manual")
    Asset.objects.filter(instance_id__in=["i-alpha-00000", "i-alpha-00001"]).update(image_version=v2)
    later = drift_evaluate(org, at=timezone.now() + datetime.timedelta(days=8))
    changes = week_changes(tenant_a.users["viewer"], org, later, outdated_now=6)
    assert (changes.outdated_week_ago, changes.remediated, changes.new_drift) == (8, 2, 0)
