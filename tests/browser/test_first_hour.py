"""The first hour on the demo (#19), in headless Chromium: log in as the README says, see a red cell on the dashboard,
drill to an outdated machine, open the image it runs, and read that image's SBOM changes and signature."""

import re

import pytest
from playwright.sync_api import expect

from qlrf.demo import demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_first_hour_from_a_red_cell_to_an_images_sbom_diff_and_signature(page, live_server, screenshots):
    demo_load()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password").fill("viewer-demo-pass")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Corp")

    red = page.locator("td.heat-red a.heat-link")
    expect(red.first).to_be_visible()
    assert red.count() >= 1
    page.screenshot(path=str(screenshots / "first-hour-dashboard.png"), full_page=True)
    red.first.click()
    expect(page).to_have_url(re.compile(r"/assets/\?.*status=outdated"))

    # an outdated machine on the Ubuntu base image one release behind: months behind, not days
    row = page.locator("table.assets tbody tr", has_text="ubuntu-2204-base@1.2.0").first
    expect(row).to_be_visible()
    days = int(row.locator("td.num").inner_text())
    assert days >= 1
    row.locator("th a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Outdated")
    page.get_by_role("link", name="ubuntu-2204-base@1.2.0").first.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("1.2.0")
    changes = page.locator("table.sbom-diff")
    expect(page.get_by_role("heading", name=re.compile("Changes since 1.1.0"))).to_be_visible()
    busybox = changes.get_by_role("row", name=re.compile(r"^busybox changed"))
    expect(busybox).to_contain_text("1.35.0-r17")
    expect(busybox).to_contain_text("1.36.1-r2")
    signature = page.locator("section[aria-labelledby='signature-heading']")
    expect(signature).to_contain_text("Failed")  # a real Sigstore bundle over another artifact
    page.screenshot(path=str(screenshots / "first-hour-version.png"), full_page=True)

    # and a signed one: the Kubernetes node built on the current base
    page.goto(f"{live_server.url}/images/")
    page.get_by_role("link", name=re.compile(r"2\.2\.0")).first.click()
    expect(page.locator("section[aria-labelledby='signature-heading']")).to_contain_text("Verified")
