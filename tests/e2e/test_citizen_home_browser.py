"""The citizen dashboard in a real browser, at phone and desktop width (screenshots for a person to look at)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_browser import open_page, shot, sign_in  # noqa: F401 - open_page is a fixture
from tests.panel.test_citizen_home import _other_panel, _own_panel

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("name, width, height", [("phone", 390, 844), ("desktop", 1280, 900)])
def test_citizen_dashboard_renders(live_server, open_page, db, users, name, width, height):  # noqa: F811
    _other_panel(db, users)
    room, later, voted, todo, draft, rec = _own_panel(db, users)
    page: Any = open_page(width=width, height=height)
    sign_in(page, live_server, users["citizen"])
    join = page.get_by_role("link", name="Join the room").first
    assert join.is_visible()
    assert page.get_by_role("link", name="Vote", exact=True).is_visible()
    assert page.get_by_text("you have voted").is_visible()
    assert page.get_by_role("link", name=rec.title).is_visible()
    assert page.get_by_text("Other panel").count() == 0
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, f"citizen-dashboard-{name}")
    join.click()
    page.wait_for_url(f"{live_server}/rooms/{room.id}")


def test_citizen_dashboard_empty_states(live_server, open_page, users):  # noqa: F811
    page: Any = open_page(width=390, height=844)
    sign_in(page, live_server, users["citizen"])
    assert page.get_by_text("No session is open right now").is_visible()
    assert page.get_by_text("No vote is open").is_visible()
    shot(page, "citizen-dashboard-empty-phone")
