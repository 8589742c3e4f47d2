"""Moderation: hide a message with a reason, mute for a time, remove from the room.

Nothing is deleted: a hidden message keeps its body (moderators still see it with the reason) and
every action is appended to the hash-chained audit log in the same transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panel.errors import NotFound, ValidationFailed
from panel.models import HandRaise, Message, Room, RoomMember, User
from panel.models.base import utcnow
from panel.services import audit

from .rooms import member_row


def _reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("reason is required: say why, it is kept in the audit log.", field="reason")
    if len(reason) > 500:
        raise ValidationFailed("reason must be at most 500 characters.", field="reason")
    return reason.strip()


def _int(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"{field} must be a whole number.", field=field)
    return value


def hide_message(session: Session, moderator: User, room: Room, seq: Any, reason: Any) -> Message:
    seq = _int(seq, "seq")
    why = _reason(reason)
    msg = session.execute(select(Message).where(Message.room_id == room.id, Message.seq == seq)).scalar_one_or_none()
    if msg is None:
        raise NotFound(f"No message {seq} in this room.", field="seq")
    if msg.hidden_at is not None:
        raise ValidationFailed("This message is already hidden.", field="seq", code="already_hidden")
    msg.hidden_at = utcnow()
    msg.hidden_by_id = moderator.id
    msg.hidden_reason = why
    audit.record(session, "message.hidden", actor_id=moderator.id, panel_id=room.panel_id, subject_type="message",
                 subject_id=msg.id, payload={"room": room.id, "seq": seq, "author": msg.author_id, "reason": why})
    session.commit()
    return msg


def _target(session: Session, room: Room, user_id: Any, moderator: User) -> RoomMember:
    uid = _int(user_id, "user_id")
    if uid == moderator.id:
        raise ValidationFailed("You cannot do this to yourself.", field="user_id")
    row = member_row(session, room.id, uid)
    if row is None:
        raise NotFound(f"User {uid} has not joined this room.", field="user_id")
    target = session.get(User, uid)
    if target is not None and target.role in ("admin", "facilitator"):
        raise ValidationFailed("Facilitators cannot be muted or removed.", field="user_id")
    return row


def mute(session: Session, moderator: User, room: Room, user_id: Any, minutes: Any, reason: Any = None) -> RoomMember:
    minutes = _int(minutes, "minutes")
    if not 0 <= minutes <= 24 * 60:
        raise ValidationFailed("minutes must be between 0 (unmute) and 1440.", field="minutes")
    row = _target(session, room, user_id, moderator)
    row.muted_until = utcnow() + timedelta(minutes=minutes) if minutes else None
    audit.record(session, "room.muted" if minutes else "room.unmuted", actor_id=moderator.id,
                 panel_id=room.panel_id, subject_type="user", subject_id=row.user_id,
                 payload={"room": room.id, "minutes": minutes,
                          "reason": reason.strip()[:500] if isinstance(reason, str) else None})
    session.commit()
    return row


def remove(session: Session, moderator: User, room: Room, user_id: Any, reason: Any) -> RoomMember:
    why = _reason(reason)
    row = _target(session, room, user_id, moderator)
    if row.removed_at is not None:
        raise ValidationFailed("This person was already removed.", field="user_id", code="already_removed")
    row.removed_at = utcnow()
    for hand in session.execute(select(HandRaise).where(
            HandRaise.room_id == room.id, HandRaise.user_id == row.user_id, HandRaise.lowered_at.is_(None))).scalars():
        hand.lowered_at = utcnow()
    audit.record(session, "room.removed", actor_id=moderator.id, panel_id=room.panel_id, subject_type="user",
                 subject_id=row.user_id, payload={"room": room.id, "reason": why})
    session.commit()
    return row


def nudge(session: Session, facilitator: User, room: Room, user_id: Any, text: Any) -> dict[str, Any]:
    uid = _int(user_id, "user_id")
    if member_row(session, room.id, uid) is None:
        raise NotFound(f"User {uid} has not joined this room.", field="user_id")
    if text is not None and (not isinstance(text, str) or len(text) > 300):
        raise ValidationFailed("text must be at most 300 characters.", field="text")
    return {"room": room.id, "from": facilitator.name,
            "text": (text or "").strip() or "We would love to hear from you — raise your hand or write a message."}
