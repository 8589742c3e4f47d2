"""Follow-up in a real browser: a facilitator publishes and delivers a recommendation, a mission
desk officer signs in by personal link and answers, and the public dashboard shows the answer.
Screenshots of every follow-up page go to test-output/followup-*.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from panel import create_app
from panel.models.base import utcnow
from panel.services import accounts, missions, notifications, recommendations
from tests.conftest import base_config
from tests.helpers import PASSWORD
from tests.panel import followup_helpers as fh

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parents[2] / "test-output"
pytestmark = pytest.mark.browser


@pytest.fixture
def live(database_url: str, users: dict[str, Any]) -> Iterator[str]:
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, SERVER_NAME=None,
                                 RATELIMIT_ENABLED=False))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()



def shot(page: Any, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"followup-{name}.png"), full_page=True)


def no_csp_errors(messages: list[str]) -> None:
    bad = [m for m in messages if "Content Security Policy" in m or "Refused" in m]
    assert not bad, bad


def test_publish_respond_and_public_dashboard(live, browser, db, users):
    missions.seed_missions(db.session)
    rec = fh.draft(db.session, users, support=fh.SUPPORT)
    recommendations.revise(db.session, users["facilitator"], rec.id,
                           text="Every member state publishes a yearly citizens' scorecard on the SDGs.",
                           rationale="People trust what they can check.",
                           minority_opinions="Some prefer a UN-wide index.", evidence="UN75 dialogues report")
    console: list[str] = []

    # 1. The facilitator reviews the wording, publishes, and delivers to one region's missions.
    staff = browser.new_context(viewport={"width": 1200, "height": 900})
    page = staff.new_page()
    page.on("console", lambda m: console.append(m.text))
    page.goto(f"{live}/auth/signin")
    page.fill("#email", users["facilitator"].email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live}/panels/{users['panel'].id}/recommendations")
    shot(page, "01-panel-recommendations")
    page.click(f"text={rec.title}")
    shot(page, "02-recommendation-draft")
    page.click("text=changes from version 1")
    shot(page, "03-diff")
    page.go_back()
    page.click("text=Publish version 2")
    assert "Published" in page.inner_text(".flash")
    page.check("input[name=scope][value=region]")
    page.select_option("select[name=region]", "African States")
    page.fill("#due_at", "2001-01-01")
    page.click("button:has-text('Deliver')")
    assert "in the past" in page.inner_text("[role=alert]")
    shot(page, "04-deliver-error")
    page.check("input[name=scope][value=region]")
    page.select_option("select[name=region]", "African States")
    page.fill("#due_at", (utcnow() + timedelta(days=60)).date().isoformat())
    page.click("button:has-text('Deliver')")
    assert "Delivered to 54 missions" in page.inner_text(".flash")
    shot(page, "05-delivered")

    # 2. The Kenyan desk officer signs in by personal link and answers.
    token = accounts.issue_magic_link(db.session, users["mission"])
    mission = browser.new_context(viewport={"width": 414, "height": 860})  # a phone
    mpage = mission.new_page()
    mpage.on("console", lambda m: console.append(m.text))
    mpage.goto(f"{live}/auth/link/{token}")
    mpage.click("button:has-text('Continue')")
    mpage.goto(f"{live}/inbox")
    shot(mpage, "06-mission-inbox")
    mpage.click("a:has-text('Answer')")
    mpage.check("input[name=stance][value=reject]")
    mpage.click("button:has-text('Submit answer')")
    assert "stated reason" in mpage.inner_text("[role=alert]")
    shot(mpage, "07-answer-needs-explanation")
    mpage.check("input[name=stance][value=partly]")
    mpage.fill("#explanation", "We will pilot a scorecard in three counties before a national roll-out.")
    mpage.fill("#c0_text", "Pilot citizens' scorecard in three counties")
    mpage.fill("input[name=c0_due]", "2027-06-30")
    mpage.click("button:has-text('Submit answer')")
    assert "recorded" in mpage.inner_text(".flash")
    shot(mpage, "08-answer-recorded")

    # 3. Anyone, without signing in, sees the answer on the public dashboard.
    public = browser.new_context(viewport={"width": 1200, "height": 900})
    ppage = public.new_page()
    ppage.on("console", lambda m: console.append(m.text))
    ppage.goto(f"{live}/public/")
    assert rec.title in ppage.inner_text("main")
    shot(ppage, "09-public-dashboard")
    ppage.click(f"a:has-text('{rec.title}')")
    body = ppage.inner_text("main")
    assert "three counties" in body and "partly" in body
    shot(ppage, "10-public-recommendation")
    ppage.select_option("select[name=status]", "partly")
    ppage.click("button:has-text('Filter')")
    assert ppage.locator("tr[id^=mission-]").count() == 1
    shot(ppage, "11-public-filtered")
    ppage.goto(f"{live}/public/missions")
    shot(ppage, "12-public-scorecards")
    ppage.goto(f"{live}/public/missions/KEN")
    assert "answered on time" in ppage.inner_text("main")
    shot(ppage, "13-public-mission")
    ppage.goto(f"{live}/public/panels/{users['panel'].id}/report")
    shot(ppage, "14-report")
    ppage.goto(f"{live}/open-data/")
    shot(ppage, "15-open-data")
    ppage.goto(f"{live}/public/recommendations/{rec.id}?lang=ar&region=African States")
    assert ppage.get_attribute("html", "dir") == "rtl"
    shot(ppage, "15b-public-recommendation-arabic")
    no_csp_errors(console)


def test_staff_pages_render(live, browser, db, users):
    missions.seed_missions(db.session)
    notifications.enqueue_email(db.session, users["mission"], subject="Queued while SMTP is down", body="b")
    db.session.commit()
    notifications.process_due(db.session, notifications.SmtpSender("127.0.0.1", 9, "p@x.org", timeout=1))
    console: list[str] = []
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    page = ctx.new_page()
    page.on("console", lambda m: console.append(m.text))
    page.goto(f"{live}/auth/signin")
    page.fill("#email", users["admin"].email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live}/missions?region=Eastern European States")
    page.click("#mission-" + str(missions.get_by_code(db.session, "UKR").id) + " summary")
    page.fill("input[name=name] >> visible=true", "Desk officer Ukraine")
    page.fill("input[name=email] >> visible=true", "desk@ukraine.example")
    page.click("button:has-text('Send personal link') >> visible=true")
    assert "/auth/link/" in page.inner_text("main")
    shot(page, "16-missions-invited")
    page.goto(f"{live}/outbox")
    assert "ConnectionRefusedError" in page.inner_text("main")
    shot(page, "17-outbox-retry-state")
    page.goto(f"{live}/webhooks")
    page.fill("#url", "not a url")
    page.fill("#secret", "x" * 20)
    page.click("button:has-text('Subscribe')")
    shot(page, "18-webhooks-error")
    no_csp_errors(console)


def test_demo_public_pages(live, browser, db, users):
    from sqlalchemy import select

    from panel import demo
    from panel.demo_followup import DEMO_SLUG
    from panel.models import Panel

    demo.seed(db.session)
    panel = db.session.execute(select(Panel).where(Panel.slug == DEMO_SLUG)).scalar_one()
    console: list[str] = []
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.on("console", lambda m: console.append(m.text))
    page.goto(f"{live}/")
    page.click("text=See who answered the panels")
    assert "Demo" in page.inner_text("main") or "open data" in page.inner_text("main").lower()
    shot(page, "19-demo-public-dashboard")
    page.goto(f"{live}/public/missions?region=Eastern European States")
    shot(page, "20-demo-scorecards-region")
    page.goto(f"{live}/public/panels/{panel.id}/report")
    shot(page, "21-demo-report")
    no_csp_errors(console)
