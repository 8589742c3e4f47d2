"""A panel, its volunteer pool, its quotas and its members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .base import UTCDateTime, in_values, utcnow

PANEL_STATUSES = ("draft", "recruiting", "selected", "deliberating", "voting", "reporting", "closed")
MEMBER_ROLES = ("organizer", "facilitator", "citizen", "observer")
MEMBER_STATUSES = ("invited", "accepted", "declined", "replaced", "active")
VOLUNTEER_STATUSES = ("pool", "selected", "invited", "accepted", "declined", "replaced", "withdrawn")


class Panel(db.Model):  # type: ignore[name-defined]
    __tablename__ = "panel"
    __table_args__ = (
        CheckConstraint(in_values("status", PANEL_STATUSES), name="status"),
        CheckConstraint("size > 0", name="size_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    mandate: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer)
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["en"])
    status: Mapped[str] = mapped_column(String(20), default="draft")
    starts_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[PanelMember]] = relationship(back_populates="panel", cascade="all, delete-orphan")
    features: Mapped[list[Feature]] = relationship(
        back_populates="panel", cascade="all, delete-orphan", order_by="Feature.position"
    )


class PanelMember(db.Model):  # type: ignore[name-defined]
    """Membership gives a user rights on one panel (see services.permissions)."""

    __tablename__ = "panel_member"
    __table_args__ = (
        UniqueConstraint("panel_id", "user_id"),
        CheckConstraint(in_values("role", MEMBER_ROLES), name="role"),
        CheckConstraint(in_values("status", MEMBER_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="active")
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    panel: Mapped[Panel] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class Feature(db.Model):  # type: ignore[name-defined]
    """A stratification feature of a panel (region, gender, age band…)."""

    __tablename__ = "feature"
    __table_args__ = (UniqueConstraint("panel_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)

    panel: Mapped[Panel] = relationship(back_populates="features")
    values: Mapped[list[FeatureValue]] = relationship(
        back_populates="feature", cascade="all, delete-orphan", order_by="FeatureValue.position"
    )


class FeatureValue(db.Model):  # type: ignore[name-defined]
    """One value of a feature with its quota and the population share it was derived from."""

    __tablename__ = "feature_value"
    __table_args__ = (
        UniqueConstraint("feature_id", "value"),
        CheckConstraint("min_count >= 0", name="min_nonnegative"),
        CheckConstraint("min_count <= max_count", name="min_le_max"),
        CheckConstraint("share IS NULL OR (share >= 0 AND share <= 1)", name="share_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    feature_id: Mapped[int] = mapped_column(ForeignKey("feature.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(String(120))
    min_count: Mapped[int] = mapped_column(Integer)
    max_count: Mapped[int] = mapped_column(Integer)
    share: Mapped[float | None] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer, default=0)

    feature: Mapped[Feature] = relationship(back_populates="values")


class Volunteer(db.Model):  # type: ignore[name-defined]
    """A person in a panel's pool. ``features`` maps feature name → value."""

    __tablename__ = "volunteer"
    __table_args__ = (
        UniqueConstraint("panel_id", "external_id"),
        CheckConstraint(in_values("status", VOLUNTEER_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    country: Mapped[str | None] = mapped_column(String(3))
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    household: Mapped[str | None] = mapped_column(String(200))
    consent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="pool")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
