"""The append-only, hash-chained audit log.

Each event's ``hash`` is SHA-256 over its canonical content and ``prev_hash``; ``prev_hash`` is
unique, so the chain cannot fork even if two processes write at once (one of them fails and
retries). Database triggers (see the migration) refuse UPDATE and DELETE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

GENESIS = "0" * 64


class AuditEvent(db.Model):  # type: ignore[name-defined]
    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(80), index=True)
    panel_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(80), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
