"""People who sign in, their credentials, and the missions some of them represent."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, in_values, utcnow

if TYPE_CHECKING:
    from .panels import PanelMember

ROLES = ("admin", "organizer", "facilitator", "citizen", "mission", "observer")
STAFF_ROLES = ("admin", "organizer", "facilitator", "observer")
LINK_ROLES = ("citizen", "mission")


class Mission(db.Model):  # type: ignore[name-defined]
    """A member state's permanent mission to the UN: the recipient of recommendations."""

    __tablename__ = "mission"
    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(String(3), unique=True)  # ISO 3166-1 alpha-3
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(80))  # UN regional group
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="mission")


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(in_values("role", ROLES), name="role"),
        CheckConstraint("role != 'mission' OR mission_id IS NOT NULL", name="mission_user_has_mission"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    mission_id: Mapped[int | None] = mapped_column(ForeignKey("mission.id", ondelete="RESTRICT"))
    # Bumped on password change / deactivation so existing sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    mission: Mapped[Mission | None] = relationship(back_populates="users")
    memberships: Mapped[list[PanelMember]] = relationship(back_populates="user")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return bool(self.active)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class MagicLink(db.Model):  # type: ignore[name-defined]
    """A personal single-use sign-in link. Only the SHA-256 of the token is stored."""

    __tablename__ = "magic_link"
    __table_args__ = (CheckConstraint(in_values("purpose", ("signin", "invitation")), name="purpose"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20), default="signin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ApiToken(db.Model):  # type: ignore[name-defined]
    """Bearer token for API and socket clients; stored as SHA-256, shown once at creation."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="cli")
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
