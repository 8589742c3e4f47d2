"""The room in a real browser against a real server process: sign in, join, post, see it live on the
facilitator's console; the text-only page. Screenshots go to test-output/room-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from panel.services import accounts
from tests.helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parents[2] / "test-output"
pytestmark = pytest.mark.browser



def shot(page: Any, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"room-{name}.png"), full_page=True)


def watch_console(page: Any) -> list[str]:
    logs: list[str] = []
    page.on("console", lambda m: logs.append(m.text) if m.type == "error" else None)
    return logs


def test_room_console_and_text_page(browser, live_server, db, users, room):
    link = accounts.issue_magic_link(db.session, users["citizen"])
    server = live_server()
    fac = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    fac_errors = watch_console(fac)
    fac.goto(server.url + "/auth/signin")
    fac.fill("input[name=email]", users["facilitator"].email)
    fac.fill("input[name=password]", PASSWORD)
    fac.click("main button[type=submit]")
    fac.goto(server.url + f"/rooms/{room.id}/console")
    fac.wait_for_selector(".conn-online")
    fac.fill("#agenda-title", "Introductions")
    fac.click("#agenda-form button[type=submit]")
    fac.wait_for_selector("#agenda li button")
    fac.click("#agenda li button")
    fac.wait_for_selector("#agenda .timer")

    cit = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    cit_errors = watch_console(cit)
    cit.goto(server.url + f"/auth/link/{link}")
    cit.click("main button[type=submit]")
    cit.goto(server.url + f"/rooms/{room.id}")
    cit.wait_for_selector(".conn-online")
    cit.fill("#body", "Hello <b>everyone</b> from Nairobi")
    cit.click("#composer button[type=submit]")
    cit.wait_for_selector("#messages .msg")
    assert cit.locator("#messages .msg-body").first.inner_text() == "Hello <b>everyone</b> from Nairobi"
    cit.click("#hand-btn")
    fac.wait_for_selector("#queue li button")
    assert "Hello <b>everyone</b>" in fac.locator("#messages").inner_text()
    fac.wait_for_selector("#equity-people tr")
    cit.fill("#statement-body", "Data should be open by default.")
    cit.click("#statement-form button[type=submit]")
    cit.wait_for_selector(".statement")
    cit.wait_for_selector(".timer")
    shot(cit, "participant-mobile")
    shot(fac, "console")

    # The browser keeps an unsent message and sends it after reconnecting.
    cit.evaluate("window.pnyxRoom.socket.disconnect()")
    cit.fill("#body", "typed while offline")
    cit.click("#composer button[type=submit]")
    assert "1" in cit.locator("#pending").inner_text()
    cit.evaluate("window.pnyxRoom.socket.connect()")
    cit.locator("#messages .msg").nth(1).wait_for()
    from playwright.sync_api import expect

    expect(cit.locator("#pending")).to_have_text("", timeout=10_000)  # the ack may follow the broadcast

    text = browser.new_context().new_page()
    text.goto(server.url + "/auth/signin")
    text.fill("input[name=email]", users["facilitator"].email)
    text.fill("input[name=password]", PASSWORD)
    text.click("main button[type=submit]")
    text.goto(server.url + f"/rooms/{room.id}/text")
    assert "typed while offline" in text.content()
    shot(text, "text-only")
    assert not [e for e in fac_errors + cit_errors if "Content Security Policy" in e or "Refused" in e]
