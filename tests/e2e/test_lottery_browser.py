"""The lottery in a real browser: upload, feasibility, seed, background draw with the polling
progress page (external JS under CSP), probability chart, publication, invitation accepted by the
citizen. Screenshots go to test-output/lottery-e2e-*.png."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from panel import create_app
from panel.models import OutboxMessage
from tests.conftest import base_config
from tests.helpers import PASSWORD
from tests.panel.lottery_fixtures import CATEGORIES, people_csv

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parents[2] / "test-output"
pytestmark = pytest.mark.browser


@pytest.fixture
def live(database_url: str, users: dict[str, Any]) -> Iterator[str]:
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, SERVER_NAME=None,
                                 RATELIMIT_ENABLED=False, JOBS_WORKER_THREAD=True))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        from panel.services import background
        background.stop(app)



def shot(page: Any, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"lottery-e2e-{name}.png"), full_page=True)


def test_lottery_from_upload_to_accepted_invitation(live, browser, db, users):
    console: list[str] = []
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.on("console", lambda m: console.append(m.text))
    page.goto(f"{live}/auth/signin")
    page.fill("#email", users["organizer"].email)
    page.fill("#password", PASSWORD)
    page.click("main button.primary")
    panel_id = users["panel"].id

    page.goto(f"{live}/panels/{panel_id}/pool")
    page.set_input_files("#people", {"name": "people.csv", "mimeType": "text/csv",
                                     "buffer": people_csv(30).encode()})
    page.set_input_files("#categories", {"name": "categories.csv", "mimeType": "text/csv",
                                         "buffer": CATEGORIES.encode()})
    page.click("form[enctype] button.primary")
    assert page.locator("#feasibility.ok").is_visible()
    shot(page, "feasible")

    page.goto(f"{live}/panels/{panel_id}/lottery")
    page.fill("#seed", "closing numbers of tomorrow's lottery")
    page.click("main form button.primary")
    page.click("main form button.primary")  # run the draw
    assert "/progress" in page.url
    page.wait_for_url(re.compile(rf"/panels/{panel_id}/lottery$"), timeout=180_000)  # the JS follows the job
    assert page.locator("svg.probability-chart").count() == 2
    shot(page, "probabilities")
    page.click("main form button.primary")  # publish
    assert "/lottery/" in page.url and page.locator("pre.command").is_visible()
    shot(page, "transcript")

    page.goto(f"{live}/panels/{panel_id}/lottery")
    page.click("main form button.primary")  # invite
    assert page.locator("#invitations tbody tr").count() == users["panel"].size
    body = db.session.execute(select(OutboxMessage.body).order_by(OutboxMessage.id)).scalars().first()
    token = re.search(r"/invitation/(\S+)", body).group(1)

    citizen = browser.new_context(viewport={"width": 400, "height": 850}, timezone_id="Asia/Tokyo").new_page()
    citizen.on("console", lambda m: console.append(m.text))
    citizen.goto(f"{live}/invitation/{token}")
    assert citizen.locator("#timezone").input_value() == "Asia/Tokyo"  # guessed by invitation.js
    shot(citizen, "invitation")
    citizen.click("button[value=accept]")
    assert "/dashboard" in citizen.url
    bad = [m for m in console if "Content Security Policy" in m or "Refused" in m]
    assert not bad, bad
