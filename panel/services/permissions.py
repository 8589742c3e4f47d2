"""The one permission table: role × action × panel membership.

``member`` means the user needs an active membership of the panel in question; ``any`` means the
role alone suffices. Services call :func:`authorize`; views never decide access on their own.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import PermissionDenied
from ..models import PanelMember, User

Scope = Literal["any", "member"]

PERMISSIONS: dict[str, dict[str, Scope]] = {
    "panel.list": {"admin": "any", "organizer": "any", "facilitator": "any", "observer": "any",
                   "citizen": "any", "mission": "any"},
    "panel.view": {"admin": "any", "observer": "any", "organizer": "member", "facilitator": "member",
                   "citizen": "member"},
    "panel.create": {"admin": "any", "organizer": "any"},
    "panel.update": {"admin": "any", "organizer": "member"},
    "pool.manage": {"admin": "any", "organizer": "member"},
    "pool.view": {"admin": "any", "organizer": "member", "observer": "any"},
    "lottery.run": {"admin": "any", "organizer": "member"},
    "member.manage": {"admin": "any", "organizer": "member"},
    "room.join": {"admin": "any", "facilitator": "member", "citizen": "member"},
    "room.observe": {"admin": "any", "observer": "any", "organizer": "member", "facilitator": "member"},
    "room.facilitate": {"admin": "any", "facilitator": "member"},
    "poll.manage": {"admin": "any", "organizer": "member", "facilitator": "member"},
    "poll.vote": {"citizen": "member"},
    "proposal.create": {"admin": "any", "organizer": "member", "facilitator": "member", "citizen": "member"},
    "recommendation.sign": {"citizen": "member"},
    "recommendation.publish": {"admin": "any", "facilitator": "member", "organizer": "member"},
    "response.write": {"mission": "any"},
    "recommendation.view": {"admin": "any", "observer": "any", "organizer": "member", "facilitator": "member",
                            "citizen": "member"},
    "recommendation.manage": {"admin": "any", "organizer": "member", "facilitator": "member"},
    "mission.invite": {"admin": "any", "organizer": "any"},
    "outbox.view": {"admin": "any", "organizer": "any"},
    "webhook.manage": {"admin": "any", "organizer": "any"},
    "user.view": {"admin": "any", "organizer": "any"},
    "user.admin": {"admin": "any"},
    "audit.view": {"admin": "any", "observer": "any"},
    "token.create": {"admin": "any", "organizer": "any", "facilitator": "any"},
}

MEMBER_STATUSES_WITH_RIGHTS = ("active", "accepted")


def is_member(session: Session, user: User, panel_id: int) -> bool:
    row = session.execute(
        select(PanelMember.id).where(
            PanelMember.panel_id == panel_id,
            PanelMember.user_id == user.id,
            PanelMember.status.in_(MEMBER_STATUSES_WITH_RIGHTS),
        )
    ).first()
    return row is not None


def can(session: Session, user: User | None, action: str, panel_id: int | None = None) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    scope = PERMISSIONS[action].get(user.role)
    if scope is None:
        return False
    if scope == "any":
        return True
    return panel_id is not None and is_member(session, user, panel_id)


def authorize(session: Session, user: User | None, action: str, panel_id: int | None = None) -> None:
    if not can(session, user, action, panel_id):
        raise PermissionDenied("You do not have permission to do this.", code="forbidden")
