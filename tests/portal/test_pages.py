"""Portal pages: status, the one door (tenant isolation), the status filter, heatmap RAG, bounded query counts."""

import re

import pytest
from django.urls import reverse

from apps.inventory.models import Asset, ScanRun
from tests.portal.fleet import add_assets

pytestmark = pytest.mark.django_db

PAGES = ["portal:dashboard", "drift:overview", "drift:sites", "inventory:asset-list", "inventory:scan-list"]


def _names(response) -> list[str]:
    return sorted(asset.name for asset in response.context["page"].object_list)


@pytest.mark.parametrize("name", PAGES)
def test_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["viewer", "operator", "engineer", "admin"])
def test_every_page_renders_for_every_role(client, tenant_a, fleet_a, role):
    client.force_login(tenant_a.users[role])
    asset = Asset.objects.get(instance_id="i-alpha-00000")
    run = fleet_a["run"]
    urls = [reverse(name) for name in PAGES] + [
        reverse("inventory:asset-detail", args=[asset.pk]),
        reverse("inventory:scan-detail", args=[run.pk]),
        reverse("inventory:scan-progress", args=[run.pk]),
        reverse("inventory:scan-panel"),
        reverse("drift:snapshot-status"),
        reverse("images:catalogue"),
    ]
    assert [client.get(url).status_code for url in urls] == [200] * len(urls)


def test_other_tenants_objects_are_404(client, tenant_a, fleet_a, tenant_b, fleet_b):
    client.force_login(tenant_a.users["admin"])
    theirs = Asset.objects.get(instance_id="i-bravo-00000")
    run = fleet_b["run"]
    assert client.get(reverse("inventory:asset-detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("inventory:scan-detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("inventory:scan-progress", args=[run.pk])).status_code == 404
    assert client.get(reverse("inventory:asset-detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_other_tenants_data_never_shows(client, tenant_a, fleet_a, tenant_b, fleet_b, name):
    client.force_login(tenant_a.users["viewer"])
    for params in ({}, {"org": "bravo"}):
        body = client.get(reverse(name), params).content.decode()
        assert "bravo" not in body.lower()
        assert "alpha" in body.lower()


def test_asset_list_counts_and_paging(client, tenant_a, fleet_a):
    add_assets(tenant_a, fleet_a, 60)
    client.force_login(tenant_a.users["viewer"])
    response = client.get(reverse("inventory:asset-list"))
    assert response.context["page"].paginator.count == 25 + 60
    assert len(response.context["page"].object_list) == 50
    second = client.get(reverse("inventory:asset-list"), {"page": 2})
    assert len(second.context["page"].object_list) == 35


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("outdated", [f"alpha-{n:05d}" for n in (0, 1, 2, 3, 4, 5, 8, 18)]),  # 8 is stopped: outdated all the same
        ("unmanaged", ["alpha-00023"]),
        ("stale", ["alpha-00024"]),
        ("not_running", ["alpha-00008"]),
        ("compliant", [f"alpha-{n:05d}" for n in (6, 7, *range(9, 18), 19, 20, 21, 22)]),
    ],
)
def test_status_filter(client, tenant_a, fleet_a, status, expected):
    client.force_login(tenant_a.users["viewer"])
    response = client.get(reverse("inventory:asset-list"), {"status": status})
    assert response.status_code == 200
    assert _names(response) == expected


def test_status_filter_combines_with_cell_filters(client, tenant_a, fleet_a):
    client.force_login(tenant_a.users["viewer"])
    response = client.get(
        reverse("inventory:asset-list"), {"status": "outdated", "environment": "prod", "site": "aws-us"}
    )
    assert _names(response) == ["alpha-00018"]
    row = response.context["page"].object_list[0]
    assert (row.baseline, row.days_behind, row.drift_status) == ("ubuntu-2204-base@1.1.0", 0, "outdated")


def test_bad_filters_are_a_400_with_the_reason(client, tenant_a, fleet_a):
    client.force_login(tenant_a.users["viewer"])
    response = client.get(reverse("inventory:asset-list"), {"status": "lost", "sort": "colour"})
    assert response.status_code == 400
    assert set(response.context["filter_errors"]) == {"status", "sort"}
    assert "unknown status" in response.content.decode()


def test_sort_by_days_and_status(client, tenant_a, fleet_a):
    client.force_login(tenant_a.users["viewer"])
    response = client.get(reverse("inventory:asset-list"), {"sort": "-status"})
    statuses = [a.drift_status for a in response.context["page"].object_list]
    assert statuses == sorted(statuses, reverse=True)
    response = client.get(reverse("inventory:asset-list"), {"sort": "-days"})
    first = list(response.context["page"].object_list)[:7]
    assert all(a.drift_status == "outdated" for a in first)


def test_asset_list_query_count_is_constant(client, tenant_a, fleet_a, django_assert_max_num_queries):
    client.force_login(tenant_a.users["viewer"])
    add_assets(tenant_a, fleet_a, 1000)
    with django_assert_max_num_queries(20) as captured:
        response = client.get(reverse("inventory:asset-list"), {"sort": "-days"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
    large = len(captured.captured_queries)
    with django_assert_max_num_queries(large):
        client.get(reverse("inventory:asset-list"), {"status": "outdated", "environment": "prod"})


def test_dashboard_figures(client, tenant_a, fleet_a):
    client.force_login(tenant_a.users["viewer"])
    response = client.get(reverse("portal:dashboard"))
    total = response.context["report"].total
    assert (total.outdated_count, total.unmanaged_count, total.stale_count, total.compliant_assets) == (8, 1, 1, 15)
    changes = response.context["changes"]
    assert (changes.new_drift, changes.week_ago, len(changes.promotions), changes.revocations) == (8, None, 3, [])
    body = response.content.decode()
    assert "no snapshot a week ago" in body
    assert "fleet-alpha" in body and "Succeeded" in body


def test_heatmap_cells_have_rag_text_icon_and_drilldown(client, tenant_a, fleet_a):
    client.force_login(tenant_a.users["viewer"])
    response = client.get(reverse("portal:dashboard"))
    grid = {(row[0], cell.column): cell for row, cells in response.context["heatmap"].grid for cell in cells}
    assert {key: (cell.rag, cell.coverage) for key, cell in grid.items()} == {
        ("aws-eu", "dev"): ("amber", 80.0),
        ("aws-eu", "prod"): ("red", 22.22),  # 2 of 9: the stopped machine on an old image counts
        ("aws-us", "dev"): (None, None),
        ("aws-us", "prod"): ("green", 90.0),
    }
    body = response.content.decode()
    red = re.search(r'<td class="heat heat-red">(.*?)</td>', body, re.S).group(1)
    assert 'href="/assets/?environment=prod&amp;site=aws-eu&amp;status=outdated"' in red
    assert 'class="rag-icon"' in red and "Red" in red and "22.2" in red and "7 outdated of 9" in red
    amber = re.search(r'<td class="heat heat-amber">(.*?)</td>', body, re.S).group(1)
    assert 'class="rag-icon"' in amber and "Amber" in amber
    green = re.search(r'<td class="heat heat-green">(.*?)</td>', body, re.S).group(1)
    assert 'class="rag-icon"' in green and "Green" in green
    assert "No machines" in body


def test_heatmap_uses_the_organisations_thresholds(client, tenant_a, fleet_a):
    org = tenant_a.organization
    org.rag_red_below, org.rag_amber_below = 20, 95
    org.save()
    client.force_login(tenant_a.users["viewer"])
    grid = client.get(reverse("drift:overview")).context["heatmaps"][0].grid
    rags = {(row[0], cell.column): cell.rag for row, cells in grid for cell in cells}
    assert rags[("aws-eu", "prod")] == "amber" and rags[("aws-us", "prod")] == "amber"


def test_asset_detail_shows_graph_badges_status_and_drift(client, tenant_a, fleet_a):
    client.force_login(tenant_a.users["viewer"])
    asset = Asset.objects.get(instance_id="i-alpha-00000")
    response = client.get(reverse("inventory:asset-detail", args=[asset.pk]))
    assert response.context["status_label"] == "Outdated"
    assert response.context["baseline"] == "ubuntu-2204-base@1.1.0"
    assert response.context["days_behind"] == 0
    assert [badge.key for badge in response.context["badges"]] == ["cis", "slsa", "signed", "sbom", "vulnerabilities"]
    assert response.context["graph"]["image_version"] == "ubuntu-2204-base@1.0.0"


def test_scan_progress_fragment_polls_only_while_active(client, tenant_a, fleet_a):
    client.force_login(tenant_a.users["viewer"])
    run = ScanRun.objects.create(
        organization=tenant_a.organization,
        connector=fleet_a["connector"],
        status="running",
        scopes={"a": {"status": "succeeded", "discovered": 5}, "b": {"status": "running", "discovered": 2}},
    )
    body = client.get(reverse("inventory:scan-progress", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in body
    assert '<progress max="100" value="50"' in body
    assert "50% · 1 of 2 scopes · 7 machines discovered" in body
    panel = client.get(reverse("inventory:scan-panel")).content.decode()
    assert 'hx-trigger="every 2s"' in panel and "1 of 2 scopes" in panel
    ScanRun.objects.filter(pk=run.pk).update(status="succeeded", discovered=7)
    body = client.get(reverse("inventory:scan-progress", args=[run.pk])).content.decode()
    assert "hx-trigger" not in body and "Succeeded" in body


def test_pages_are_accessible_markup(client, tenant_a, fleet_a):
    client.force_login(tenant_a.users["viewer"])
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert '<html lang="en">' in body
    assert 'class="skip-link" href="#main"' in body and '<main id="main"' in body
    assert '<nav class="sidebar" aria-label="Main">' in body and 'aria-current="page"' in body
    assert "<caption" in body and 'scope="col"' in body and 'scope="row"' in body
    assert "/static/vendor/htmx.min.js" in body and "unpkg" not in body and "cdn" not in body.lower()


@pytest.mark.parametrize("name", ["portal:dashboard", "drift:overview", "drift:sites", "inventory:scan-list"])
def test_page_query_counts_do_not_grow_with_the_fleet(client, tenant_a, fleet_a, name, django_assert_max_num_queries):
    client.force_login(tenant_a.users["viewer"])
    with django_assert_max_num_queries(60) as small:
        client.get(reverse(name))
    add_assets(tenant_a, fleet_a, 1000)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse(name)).status_code == 200
