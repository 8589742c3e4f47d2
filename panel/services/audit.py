"""Append events to the hash chain and verify it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..models import GENESIS, AuditEvent

# Arbitrary constant: the advisory-lock key that serialises chain appends on PostgreSQL.
_PG_LOCK_KEY = 7_302_019


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, *, created_at: datetime, actor_id: int | None, action: str,
               panel_id: int | None, subject_type: str, subject_id: str, payload: dict[str, Any]) -> str:
    content = canonical({
        "prev": prev_hash,
        "at": created_at.isoformat(timespec="microseconds"),
        "actor": actor_id,
        "action": action,
        "panel": panel_id,
        "subject": [subject_type, subject_id],
        "payload": payload,
    })
    return hashlib.sha256(content.encode()).hexdigest()


def record(session: Session, action: str, *, actor_id: int | None = None, panel_id: int | None = None,
           subject_type: str = "", subject_id: object = "", payload: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event in the caller's transaction (so it commits or rolls back with the change)."""
    from ..models.base import utcnow

    bind = session.get_bind()
    # Serialise appends so two writers never read the same "last hash" (the unique prev_hash
    # would refuse the second one, failing its whole transaction).
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif bind.dialect.name == "sqlite":
        # A write statement that touches no row still takes SQLite's RESERVED (writer) lock,
        # held to the end of the transaction; other writers wait for it (busy timeout).
        session.execute(text("UPDATE audit_event SET id = id WHERE 0"))
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    created_at = utcnow()
    body = json.loads(canonical(payload or {}))  # what is stored is exactly what was hashed
    ev = AuditEvent(
        created_at=created_at, actor_id=actor_id, action=action, panel_id=panel_id,
        subject_type=subject_type, subject_id=str(subject_id), payload=body, prev_hash=prev,
    )
    ev.hash = event_hash(prev, created_at=created_at, actor_id=actor_id, action=action, panel_id=panel_id,
                         subject_type=subject_type, subject_id=str(subject_id), payload=body)
    session.add(ev)
    session.flush()
    return ev


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 2000) -> ChainReport:
    """Walk the chain in id order; report the first event whose link or content hash is wrong."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).scalars().all()
        if not rows:
            return ChainReport(True, checked)
        for ev in rows:
            if ev.prev_hash != prev:
                return ChainReport(False, checked, ev.id, "prev_hash does not match the previous event")
            expected = event_hash(ev.prev_hash, created_at=ev.created_at, actor_id=ev.actor_id, action=ev.action,
                                  panel_id=ev.panel_id, subject_type=ev.subject_type,
                                  subject_id=ev.subject_id, payload=ev.payload)
            if expected != ev.hash:
                return ChainReport(False, checked, ev.id, "content does not match its hash")
            prev = ev.hash
            checked += 1
            last_id = ev.id
        session.expunge_all()
