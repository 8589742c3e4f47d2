"""Lotteries, the background jobs that run them, and invitations to the selected."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, in_values, utcnow

ALGORITHMS = ("leximin", "maximin", "nash", "legacy")
LOTTERY_STATUSES = ("pending", "running", "done", "failed", "published")
LOTTERY_KINDS = ("initial", "replacement")
JOB_STATUSES = ("queued", "running", "done", "failed")
INVITATION_STATUSES = ("pending", "accepted", "declined", "expired")


class Lottery(db.Model):  # type: ignore[name-defined]
    """One draw. Its transcript holds everything needed to replay it publicly."""

    __tablename__ = "lottery"
    __table_args__ = (
        CheckConstraint(in_values("algorithm", ALGORITHMS), name="algorithm"),
        CheckConstraint(in_values("status", LOTTERY_STATUSES), name="status"),
        CheckConstraint(in_values("kind", LOTTERY_KINDS), name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="initial")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("lottery.id", ondelete="SET NULL"))
    algorithm: Mapped[str] = mapped_column(String(20), default="leximin")
    algorithm_version: Mapped[str] = mapped_column(String(40), default="")
    seed: Mapped[str] = mapped_column(String(200))
    seed_announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    input_digest: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    probabilities: Mapped[dict[str, float] | None] = mapped_column(JSON)
    selected: Mapped[list[str] | None] = mapped_column(JSON)
    min_probability: Mapped[float | None] = mapped_column(Float)
    ticket: Mapped[int | None] = mapped_column(Integer)
    lottery_size: Mapped[int | None] = mapped_column(Integer)
    transcript: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Secret key (hex) of the per-lottery pseudonyms in the published people file; never published.
    # None on lotteries announced before pseudonymisation: their files carry the pool ids as uploaded.
    pseudonym_key: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Job(db.Model):  # type: ignore[name-defined]
    """Work that must not block a request (lotteries, tallies, mail), with visible progress."""

    __tablename__ = "job"
    __table_args__ = (CheckConstraint(in_values("status", JOB_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(300), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(db.Model):  # type: ignore[name-defined]
    """An invitation to a selected volunteer; the personal link is a MagicLink."""

    __tablename__ = "invitation"
    __table_args__ = (CheckConstraint(in_values("status", INVITATION_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    lottery_id: Mapped[int | None] = mapped_column(ForeignKey("lottery.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
