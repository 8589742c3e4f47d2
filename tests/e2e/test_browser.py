"""The foundation in a real browser: sign-in, every role's dashboard, panel, users, errors, Arabic.

Screenshots go to test-output/screenshots/ so a person can look at every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from panel.services import accounts
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
ROLES = ["admin", "organizer", "facilitator", "citizen", "mission", "observer"]


@pytest.fixture
def open_page(browser: Any):
    """A fresh browser context (own cookies) per call; console messages collected for CSP checks."""
    contexts: list[Any] = []
    console: list[str] = []

    def make(width: int = 1200, height: int = 800, locale: str = "en-GB") -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        return page

    make.console = console  # type: ignore[attr-defined]
    yield make
    for ctx in contexts:
        ctx.close()
    refused = [m for m in console if "Content Security Policy" in m or "Refused" in m or "pageerror" in m]
    assert not refused, refused


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, live: str, user: Any) -> None:
    if user.role in ("citizen", "mission"):
        from panel.extensions import db

        token = accounts.issue_magic_link(db.session, user)
        page.goto(f"{live}/auth/link/{token}")
        page.get_by_role("button", name="Continue").click()
    else:
        page.goto(f"{live}/auth/signin")
        page.fill("#email", user.email)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live}/dashboard")


def test_facilitator_signs_in_and_sees_the_dashboard(live_server, open_page, users):
    page = open_page()
    page.goto(f"{live_server}/auth/signin")
    shot(page, "signin")
    page.fill("#email", users["facilitator"].email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == f"Hello, {users['facilitator'].name}"
    assert page.get_by_role("link", name="Test panel").is_visible()


def test_wrong_password_shows_the_error_in_place(live_server, open_page, users):
    page = open_page(390, 844)  # a phone
    page.goto(f"{live_server}/auth/signin")
    page.fill("#email", users["organizer"].email)
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert "Email or password is not correct." in alert.inner_text()
    assert page.locator("#email").input_value() == users["organizer"].email
    shot(page, "signin-error-phone")


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_of_each_role(live_server, open_page, users, role):
    page = open_page()
    sign_in(page, live_server, users[role])
    assert users[role].name in page.inner_text("main")
    shot(page, f"dashboard-{role}")


def test_panel_detail_users_admin_and_error_page(live_server, open_page, users):
    page = open_page()
    sign_in(page, live_server, users["admin"])
    page.get_by_role("link", name="Test panel").first.click()
    page.wait_for_url(f"{live_server}/panels/{users['panel'].id}")
    assert "What should we do?" in page.inner_text("main")
    shot(page, "panel-detail")
    page.goto(f"{live_server}/users")
    assert users["observer"].email in page.inner_text("main")
    shot(page, "users-admin")
    page.goto(f"{live_server}/users/{users['citizen'].id}")
    page.get_by_role("button", name="Create personal sign-in link").click()
    assert "/auth/link/" in page.locator("input[readonly]").input_value()
    shot(page, "user-edit-link")
    resp = page.goto(f"{live_server}/no/such/page")
    assert resp is not None and resp.status == 404
    assert "Check the address" in page.inner_text("main")
    shot(page, "error-404")


def test_forbidden_page_in_the_browser(live_server, open_page, users):
    page = open_page()
    sign_in(page, live_server, users["citizen"])
    resp = page.goto(f"{live_server}/users")
    assert resp is not None and resp.status == 403
    shot(page, "error-403")


def test_arabic_dashboard_is_right_to_left(live_server, open_page, users):
    page = open_page(locale="ar")
    sign_in(page, live_server, users["facilitator"])
    page.goto(f"{live_server}/dashboard?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    # Right-to-left for real: the brand sits at the right edge of the top bar.
    brand = page.locator(".brand").bounding_box()
    assert brand is not None and brand["x"] > 600
    shot(page, "dashboard-ar-rtl")


def test_language_switch_in_the_footer(live_server, open_page, users):
    page = open_page()
    sign_in(page, live_server, users["citizen"])
    page.get_by_role("button", name="Français").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
