"""Messages that are never lost: committed with a gap-free per-room ``seq`` before anyone sees them.

``seq`` comes from ``UPDATE room SET next_seq = next_seq + 1 ... RETURNING``: the row lock it takes
serialises writers of one room across every server process until commit, and a rollback gives the
number back, so committed messages of a room are numbered 1, 2, 3… without gaps or duplicates.
A resend with the same ``client_id`` returns the message already stored instead of a new one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panel.errors import PermissionDenied, ValidationFailed
from panel.models import Message, Room, User
from panel.models.base import utcnow

from .rooms import iso

MAX_BODY = 2000
MAX_HISTORY = 500
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def validate(body: Any, client_id: Any) -> tuple[str, str]:
    if not isinstance(body, str) or not body.strip():
        raise ValidationFailed("body must be a non-empty text.", field="body", code="empty_message")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"body is longer than {MAX_BODY} characters.", field="body", code="too_long")
    if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise ValidationFailed("client_id must be 1–64 letters, digits or _.:-", field="client_id")
    return body.strip(), client_id


def serialize(msg: Message, author_name: str, *, moderator: bool = False) -> dict[str, Any]:
    hidden = msg.hidden_at is not None
    out: dict[str, Any] = {
        "room": msg.room_id, "seq": msg.seq, "id": msg.id, "client_id": msg.client_id,
        "author": {"id": msg.author_id, "name": author_name},
        "body": None if hidden and not moderator else msg.body,
        "created_at": iso(msg.created_at), "hidden": hidden,
    }
    if hidden and moderator:
        out["hidden_reason"] = msg.hidden_reason
    return out


def _existing(session: Session, room_id: int, author_id: int, client_id: str) -> Message | None:
    return session.execute(
        select(Message).where(Message.room_id == room_id, Message.author_id == author_id,
                              Message.client_id == client_id)
    ).scalar_one_or_none()


def check_can_speak(session: Session, room: Room, user: User, now: datetime) -> None:
    from .rooms import member_row

    row = member_row(session, room.id, user.id)
    if row is not None and row.removed_at is not None:
        raise PermissionDenied("A facilitator removed you from this room.", code="removed")
    if row is not None and row.muted_until is not None and row.muted_until > now:
        raise PermissionDenied(f"You are muted until {row.muted_until:%H:%M} UTC.", code="muted")
    if room.closed_at is not None:
        raise PermissionDenied("This room has closed; go back to the plenary.", code="room_closed")


def post(session: Session, user: User, room: Room, body: Any, client_id: Any) -> tuple[dict[str, Any], bool]:
    """Store a message; returns (message, created). ``created`` is False for a resend."""
    text, cid = validate(body, client_id)
    found = _existing(session, room.id, user.id, cid)
    if found is not None:
        return serialize(found, user.name), False
    check_can_speak(session, room, user, utcnow())
    seq = session.execute(
        update(Room).where(Room.id == room.id).values(next_seq=Room.next_seq + 1)
        .returning(Room.next_seq).execution_options(synchronize_session=False)
    ).scalar_one() - 1
    # A concurrent resend may have committed while we waited for the room lock.
    found = _existing(session, room.id, user.id, cid)
    if found is not None:
        session.rollback()
        return serialize(found, user.name), False
    msg = Message(room_id=room.id, seq=seq, author_id=user.id, client_id=cid, body=text,
                  lang=getattr(user, "locale", None), created_at=utcnow())
    session.add(msg)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        found = _existing(session, room.id, user.id, cid)
        if found is None:
            raise
        return serialize(found, user.name), False
    return serialize(msg, user.name), True


def history(session: Session, room_id: int, after_seq: Any, *, moderator: bool = False,
            limit: int = MAX_HISTORY) -> list[dict[str, Any]]:
    """Messages with ``seq > after_seq`` in order (at most ``limit``; ask again from the last one)."""
    if after_seq is None:
        after_seq = 0
    if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
        raise ValidationFailed("last_seq must be a whole number ≥ 0.", field="last_seq")
    rows = session.execute(
        select(Message, User.name).join(User, User.id == Message.author_id)
        .where(Message.room_id == room_id, Message.seq > after_seq).order_by(Message.seq).limit(limit)
    ).all()
    return [serialize(m, name, moderator=moderator) for m, name in rows]


def recent(session: Session, room_id: int, count: int, *, moderator: bool = False) -> list[dict[str, Any]]:
    """The last ``count`` messages in seq order (the text-only page shows these)."""
    rows = session.execute(
        select(Message, User.name).join(User, User.id == Message.author_id)
        .where(Message.room_id == room_id).order_by(Message.seq.desc()).limit(count)
    ).all()
    return [serialize(m, name, moderator=moderator) for m, name in reversed(rows)]
