"""The Content-Security-Policy holds on real pages: no page of the portal, the admin or the API docs breaks under it.

Chromium reports every blocked script, style or image on the console ("Refused to … because it violates the
following Content Security Policy directive"); each page below must load with none, and still work.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    return seen


@pytest.mark.parametrize("path", ["/", "/drift/", "/assets/?status=outdated", "/images/"])
def test_portal_pages_load_under_the_policy(page, live_server, tenant_a, fleet, path):
    violations = _violations(page)
    log_in(page, live_server, tenant_a.users["viewer"])
    response = page.goto(f"{live_server.url}{path}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_admin_change_form_works_under_the_policy(page, live_server, tenant_a, fleet):
    admin = tenant_a.users["admin"]
    admin.is_staff = True
    admin.save()
    violations = _violations(page)
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/tenancy/environment/add/")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#environment_form")).to_be_visible()
    assert violations == []


def test_swagger_ui_renders_the_schema_under_the_policy(page, live_server, tenant_a, fleet, settings):
    settings.QLRF_API_DOCS_PUBLIC = True
    violations = _violations(page)
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .information-container")).to_contain_text("Resilience Fabric API", timeout=20_000)
    expect(page.locator(".opblock-tag").first).to_be_visible()
    assert violations == []
