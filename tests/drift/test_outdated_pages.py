"""Live outdated pages (ADR 021): frozen per generation, keyset cursors, consistent under writes, 410 once retired."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.drift.engine import drift_evaluate, outdated_assets
from apps.drift.models import DriftOutdatedBuild, DriftOutdatedEntry
from apps.drift.outdated import Cursor
from apps.images.services import image_version_revoke
from qlrf.cache_generation import generation_bump
from tests.conftest import client_for
from tests.portal.fleet import add_assets, build_fleet

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(tenant_a):
    """8 outdated machines of the portal fleet (one stopped) and 15 more in prod × aws-eu: 23 outdated."""
    built = build_fleet(tenant_a, "a")
    add_assets(tenant_a, built, 30)
    generation_bump(tenant_a.organization)
    return built


def expected(organization, descending=True, **filters) -> list[str]:
    """The outdated instance ids in the documented order, straight from the engine (no build)."""
    rows = outdated_assets(organization, drift_evaluate(organization)).filter(**filters)
    order = ["outdated_since", "instance_id", "id"] if descending else ["-outdated_since", "instance_id", "id"]
    return list(rows.order_by(*order).values_list("instance_id", flat=True))


def walk(client, params, *, direction="next") -> tuple[list[str], list[dict]]:
    """Follow the links from the first page; return every instance id in order and the pages."""
    url, pages = reverse("drift-outdated"), []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        pages.append(response.json())
        link = pages[-1][direction]
        if not link:
            break
        response = client.get(link)
    return [row["instance_id"] for page in pages for row in page["results"]], pages


def test_cursor_pages_walk_the_whole_list_once_in_the_documented_order(tenant_a, fleet):
    client = client_for(tenant_a.users["viewer"])
    ids, pages = walk(client, {"limit": 5})
    want = expected(tenant_a.organization)
    assert len(want) == 23 and ids == want
    assert [len(p["results"]) for p in pages] == [5, 5, 5, 5, 3]
    assert {p["count"] for p in pages} == {23} and {p["source"] for p in pages} == {"live"}
    assert pages[0]["previous"] is None and "cursor=" in pages[0]["next"]
    stopped = [r for p in pages for r in p["results"] if not r["running"]]
    assert [r["instance_id"] for r in stopped] == ["i-a-00008"]
    first = pages[0]["results"][0]
    assert (first["version"], first["baseline"], first["reason"], first["environment"], first["site"]) == (
        "ubuntu-2204-base@1.0.0",
        "ubuntu-2204-base@1.1.0",
        "behind",
        "prod",
        "aws-eu",
    )
    # back from the last page to the first with the previous links
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(client.get(back[-1]["previous"]).json())
    assert [r["instance_id"] for page in reversed(back) for r in page["results"]] == want
    assert DriftOutdatedBuild.objects.filter(organization=tenant_a.organization).count() == 1  # one build served all


def test_reverse_order_filters_and_offsets_agree_with_the_engine(tenant_a, fleet):
    client = client_for(tenant_a.users["viewer"])
    org = tenant_a.organization
    ids, _ = walk(client, {"limit": 4, "ordering": "days_behind"})
    assert ids == expected(org, descending=False)
    ids, pages = walk(client, {"limit": 4, "site": "aws-us", "env": "prod"})
    assert ids == expected(org, site__slug="aws-us", environment__slug="prod") == ["i-a-00018"]
    assert pages[0]["count"] == 1
    ids, pages = walk(client, {"limit": 6, "site": "aws-eu"})
    assert ids == expected(org, site__slug="aws-eu") and pages[0]["count"] == 22
    for params in ({"limit": 5, "offset": 7}, {"limit": 5, "offset": 7, "site": "aws-eu"}):
        page = client.get(reverse("drift-outdated"), params).json()
        filters = {"site__slug": "aws-eu"} if "site" in params else {}
        assert [r["instance_id"] for r in page["results"]] == expected(org, **filters)[7:12]
        assert page["previous"] and page["next"] and "offset" not in page["next"]
    assert client.get(reverse("drift-outdated"), {"offset": 100}).json()["results"] == []


def test_a_write_keeps_old_cursors_consistent_and_the_next_first_page_reflects_it(tenant_a, fleet):
    client = client_for(tenant_a.users["viewer"])
    first = client.get(reverse("drift-outdated"), {"limit": 10}).json()
    before = expected(tenant_a.organization)
    image_version_revoke(actor=None, version=fleet["versions"][1], reason="CVE")  # a write: 1.1.0 outdated too
    after = expected(tenant_a.organization)
    assert len(after) > len(before)
    page, ids = first, [r["instance_id"] for r in first["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        assert page["count"] == 23  # the old list, as it stood on its first page
        ids += [r["instance_id"] for r in page["results"]]
    assert ids == before
    fresh, _ = walk(client, {"limit": 50})
    assert fresh == after
    assert DriftOutdatedBuild.objects.filter(organization=tenant_a.organization).count() == 2


def test_a_retired_list_answers_410_and_bad_cursors_400(tenant_a, fleet):
    client = client_for(tenant_a.users["viewer"])
    url = reverse("drift-outdated")
    first = client.get(url, {"limit": 5}).json()
    old = DriftOutdatedBuild.objects.get()
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    DriftOutdatedBuild.objects.filter(pk=old.pk).update(expires_at=hour_ago, last_used_at=hour_ago)
    generation_bump(tenant_a.organization)
    client.get(url, {"limit": 5})  # the next first page builds anew and retires the idle old list
    assert not DriftOutdatedBuild.objects.filter(pk=old.pk).exists()
    assert not DriftOutdatedEntry.objects.filter(build_id=old.pk).exists()
    gone = client.get(first["next"])
    assert gone.status_code == 410
    assert gone.json()["code"] == "cursor_expired" and gone.json()["errors"][0]["path"] == "/query/cursor"

    current = client.get(url, {"limit": 5}).json()
    cursor = current["next"].split("cursor=")[1]
    for params in (
        {"cursor": "not-a-cursor"},
        {"cursor": "W10"},  # base64 of []
        {"cursor": cursor, "ordering": "days_behind"},  # another ordering
        {"cursor": cursor, "site": "aws-eu"},  # another filter
        {"cursor": cursor, "as_of": timezone.now().date().isoformat()},
    ):
        response = client.get(url, params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "invalid_cursor", params


def test_another_tenant_cannot_page_a_list_with_a_stolen_cursor(tenant_a, tenant_b, fleet):
    page = client_for(tenant_a.users["viewer"]).get(reverse("drift-outdated"), {"limit": 5}).json()
    build_fleet(tenant_b, "b")
    other = client_for(tenant_b.users["viewer"])
    stolen = other.get(page["next"])
    assert stolen.status_code == 410 and "i-a-" not in stolen.content.decode()
    assert other.get(page["next"], {"organization": "alpha"}).status_code == 404
    own, _ = walk(other, {"limit": 5})
    assert own and all(i.startswith("i-b-") for i in own)
    build = DriftOutdatedBuild.objects.get(organization=tenant_a.organization)
    forged = Cursor(build.pk, 0, False, True, ("", "", ""))
    assert other.get(reverse("drift-outdated"), {"cursor": forged.encode()}).status_code == 410


def test_a_page_from_a_build_reads_no_fleet_table(tenant_a, fleet):
    client = client_for(tenant_a.users["viewer"])
    first = client.get(reverse("drift-outdated"), {"limit": 5}).json()
    for link in (first["next"], reverse("drift-outdated") + "?limit=5&offset=15"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(link).status_code == 200
        touched = [q["sql"] for q in queries if '"inventory_' in q["sql"] or '"images_' in q["sql"]]
        assert touched == []
        assert len([q for q in queries if '"drift_driftoutdated' in q["sql"]]) <= 2


def test_a_list_being_paged_outlives_its_lifetime_and_storage_stays_bounded(tenant_a, fleet, monkeypatch):
    from apps.drift import outdated

    client = client_for(tenant_a.users["viewer"])
    url = reverse("drift-outdated")
    first = client.get(url, {"limit": 5}).json()
    paged = DriftOutdatedBuild.objects.get()
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    DriftOutdatedBuild.objects.filter(pk=paged.pk).update(expires_at=hour_ago, last_used_at=hour_ago)
    second = client.get(first["next"])  # a reader still pages it: it is touched…
    assert second.status_code == 200
    generation_bump(tenant_a.organization)
    client.get(url)  # …so the new build does not retire it
    assert DriftOutdatedBuild.objects.filter(pk=paged.pk).exists()
    assert client.get(second.json()["next"]).status_code == 200

    monkeypatch.setattr(outdated, "MAX_BUILDS", 3)
    for _ in range(4):  # writes faster than readers: at most MAX_BUILDS builds stay, the newest
        generation_bump(tenant_a.organization)
        client.get(url)
    kept = list(DriftOutdatedBuild.objects.order_by("id").values_list("id", flat=True))
    assert len(kept) == 3 and paged.pk not in kept
    assert DriftOutdatedEntry.objects.exclude(build_id__in=kept).count() == 0
    assert client.get(first["next"]).status_code == 410


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the advisory lock is PostgreSQL's")
def test_concurrent_misses_make_one_build(tenant_a):
    import threading

    from apps.drift.outdated import outdated_build_current

    build_fleet(tenant_a, "a")
    generation_bump(tenant_a.organization)
    barrier, built, errors = threading.Barrier(4), [], []

    def read():
        try:
            barrier.wait(10)
            built.append(outdated_build_current(tenant_a.organization).pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(built) == 4 and len(set(built)) == 1
    assert DriftOutdatedBuild.objects.filter(organization=tenant_a.organization).count() == 1
