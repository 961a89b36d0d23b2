"""Browser tests: Playwright (pytest-playwright) driving Debian's Chromium against Django's live server."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.portal.fleet import build_fleet

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


@pytest.fixture(scope="module")
def playwright(django_db_setup, _pw_api_request_contexts):
    """pytest-playwright's Playwright, but per module, with the test database set up before its event loop starts.

    Playwright's sync API runs an event loop in the test thread, and Django refuses ORM calls while one runs unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set. Both live exactly as long as this module's tests: other tests of the same
    xdist worker (such as the ``check --deploy`` subprocess, which rightly refuses the variable) never see either.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        driver = sync_playwright().start()
        if _pw_api_request_contexts:
            _pw_api_request_contexts.instrument(driver)
        yield driver
        driver.stop()


@pytest.fixture(scope="module")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def browser(browser_type, browser_type_launch_args):
    """Debian's Chromium for this module's tests."""
    launched = browser_type.launch(**browser_type_launch_args)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's Chromium, never a downloaded browser (``playwright install`` is not used)."""
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--headless=new",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="module")
def browser_context_args():
    """Desktop size by default (pytest-playwright's own version needs the session-wide Playwright for devices)."""
    return {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def fleet(tenant_a):
    """The portal tests' fleet in tenant Alpha (a red cell, outdated machines, a connector)."""
    return build_fleet(tenant_a, "alpha")


def log_in(page, live_server, user):
    """Log in through the portal's own form (password "pw", as the tenant factory sets it)."""
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alpha")
