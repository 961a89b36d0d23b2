"""End to end in headless Chromium: log in, drill from a red heatmap cell to an outdated asset, watch a scan's
progress update live, check accessibility with axe-core, and take screenshots at desktop and phone width."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.inventory.models import ScanRun
from tests.browser.conftest import AXE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def serious_violations(page) -> list[str]:
    page.evaluate(AXE.read_text())  # through the DevTools protocol: an injected <script> would meet the page's CSP
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_red_cell_to_outdated_asset_in_three_clicks(page, live_server, tenant_a, fleet, screenshots):
    log_in(page, live_server, tenant_a.users["viewer"])
    page.screenshot(path=str(screenshots / "dashboard-desktop.png"), full_page=True)
    red = page.locator("td.heat-red a.heat-link")
    expect(red).to_have_count(1)
    why = page.locator("td.heat-red a.heat-why")  # the cell's own "Why?" (issue #16), beside its figures
    expect(why).to_have_count(1)
    expect(why).to_have_attribute("href", re.compile(r"/insights/\?.+"))
    expect(red).to_contain_text("Red")
    expect(red).to_contain_text("22.2%")  # 2 of 9: the stopped machine on an old image counts
    red.click()  # click 1
    expect(page).to_have_url(re.compile(r"/assets/\?environment=prod&site=aws-eu&status=outdated$"))
    expect(page.get_by_role("status").first).to_contain_text("7 assets match")
    page.screenshot(path=str(screenshots / "assets-desktop.png"), full_page=True)
    page.locator("table.assets tbody th a").first.click()  # click 2
    expect(page).to_have_url(re.compile(r"/assets/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Outdated")
    expect(page.locator(".summary").first).to_contain_text("ubuntu-2204-base@1.1.0")
    page.screenshot(path=str(screenshots / "asset-desktop.png"), full_page=True)


def test_heatmap_cells_are_keyboard_reachable(page, live_server, tenant_a, fleet):
    log_in(page, live_server, tenant_a.users["viewer"])
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('td.heat') !== null"):
            break
    focused = page.evaluate("document.activeElement.className")
    assert focused == "heat-link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/assets/\?environment="))


def test_scan_progress_updates_without_reload(page, live_server, tenant_a, fleet, screenshots):
    run = ScanRun.objects.create(
        organization=tenant_a.organization,
        connector=fleet["connector"],
        status="running",
        started_at=timezone.now(),
        scopes={key: {"status": "pending", "discovered": 0} for key in ("aws-000/eu", "aws-000/us", "aws-001/eu")},
    )
    log_in(page, live_server, tenant_a.users["operator"])
    panel = page.locator("#scan-panel")
    expect(panel).to_contain_text("0 of 3 scopes")
    page.goto(f"{live_server.url}/scans/{run.pk}/")
    page.evaluate("window.__notReloaded = true")
    text = page.locator("#scan-progress [data-progress-text]")
    expect(text).to_have_text(re.compile(r"^0% · 0 of 3 scopes · 0 machines discovered$"))
    expect(page.locator("#scan-progress progress")).to_have_attribute("value", "0")
    scopes = {**run.scopes, "aws-000/eu": {"status": "succeeded", "discovered": 40}}
    scopes["aws-000/us"] = {"status": "running", "discovered": 12}
    ScanRun.objects.filter(pk=run.pk).update(scopes=scopes)
    expect(text).to_have_text("33% · 1 of 3 scopes · 52 machines discovered", timeout=10_000)
    expect(page.locator("#scan-progress progress")).to_have_attribute("value", "33")
    page.screenshot(path=str(screenshots / "scan-progress-desktop.png"), full_page=True)
    done = {key: {"status": "succeeded", "discovered": 40} for key in scopes}
    ScanRun.objects.filter(pk=run.pk).update(
        scopes=done, status="succeeded", discovered=120, finished_at=timezone.now()
    )
    expect(page.locator("#scan-progress")).to_contain_text("Succeeded", timeout=10_000)
    expect(text).to_have_text("100% · 3 of 3 scopes · 120 machines discovered")
    assert page.evaluate("window.__notReloaded") is True
    assert page.locator("#scan-progress").get_attribute("hx-trigger") is None  # polling stopped


@pytest.mark.parametrize("path", ["/", "/drift/", "/assets/?status=outdated"])
def test_no_serious_accessibility_violations(page, live_server, tenant_a, fleet, path):
    log_in(page, live_server, tenant_a.users["viewer"])
    page.goto(f"{live_server.url}{path}")
    assert serious_violations(page) == []
    page.set_viewport_size(PHONE)
    assert serious_violations(page) == []


def test_phone_width_has_no_horizontal_page_scroll(page, live_server, tenant_a, fleet, screenshots):
    page.set_viewport_size(PHONE)
    log_in(page, live_server, tenant_a.users["viewer"])
    for path, name in (
        ("/", "dashboard"),
        ("/drift/", "drift"),
        ("/assets/?status=outdated", "assets"),
        ("/scans/", "scans"),
    ):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"
        page.screenshot(path=str(screenshots / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/drift/")
    page.screenshot(path=str(screenshots / "drift-desktop.png"), full_page=True)
