"""Proposals, amendments, polls and ballots.

Secret ballots are split in two tables: ``PollVoter`` records *that* a member voted (one row per
member, unique in the schema) and ``Ballot`` records *what* was voted, keyed by the hash of a
receipt code only the voter holds. No column links the two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, in_values, utcnow

PROPOSAL_STATUSES = ("draft", "open", "adopted", "rejected", "withdrawn")
BALLOT_TYPES = ("yesno", "approval", "score", "ranked", "grades")
POLL_STATUSES = ("draft", "open", "closed", "published")


class Proposal(db.Model):  # type: ignore[name-defined]
    __tablename__ = "proposal"
    __table_args__ = (CheckConstraint(in_values("status", PROPOSAL_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))  # amendment of
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalVersion(db.Model):  # type: ignore[name-defined]
    __tablename__ = "proposal_version"
    __table_args__ = (UniqueConstraint("proposal_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Poll(db.Model):  # type: ignore[name-defined]
    __tablename__ = "poll"
    __table_args__ = (
        CheckConstraint(in_values("ballot_type", BALLOT_TYPES), name="ballot_type"),
        CheckConstraint(in_values("status", POLL_STATUSES), name="status"),
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("score_min < score_max", name="score_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    ballot_type: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(40))
    candidates: Mapped[list[str]] = mapped_column(JSON, default=list)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    score_min: Mapped[int] = mapped_column(Integer, default=0)
    score_max: Mapped[int] = mapped_column(Integer, default=5)
    grade_scale: Mapped[list[str] | None] = mapped_column(JSON)
    secret: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PollVoter(db.Model):  # type: ignore[name-defined]
    """Eligibility and participation: one row per member who voted (never what they voted)."""

    __tablename__ = "poll_voter"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    first_cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ballot(db.Model):  # type: ignore[name-defined]
    """What was voted. ``voter_id`` is set only for open (non-secret) polls."""

    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("poll_id", "receipt_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    receipt_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    strata: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # panel features for group results
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
