"""Outgoing mail and webhooks through an outbox table, delivered by a background worker.

Requests only ever *enqueue* (in the caller's transaction, so a rolled-back change sends nothing).
The worker (``flask --app wsgi outbox work``) claims due rows, sends them, and on failure keeps the
row with ``attempts``, ``last_error`` and ``next_attempt_at`` set by exponential backoff — nothing
is lost while the SMTP server or a subscriber is down, and the retry state is visible at /outbox.
Mail to a user also appears in their in-app inbox (``user_id`` set), whether or not SMTP works.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationFailed
from ..models import Delivery, OutboxMessage, Recommendation, Response, User, WebhookSubscription
from ..models.base import utcnow
from . import audit, background
from .lookup import get_or_404
from .permissions import authorize

log = logging.getLogger("pnyx.outbox")

BACKOFF_BASE_S = 30
BACKOFF_CAP_S = 6 * 3600
MAX_ATTEMPTS = 12  # ~1.5 days of retries; then "failed" (kept, retryable by hand)
REMINDER_DAYS = 7
LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """Delay before retry number ``attempts`` (1-based): 30 s, 60 s, 2 min … capped at 6 h."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(0, attempts - 1), BACKOFF_CAP_S))


# --- enqueueing ---------------------------------------------------------------------------------

def enqueue_email(session: Session, user: User, *, subject: str, body: str) -> OutboxMessage:
    msg = OutboxMessage(kind="email", to_address=user.email, user_id=user.id, subject=subject[:300], body=body,
                        next_attempt_at=utcnow())
    session.add(msg)
    session.flush()
    return msg


def signing_key(secret: str) -> str:
    """Subscribers sign-check with ``HMAC-SHA256(key=sha256_hex(secret), body)``; only the key is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def signature(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def enqueue_webhooks(session: Session, event: str, payload: dict[str, Any]) -> int:
    subs = session.execute(select(WebhookSubscription)).scalars().all()
    body = json.dumps({"event": event, "data": payload}, sort_keys=True, ensure_ascii=False, default=str)
    for sub in subs:
        session.add(OutboxMessage(
            kind="webhook", to_address=sub.url, subject=event, body=body, next_attempt_at=utcnow(),
            headers={"X-Pnyx-Event": event, "X-Pnyx-Signature": signature(sub.secret_hash, body.encode())}))
    session.flush()
    return len(subs)


# --- webhook subscriptions ----------------------------------------------------------------------

def subscribe(session: Session, actor: User, url: str, secret: str) -> WebhookSubscription:
    authorize(session, actor, "webhook.manage")
    url = (url or "").strip()
    if not url.startswith(("https://", "http://")) or len(url) > 500 or " " in url:
        raise ValidationFailed("Give an http(s) URL of at most 500 characters.", field="url")
    if len(secret or "") < 16:
        raise ValidationFailed("The shared secret must be at least 16 characters.", field="secret")
    if session.execute(select(WebhookSubscription.id).where(WebhookSubscription.url == url)).first():
        raise ValidationFailed("This URL is already subscribed.", field="url")
    sub = WebhookSubscription(url=url, secret_hash=signing_key(secret))
    session.add(sub)
    session.flush()
    audit.record(session, "webhook.subscribed", actor_id=actor.id, subject_type="webhook", subject_id=sub.id,
                 payload={"url": url})
    session.commit()
    return sub


def unsubscribe(session: Session, actor: User, sub_id: int) -> None:
    authorize(session, actor, "webhook.manage")
    sub = get_or_404(session, WebhookSubscription, sub_id, field="id", label="webhook subscription",
                     message=f"No webhook subscription {sub_id}.")
    audit.record(session, "webhook.unsubscribed", actor_id=actor.id, subject_type="webhook",
                 subject_id=sub.id, payload={"url": sub.url})
    session.delete(sub)
    session.commit()


def list_subscriptions(session: Session, actor: User) -> list[WebhookSubscription]:
    authorize(session, actor, "webhook.manage")
    return list(session.execute(select(WebhookSubscription).order_by(WebhookSubscription.id)).scalars())


# --- senders ------------------------------------------------------------------------------------

class MailSender(Protocol):
    def send(self, msg: OutboxMessage) -> None: ...


class SmtpSender:
    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, msg: OutboxMessage) -> None:
        em = EmailMessage()
        em["From"] = self.sender
        em["To"] = msg.to_address
        em["Subject"] = msg.subject
        em["Message-ID"] = f"<outbox-{msg.id}@pnyx>"
        em.set_content(msg.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(em)


class ConsoleSender:
    """Development: print the mail instead of sending it (links stay usable from the terminal)."""

    def __init__(self, out: Callable[[str], None] = print) -> None:
        self.out = out

    def send(self, msg: OutboxMessage) -> None:
        self.out(f"--- mail to {msg.to_address}: {msg.subject}\n{msg.body}\n---")


def post_webhook(msg: OutboxMessage, timeout: float = 10.0) -> None:
    req = urllib.request.Request(msg.to_address, data=msg.body.encode(), method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "Pnyx-webhook/1",
                                          **(msg.headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) checked at subscribe
        if not 200 <= resp.status < 300:
            raise OSError(f"HTTP {resp.status}")


def sender_from_config(config: Any) -> MailSender:
    if config.get("SMTP_HOST"):
        return SmtpSender(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), config["MAIL_SENDER"])
    return ConsoleSender()


# --- the worker ---------------------------------------------------------------------------------

@dataclass
class RunStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def claim(session: Session, ids: list[int], now: datetime) -> list[int]:
    """Lease the due messages among ``ids`` to this worker; returns those it got.

    Each row is leased by a conditional update (still pending and due), so of two workers that read
    the same rows (SQLite has no ``SKIP LOCKED``; an in-process worker may run beside
    ``flask outbox work``) only one gets each message, and a worker that crashes leaves it to
    the next run once the lease is over.
    """
    got = []
    for mid in ids:
        leased = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == mid, OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE)
        )
        if leased.rowcount == 1:  # type: ignore[attr-defined]
            got.append(mid)
    session.commit()
    return got


def process_due(session: Session, mailer: MailSender, *, now: datetime | None = None, limit: int = 100,
                poster: Callable[[OutboxMessage], None] = post_webhook) -> RunStats:
    """Send every due message once; each outcome is committed on its own so a crash loses nothing."""
    now = now or utcnow()
    stats = RunStats()
    stmt = (select(OutboxMessage).where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # several workers never send the same row twice
    ids = claim(session, [m.id for m in session.execute(stmt).scalars()], now)
    for mid in ids:
        msg = session.get(OutboxMessage, mid)
        if msg is None or msg.status != "pending":
            continue
        try:
            if msg.kind == "webhook":
                poster(msg)
            else:
                mailer.send(msg)
        except (OSError, smtplib.SMTPException, urllib.error.URLError, ValueError) as e:
            msg.attempts += 1
            msg.last_error = f"{type(e).__name__}: {e}"[:1000]
            if msg.attempts >= MAX_ATTEMPTS:
                msg.status = "failed"
                stats.failed += 1
            else:
                msg.next_attempt_at = now + backoff(msg.attempts)
                stats.retried += 1
            stats.errors.append(msg.last_error)
            log.warning("outbox message %s not sent (attempt %s): %s", msg.id, msg.attempts, msg.last_error)
        else:
            msg.attempts += 1
            msg.status, msg.sent_at, msg.last_error = "sent", utcnow(), None
            stats.sent += 1
        session.commit()
    return stats


def retry_now(session: Session, actor: User, message_id: int) -> OutboxMessage:
    authorize(session, actor, "outbox.view")
    msg = get_or_404(session, OutboxMessage, message_id, field="id", label="outbox message",
                     message=f"No outbox message {message_id}.")
    if msg.status == "sent":
        raise ValidationFailed("This message was already sent.", field="id")
    msg.status, msg.next_attempt_at = "pending", utcnow()
    session.commit()
    return msg


def run_worker(app: Any, *, interval: float = 5.0, once: bool = False) -> None:
    from ..extensions import db

    with app.app_context():
        mailer = sender_from_config(app.config)
        while True:
            send_reminders(db.session)
            stats = process_due(db.session, mailer)
            if stats.sent or stats.retried or stats.failed:
                log.info("outbox: sent %s, will retry %s, failed %s", stats.sent, stats.retried, stats.failed)
            db.session.remove()
            if once:
                return
            time.sleep(interval)


def _work_until(app: Any, stop: threading.Event, interval: float) -> None:
    """The in-process worker: like ``run_worker``, but an error (the database briefly away, say)
    is logged and the loop goes on instead of ending the thread."""
    from ..extensions import db

    with app.app_context():
        mailer = sender_from_config(app.config)
        while not stop.is_set():
            try:
                send_reminders(db.session)
                process_due(db.session, mailer)
            except Exception:  # noqa: BLE001 - keep delivering once the cause goes away
                log.exception("outbox worker error; retrying in %s s", interval)
                db.session.rollback()
            finally:
                db.session.remove()
            stop.wait(interval)


def start_worker_thread(app: Any, interval: float = 5.0) -> threading.Event:
    """Start (once per app) a daemon thread that delivers the outbox; returns the event that stops it."""
    return background.start_once("pnyx-outbox", app, _work_until, interval)


def init_app(app: Any) -> None:
    """Serving processes start the outbox thread on their first request unless
    ``OUTBOX_WORKER_THREAD`` is false (default: on, off under TESTING)."""
    if app.config.get("OUTBOX_WORKER_THREAD", not app.config.get("TESTING")):
        interval = float(app.config.get("OUTBOX_INTERVAL", 5.0))

        @app.before_request
        def _ensure_outbox_worker() -> None:
            start_worker_thread(app, interval)


def outbox_overview(session: Session, actor: User, status: str | None = None, limit: int = 200
                    ) -> tuple[list[OutboxMessage], dict[str, int]]:
    authorize(session, actor, "outbox.view")
    counts = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
                  .tuples().all())
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status in ("pending", "sent", "failed"):
        stmt = stmt.where(OutboxMessage.status == status)
    return list(session.execute(stmt).scalars()), {k: int(v) for k, v in counts.items()}


# --- reminders and the in-app inbox -------------------------------------------------------------

def send_reminders(session: Session, *, now: datetime | None = None, days_before: int = REMINDER_DAYS) -> int:
    """One reminder per unanswered delivery once its due date is less than ``days_before`` away, and
    one overdue notice when the due date has passed. Returns how many deliveries were notified."""
    now = now or utcnow()
    answered = select(Response.delivery_id)
    due = session.execute(
        select(Delivery).where(Delivery.reminded_at.is_(None), Delivery.due_at <= now + timedelta(days=days_before),
                               Delivery.due_at > now, Delivery.id.not_in(answered))
    ).scalars().all()
    for d in due:
        rec = session.get(Recommendation, d.recommendation_id)
        officers = session.execute(select(User).where(User.mission_id == d.mission_id, User.active.is_(True))
                                   ).scalars().all()
        for u in officers:
            enqueue_email(session, u, subject=f"Reminder: answer due {d.due_at:%d %b %Y} — {rec.title if rec else ''}",
                          body=(f"The citizens' panel recommendation \"{rec.title if rec else ''}\" awaits your "
                                f"mission's public answer by {d.due_at:%d %B %Y %H:%M} UTC.\n"
                                "Answers after the due date are accepted but shown as late.\n"))
        d.reminded_at = now
    overdue = session.execute(
        select(Delivery).where(Delivery.due_at <= now, Delivery.id.not_in(answered),
                               (Delivery.reminded_at.is_(None)) | (Delivery.reminded_at <= Delivery.due_at))
    ).scalars().all()
    for d in overdue:  # one notice when the due date passes; reminded_at > due_at marks it sent
        rec = session.get(Recommendation, d.recommendation_id)
        for u in session.execute(select(User).where(User.mission_id == d.mission_id, User.active.is_(True))
                                 ).scalars():
            enqueue_email(session, u, subject=f"Overdue: {rec.title if rec else ''}",
                          body=(f"The answer to \"{rec.title if rec else ''}\" was due on {d.due_at:%d %B %Y} and is "
                                "now shown as overdue on the public dashboard. Your answer is still welcome; it "
                                "will be marked late.\n"))
        d.reminded_at = now
    session.commit()
    return len(due) + len(overdue)


def inbox(session: Session, user: User) -> list[OutboxMessage]:
    return list(session.execute(
        select(OutboxMessage).where(OutboxMessage.user_id == user.id, OutboxMessage.kind == "email")
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(200)).scalars())


def unread_count(session: Session, user: User) -> int:
    return int(session.execute(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.user_id == user.id, OutboxMessage.read_at.is_(None))).scalar_one())


def mark_read(session: Session, user: User, message_id: int) -> OutboxMessage:
    msg = session.get(OutboxMessage, message_id)
    if msg is None or msg.user_id != user.id:
        # Someone else's message is indistinguishable from a missing one.
        raise NotFound(f"No message {message_id} in your inbox.", field="id")
    if msg.read_at is None:
        msg.read_at = utcnow()
        session.commit()
    return msg
