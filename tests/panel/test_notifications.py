"""The outbox: real SMTP delivery (aiosmtpd), retries with backoff while SMTP is down, reminders,
webhooks with HMAC signatures to a real HTTP server, the in-app inbox and the staff pages."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from panel.models import Delivery, OutboxMessage
from panel.models.base import utcnow
from panel.services import background, notifications, responses
from tests import helpers
from tests.helpers import wait_until
from tests.panel import followup_helpers as fh


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Collect:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf8", "replace")))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    handler = Collect()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield handler, port
    finally:
        ctl.stop()


def test_mail_arrives_through_real_smtp(db, users, smtp):
    handler, port = smtp
    notifications.enqueue_email(db.session, users["mission"], subject="Hello mission", body="Line one\nLine two")
    db.session.commit()
    stats = notifications.process_due(db.session, notifications.SmtpSender("127.0.0.1", port, "Pnyx <p@x.org>"))
    assert stats.sent == 1
    assert len(handler.messages) == 1
    _from, to, content = handler.messages[0]
    assert to == [users["mission"].email] and "Subject: Hello mission" in content and "Line two" in content
    msg = db.session.execute(select(OutboxMessage)).scalar_one()
    assert msg.status == "sent" and msg.sent_at and msg.attempts == 1


def test_smtp_down_keeps_message_and_backs_off(db, users):
    port = free_port()  # nothing listens here
    notifications.enqueue_email(db.session, users["mission"], subject="Due soon", body="x")
    db.session.commit()
    sender = notifications.SmtpSender("127.0.0.1", port, "p@x.org", timeout=2)
    t0 = utcnow()
    stats = notifications.process_due(db.session, sender, now=t0)
    assert stats.retried == 1 and stats.sent == 0
    msg = db.session.execute(select(OutboxMessage)).scalar_one()
    assert msg.status == "pending" and msg.attempts == 1 and "Connection" in (msg.last_error or "")
    assert msg.next_attempt_at == t0 + notifications.backoff(1)
    # Not due yet: the worker leaves it alone.
    assert notifications.process_due(db.session, sender, now=t0 + timedelta(seconds=5)).retried == 0
    t1 = t0 + timedelta(seconds=31)
    notifications.process_due(db.session, sender, now=t1)
    db.session.refresh(msg)
    assert msg.attempts == 2 and msg.next_attempt_at == t1 + notifications.backoff(2)
    assert notifications.backoff(2) == 2 * notifications.backoff(1)
    assert notifications.backoff(30) == timedelta(seconds=notifications.BACKOFF_CAP_S)
    # The server comes back: the same message is delivered, nothing was lost.
    handler = Collect()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        stats = notifications.process_due(db.session, sender, now=t1 + timedelta(hours=1))
    finally:
        ctl.stop()
    assert stats.sent == 1 and len(handler.messages) == 1
    db.session.refresh(msg)
    assert msg.status == "sent" and msg.attempts == 3 and msg.last_error is None


def test_gives_up_visibly_after_max_attempts_and_can_be_retried(db, users):
    notifications.enqueue_email(db.session, users["mission"], subject="s", body="b")
    db.session.commit()
    msg = db.session.execute(select(OutboxMessage)).scalar_one()
    msg.attempts = notifications.MAX_ATTEMPTS - 1
    db.session.commit()
    stats = notifications.process_due(db.session, notifications.SmtpSender("127.0.0.1", free_port(), "p@x.org"))
    assert stats.failed == 1
    db.session.refresh(msg)
    assert msg.status == "failed"
    notifications.retry_now(db.session, users["admin"], msg.id)
    db.session.refresh(msg)
    assert msg.status == "pending"


def test_console_sender_in_development(db, users):
    lines: list[str] = []
    notifications.enqueue_email(db.session, users["mission"], subject="Console", body="printed")
    db.session.commit()
    assert notifications.process_due(db.session, notifications.ConsoleSender(lines.append)).sent == 1
    assert "Console" in lines[0] and "printed" in lines[0]
    assert isinstance(notifications.sender_from_config({"SMTP_HOST": ""}), notifications.ConsoleSender)


def test_reminders_before_due_date_once(db, users):
    _rec, ms = fh.delivered(db.session, users, days=3)
    before = len(db.session.execute(select(OutboxMessage)).all())
    assert notifications.send_reminders(db.session) == 3  # all three deliveries are due within 7 days
    after = db.session.execute(select(OutboxMessage).where(OutboxMessage.subject.like("Reminder%"))).scalars().all()
    assert [m.to_address for m in after] == [users["mission"].email]  # only KEN has a desk officer
    assert notifications.send_reminders(db.session) == 0
    assert len(db.session.execute(select(OutboxMessage)).all()) == before + 1


def test_overdue_notice_once(db, users):
    _rec, ms = fh.delivered(db.session, users, days=3)
    assert notifications.send_reminders(db.session) == 3
    later = utcnow() + timedelta(days=4)
    assert notifications.send_reminders(db.session, now=later) == 3  # now overdue: one notice each
    subjects = db.session.execute(select(OutboxMessage.subject).where(OutboxMessage.user_id == users["mission"].id)
                                  ).scalars().all()
    assert sum(s.startswith("Reminder") for s in subjects) == 1 and sum(s.startswith("Overdue") for s in subjects) == 1
    assert notifications.send_reminders(db.session, now=later + timedelta(days=1)) == 0


def test_no_reminder_for_answered_or_far_away(db, users):
    _rec, ms = fh.delivered(db.session, users, days=30)
    assert notifications.send_reminders(db.session) == 0
    d = db.session.execute(select(Delivery).where(Delivery.mission_id == ms["KEN"].id)).scalar_one()
    responses.submit(db.session, users["mission"], d.id, stance="accept")
    assert notifications.send_reminders(db.session, now=utcnow() + timedelta(days=25)) == 2  # BRA, DEU only


class Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    fail = False

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((dict(self.headers), body))
        self.send_response(500 if Hook.fail else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_server():
    Hook.received, Hook.fail = [], False
    server = HTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_webhook_signed_delivered_and_retried(db, users, hook_server):
    secret = "a-long-shared-secret"
    notifications.subscribe(db.session, users["organizer"], hook_server, secret)
    _rec, ms = fh.delivered(db.session, users)
    d = db.session.execute(select(Delivery).where(Delivery.mission_id == ms["KEN"].id)).scalar_one()
    Hook.fail = True
    responses.submit(db.session, users["mission"], d.id, stance="accept")
    console = notifications.ConsoleSender(lambda s: None)
    stats = notifications.process_due(db.session, console)
    assert stats.retried == 2  # recommendation.published + response.created both failed with HTTP 500
    Hook.fail = False
    stats = notifications.process_due(db.session, console, now=utcnow() + timedelta(minutes=5))
    assert stats.sent == 2
    headers, body = Hook.received[-1]
    key = hashlib.sha256(secret.encode()).hexdigest()
    assert headers["X-Pnyx-Signature"] == "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    data = json.loads(body)
    assert data["event"] == "response.created" and data["data"]["mission"] == "KEN"
    assert data["data"]["stance"] == "accept"


def test_subscribe_validation(db, users):
    with pytest.raises(Exception) as e:
        notifications.subscribe(db.session, users["admin"], "ftp://x", "s" * 20)
    assert e.value.field == "url"
    with pytest.raises(Exception) as e:
        notifications.subscribe(db.session, users["admin"], "https://x.example/h", "short")
    assert e.value.field == "secret"
    with pytest.raises(Exception) as e:
        notifications.subscribe(db.session, users["citizen"], "https://x.example/h", "s" * 20)
    assert e.value.status == 403


def test_cli_worker_once(runner, db, users):
    notifications.enqueue_email(db.session, users["mission"], subject="From the CLI", body="b")
    db.session.commit()
    result = runner.invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "sent"
    assert "sent: 1" in runner.invoke(args=["outbox", "status"]).output


# --- web --------------------------------------------------------------------------------------

def test_inbox_shows_and_marks_read(client, auth, db, users):
    mine = notifications.enqueue_email(db.session, users["mission"], subject="For you", body="hello")
    theirs = notifications.enqueue_email(db.session, users["citizen"], subject="Not yours", body="x")
    db.session.commit()
    auth.as_user(users["mission"])
    html = client.get("/inbox").get_data(as_text=True)
    assert "For you" in html and "Not yours" not in html
    token = helpers.csrf_token(client, "/inbox")
    assert client.post(f"/inbox/{mine.id}/read", data={"csrf_token": token}).status_code == 302
    db.session.refresh(mine)
    assert mine.read_at is not None
    assert client.post(f"/inbox/{theirs.id}/read", data={"csrf_token": token}).status_code == 404


def test_outbox_page_allowed_and_forbidden(client, auth, db, users):
    notifications.enqueue_email(db.session, users["mission"], subject="Queued", body="b")
    db.session.commit()
    msg = db.session.execute(select(OutboxMessage)).scalar_one()
    msg.attempts, msg.last_error = 2, "ConnectionRefusedError: [Errno 111]"
    db.session.commit()
    auth.as_user(users["organizer"])
    html = client.get("/outbox").get_data(as_text=True)
    assert "Queued" in html and "ConnectionRefusedError" in html
    token = helpers.csrf_token(client, "/outbox")
    assert client.post(f"/outbox/{msg.id}/retry", data={"csrf_token": token}).status_code == 302
    auth.signout()
    auth.as_user(users["facilitator"])
    assert client.get("/outbox").status_code == 403
    token = helpers.csrf_token(client, "/dashboard")
    assert client.post(f"/outbox/{msg.id}/retry", data={"csrf_token": token}).status_code == 403


def test_webhooks_page_allowed_and_forbidden(client, auth, db, users):
    auth.as_user(users["admin"])
    token = helpers.csrf_token(client, "/webhooks")
    r = client.post("/webhooks", data={"csrf_token": token, "url": "not a url", "secret": "s" * 20})
    assert r.status_code == 422
    r = client.post("/webhooks", data={"csrf_token": token, "url": "https://watch.example/hook", "secret": "s" * 20})
    assert r.status_code == 302
    sub = notifications.list_subscriptions(db.session, users["admin"])[0]
    assert "watch.example" in client.get("/webhooks").get_data(as_text=True)
    assert client.post(f"/webhooks/{sub.id}/delete", data={"csrf_token": token}).status_code == 302
    auth.signout()
    auth.as_user(users["mission"])
    assert client.get("/webhooks").status_code == 403
    token = helpers.csrf_token(client, "/dashboard")
    assert client.post("/webhooks/1/delete", data={"csrf_token": token}).status_code == 403


def test_each_due_message_is_claimed_by_one_worker_only(db, users):
    notifications.enqueue_email(db.session, users["mission"], subject="once", body="b")
    db.session.commit()
    mid = db.session.execute(select(OutboxMessage.id)).scalar_one()
    now = utcnow()
    assert notifications.claim(db.session, [mid], now) == [mid]
    # a second worker that read the same row before the lease gets nothing
    assert notifications.claim(db.session, [mid], now) == []
    # once the lease is over, the message is due again (a worker that crashed mid-send)
    assert notifications.claim(db.session, [mid], now + notifications.LEASE + timedelta(seconds=1)) == [mid]


def test_in_process_worker_thread_delivers_and_survives_errors(app, db, users, smtp):
    handler, port = smtp
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    notifications.enqueue_email(db.session, users["mission"], subject="From the thread", body="b")
    db.session.commit()
    stop = notifications.start_worker_thread(app, interval=0.05)
    try:
        assert notifications.start_worker_thread(app, interval=0.05) is stop  # one thread per app
        wait_until(lambda: handler.messages)
        assert [m[2] for m in handler.messages if "Subject: From the thread" in m[2]]
        db.session.expire_all()
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "sent"
    finally:
        stop.set()


def test_worker_thread_is_started_by_the_first_request_only_when_configured(app, client, database_url):
    # TESTING apps leave it off (tests drive the outbox themselves) ...
    client.get("/")
    assert background.running("pnyx-outbox", app) is None
    # ... a serving app turns it on
    from panel import create_app
    from panel.extensions import db as _db
    from tests.conftest import base_config

    served = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, TESTING=False, JOBS_WORKER_THREAD=False, OUTBOX_WORKER_THREAD=True,
                                    OUTBOX_INTERVAL=0.05))
    thread = None
    try:
        served.test_client().get("/")
        thread = background.running("pnyx-outbox", served)
        assert thread is not None
    finally:
        background.stop(served)
        assert thread is None or not thread.is_alive()
        with served.app_context():
            _db.engine.dispose()
