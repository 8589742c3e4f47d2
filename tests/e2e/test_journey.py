"""The whole journey in one real browser session (issue 7, section 8).

An organizer creates a panel and uploads a pool → runs the lottery (background job, progress page) →
a citizen accepts the invitation from the e-mail → a facilitator opens a room, the citizen joins it
and posts (Socket.IO) → the citizen proposes, the facilitator puts it to a vote, the citizen votes,
the facilitator counts and publishes → the proposal becomes a recommendation that the citizen signs
off and the facilitator publishes and delivers → a mission's desk officer answers → the public
dashboard shows the answer.

Every step goes through the pages in Chromium as the user who does it, signing in as that role does
(password for staff, the e-mailed link for citizens and missions). The server is the production
stack in its own process (``python -m deliberation serve``: HTTP + Socket.IO, background job worker).
Screenshots: test-output/journey/NN-step.png.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from panel.models import Mission, OutboxMessage
from panel.models.base import utcnow
from panel.services import missions, panels
from tests.deliberation.conftest import Server
from tests.helpers import PASSWORD
from tests.panel.lottery_fixtures import people_csv

pytestmark = pytest.mark.browser
OUT = Path(__file__).resolve().parents[2] / "test-output" / "journey"
# 8 seats from 40 volunteers, two features.
CATEGORIES = "feature,value,min,max\ngender,female,3,5\ngender,male,3,5\nage,young,2,6\nage,old,2,6\n"


class Shots:
    def __init__(self) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("*.png"):
            old.unlink()
        self.n = 0
        self.t0 = time.monotonic()

    def __call__(self, page: Any, name: str) -> None:
        self.n += 1
        print(f"{time.monotonic() - self.t0:6.1f}s {self.n:02d}-{name}")
        page.screenshot(path=str(OUT / f"{self.n:02d}-{name}.png"), full_page=True)


@pytest.fixture
def server(database_url: str) -> Any:
    s = Server(database_url)
    yield s
    s.stop()


def _latest(db: Any, stmt: Any) -> Any:
    db.session.rollback()  # see the server's commits
    return db.session.execute(stmt).scalars().first()


def test_the_whole_journey(server, browser, db, users):
    live = server.url
    shot = Shots()
    console: list[str] = []

    def new_page(width: int = 1200, height: int = 900) -> Any:
        page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.set_default_timeout(20_000)
        return page

    def sign_in(page: Any, user: Any) -> None:
        page.goto(f"{live}/auth/signin")
        page.fill("#email", user.email)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live}/dashboard")

    # The 193 missions come from a data file loaded by `flask missions seed` (a CLI step, no page).
    missions.seed_missions(db.session)
    db.session.commit()

    # 1. The organizer opens a panel.
    org = new_page()
    sign_in(org, users["organizer"])
    org.goto(f"{live}/panels/new")
    org.fill("#title", "Citizens' panel on digital public goods")
    org.fill("#question", "How should member states open their public data to citizens?")
    org.fill("#size", "8")
    org.fill("#languages", "en, fr")
    shot(org, "organizer-new-panel")
    org.click("main button.primary")
    assert "Panel created" in org.inner_text(".flash")
    panel_id = int(re.search(r"/panels/(\d+)$", org.url).group(1))
    shot(org, "panel-created")

    # 2. ... uploads the volunteer pool and quotas; the feasibility check passes.
    org.click("text=Pool and quotas")
    org.set_input_files("#people", {"name": "people.csv", "mimeType": "text/csv",
                                    "buffer": people_csv(40).encode()})
    org.set_input_files("#categories", {"name": "categories.csv", "mimeType": "text/csv",
                                        "buffer": CATEGORIES.encode()})
    org.click("form[enctype] button.primary")
    assert org.locator("#feasibility.ok").is_visible()
    shot(org, "pool-feasible")

    # 3. ... announces the seed, runs the draw (a background job; the progress page follows it),
    #    publishes the transcript and sends the invitations.
    org.goto(f"{live}/panels/{panel_id}/lottery")
    org.fill("#seed", "EuroMillions 2026-11-27: 04 11 23 38 45 / 02 09")
    org.click("button:has-text('Announce seed')")
    org.click("button:has-text('Run the draw')")
    assert "/progress" in org.url
    shot(org, "lottery-progress")
    org.wait_for_url(re.compile(rf"/panels/{panel_id}/lottery$"), timeout=60_000)
    assert org.locator("svg.probability-chart").count() == 2
    shot(org, "lottery-drawn")
    org.click("main form button.primary")  # publish
    assert org.locator("pre.command").is_visible()
    shot(org, "lottery-transcript")
    org.goto(f"{live}/panels/{panel_id}/lottery")
    org.click("main form button.primary")  # invite
    assert org.locator("#invitations tbody tr").count() == 8
    shot(org, "invitations-sent")

    # 4. A selected citizen opens the link from the invitation e-mail and accepts.
    body = _latest(db, select(OutboxMessage.body).where(OutboxMessage.body.contains("/invitation/"))
                   .order_by(OutboxMessage.id))
    token = re.search(r"/invitation/(\S+)", body).group(1)
    cit = new_page(400, 850)  # on a phone
    cit.goto(f"{live}/invitation/{token}")
    shot(cit, "citizen-invitation")
    cit.click("button[value=accept]")
    cit.wait_for_url(f"{live}/dashboard")
    assert "Welcome to the panel" in cit.inner_text(".flash")
    shot(cit, "citizen-accepted")

    # 5. The facilitator opens a room; the citizen joins and posts.
    # No page adds a facilitator to a panel yet (member.manage has no UI): the service does it.
    panels.add_member(db.session, users["organizer"], panel_id, users["facilitator"], "facilitator")
    fac = new_page()
    sign_in(fac, users["facilitator"])
    fac.goto(f"{live}/panels/{panel_id}/rooms")
    fac.fill("#name", "Plenary")
    fac.click("button:has-text('Open room')")
    room_url = fac.url
    assert re.search(r"/rooms/\d+$", room_url)
    cit.click("text=Citizens' panel on digital public goods")  # from the dashboard, as a citizen finds it
    cit.click("text=Deliberation rooms")
    cit.click("main a:has-text('Plenary')")
    assert cit.url == room_url
    cit.wait_for_selector(".conn-online")
    cit.fill("#body", "Open data helps us check what our governments promise.")
    cit.click("#composer button[type=submit]")
    cit.wait_for_selector("#messages .msg")
    fac.goto(room_url + "/console")
    fac.wait_for_selector(".conn-online")
    assert "check what our governments promise" in fac.locator("#messages").inner_text()
    fac.wait_for_selector("#equity-people tr")
    heights = fac.evaluate("Array.from(document.querySelectorAll('#equity-groups svg.bar'), s => s.getBoundingClientRect().height)")
    assert heights and all(h == 10 for h in heights), heights  # every share has a visible bar
    assert fac.evaluate("document.documentElement.scrollWidth") <= 1200, "the console scrolls sideways"
    shot(cit, "citizen-room-post")
    shot(fac, "facilitator-console")

    # 6. The citizen proposes; the facilitator puts it to a yes/no vote; the citizen votes.
    cit.goto(f"{live}/panels/{panel_id}/proposals/new")
    cit.fill("#title", "Open data by default")
    cit.fill("#body", "Every member state publishes its public data openly, with a yearly citizens' scorecard.")
    cit.click("button:has-text('Save proposal')")
    cit.wait_for_url(re.compile(r"/proposals/\d+$"))
    proposal_url = cit.url
    shot(cit, "citizen-proposal")
    fac.goto(proposal_url)
    fac.click("button[name=status][value=open]")
    fac.click("text=Put this proposal to a vote")
    fac.fill("#title", "Adopt: open data by default")
    fac.check("input[name=ballot_type][value=yesno]")
    shot(fac, "facilitator-new-poll")
    fac.click("button:has-text('Create poll')")
    fac.wait_for_url(re.compile(r"/polls/\d+$"))
    poll_url = fac.url
    fac.click("button:has-text('Open for voting')")
    fac.wait_for_selector("button:has-text('Close voting now')")
    cit.goto(poll_url)
    cit.check("input[name=choice][value=yes]")
    cit.click("button:has-text('Cast my ballot')")
    assert "receipt" in cit.inner_text("main").lower()
    shot(cit, "citizen-voted")
    fac.goto(poll_url)
    fac.click("button:has-text('Close voting now')")
    fac.click("button:has-text('Count and publish')")
    fac.goto(poll_url + "/results")
    assert "Adopted" in fac.inner_text("main")
    shot(fac, "poll-results")
    fac.goto(proposal_url)
    fac.click("button[name=status][value=adopted]")
    assert "Status changed" in fac.inner_text(".flash")
    shot(fac, "proposal-adopted")

    # 7. The adopted proposal becomes a recommendation; the citizen signs it off; it is published
    #    and delivered to the Kenyan mission, whose desk officer the organizer invited.
    org.goto(f"{live}/missions?region=African States")
    ken = _latest(db, select(Mission).where(Mission.country_code == "KEN"))
    org.click(f"#mission-{ken.id} summary")
    org.fill(f"#name-{ken.id}", "Desk officer Kenya")
    org.fill(f"#email-{ken.id}", "desk@kenya.example")
    org.click(f"#mission-{ken.id} button:has-text('Send personal link')")
    mission_link = re.search(r"/auth/link/\S+", org.inner_text("main")).group(0)
    shot(org, "mission-officer-invited")

    fac.goto(f"{live}/panels/{panel_id}/recommendations")
    fac.select_option("#proposal_id", label="Open data by default (adopted)")
    fac.click("form:has(#proposal_id) button:has-text('Create draft')")
    fac.wait_for_url(re.compile(r"/recommendations/\d+$"))
    rec_url = fac.url
    assert "100%" in fac.inner_text("main")  # the poll's support figures came along
    shot(fac, "recommendation-draft")
    fac.click("button:has-text('Send to the panel for sign-off')")
    assert "sign-off" in fac.inner_text(".flash")
    cit.goto(rec_url)
    cit.click("button:has-text('sign it off')")
    assert "sign-off" in cit.inner_text(".flash")
    shot(cit, "citizen-signed-off")
    fac.reload()
    fac.click("button:has-text('Publish version')")
    assert "Published" in fac.inner_text(".flash")
    fac.check("input[name=scope][value=chosen]")
    fac.click("summary:has-text('Choose missions')")
    fac.check(f"input[name=mission_ids][value='{ken.id}']")
    fac.fill("#due_at", (utcnow() + timedelta(days=60)).date().isoformat())
    fac.click("button:has-text('Deliver')")
    assert "Delivered to 1 mission." in fac.inner_text(".flash")
    shot(fac, "recommendation-delivered")

    # 8. The desk officer signs in with the personal link and answers.
    mis = new_page(414, 860)
    mis.goto(live + mission_link)
    mis.click("button:has-text('Continue')")
    mis.goto(f"{live}/inbox")
    shot(mis, "mission-inbox")
    mis.click("a:has-text('Answer')")
    mis.check("input[name=stance][value=accept]")
    mis.fill("#explanation", "Kenya will publish its open data portal scorecard every year from 2027.")
    mis.click("button:has-text('Submit answer')")
    assert "recorded" in mis.inner_text(".flash")
    shot(mis, "mission-answered")

    # 9. Anyone, without signing in, sees the answer on the public dashboard.
    pub = new_page()
    pub.goto(f"{live}/public/")
    assert "Open data by default" in pub.inner_text("main")
    shot(pub, "public-dashboard")
    pub.click("a:has-text('Open data by default')")
    text = pub.inner_text("main")
    assert "Kenya" in text and "accept" in text
    shot(pub, "public-recommendation")

    bad = [m for m in console if "Content Security Policy" in m or "Refused" in m or "pageerror" in m]
    assert not bad, bad
