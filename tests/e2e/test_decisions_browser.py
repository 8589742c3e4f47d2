"""Decide in a real browser: a citizen votes and changes a secret ballot; the results page renders its SVG
charts under the Content-Security-Policy. Screenshots go to test-output/screenshots/decisions-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from panel.services import ballots, polls
from tests.e2e.test_browser import open_page, shot, sign_in  # noqa: F401  (open_page is a fixture)
from tests.panel.decision_helpers import add_citizen, add_features, make_poll

pytestmark = pytest.mark.browser


def test_citizen_votes_and_changes_a_secret_ballot(live_server, open_page, db, users):  # noqa: F811
    poll = make_poll(db.session, users["organizer"], users["panel"])
    page = open_page()
    sign_in(page, live_server, users["citizen"])
    page.goto(f"{live_server}/polls/{poll.id}")
    page.fill("#c0", "2")
    page.fill("#c1", "1")
    page.get_by_role("button", name="Cast my ballot").click()
    code = page.locator(".receipt-code").inner_text().strip()
    assert len(code.replace("-", "")) == 24
    shot(page, "decisions-receipt")
    page.fill("#c0", "1")
    page.fill("#c1", "")
    page.get_by_role("button", name="Change my ballot").click()
    assert "receipt code" in page.get_by_role("alert").inner_text()
    page.fill("#receipt", code)
    page.get_by_role("button", name="Change my ballot").click()
    assert "Your ballot was changed" in page.inner_text("main")
    assert polls.ballot_count(db.session, poll.id) == 1


def test_results_page_in_the_browser(live_server, open_page, db, users):  # noqa: F811
    add_features(db.session, users["panel"])
    poll = make_poll(db.session, users["organizer"], users["panel"], ballot_type="approval", method="approval")
    receipts: list[Any] = []
    for i in range(12):
        region = ["Africa", "Asia", "Europe"][i % 3]
        voter = add_citizen(db.session, users["panel"], {"region": region})
        receipts.append(ballots.cast(db.session, voter, poll.id,
                                     {"approve": ["water", "clinics"] if i % 3 else ["schools"]}).receipt)
    polls.close_poll(db.session, users["organizer"], poll.id)
    polls.publish(db.session, users["organizer"], poll.id)
    page = open_page()
    page.goto(f"{live_server}/polls/{poll.id}/results")  # public once published
    assert page.locator("svg.chart").count() >= 4
    page.fill("#receipt", receipts[0])
    page.get_by_role("button", name="Check my ballot").click()
    assert "Your ballot is in the list" in page.inner_text("main")
    shot(page, "decisions-results")
    phone = open_page(390, 844)
    phone.goto(f"{live_server}/polls/{poll.id}/results")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page scrolls sideways on a phone ({width}px)"
    shot(phone, "decisions-results-phone")
