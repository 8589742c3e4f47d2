"""The speaking queue: hands raised in order, and the floor the facilitator gives and ends.

Each speaking turn is a row with its start and end, so speaking time per person is exact and
survives restarts; an optional per-turn limit gives everyone the same countdown deadline.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panel.errors import NotFound, ValidationFailed
from panel.models import HandRaise, Room, SpeakingTurn, User
from panel.models.base import utcnow

from .messages import check_can_speak
from .rooms import member_row


def set_hand(session: Session, user: User, room: Room, raised: Any) -> bool:
    if not isinstance(raised, bool):
        raise ValidationFailed("raised must be true or false.", field="raised")
    open_hand = session.execute(
        select(HandRaise).where(HandRaise.room_id == room.id, HandRaise.user_id == user.id,
                                HandRaise.lowered_at.is_(None))
    ).scalars().first()
    if raised and open_hand is None:
        check_can_speak(session, room, user, utcnow())
        session.add(HandRaise(room_id=room.id, user_id=user.id, raised_at=utcnow()))
    elif not raised and open_hand is not None:
        open_hand.lowered_at = utcnow()
    else:
        return False
    session.commit()
    return True


def _end_open_turns(session: Session, room_id: int) -> None:
    now = utcnow()
    for turn in session.execute(
        select(SpeakingTurn).where(SpeakingTurn.room_id == room_id, SpeakingTurn.ended_at.is_(None))
    ).scalars():
        turn.ended_at = now


def give_floor(session: Session, facilitator: User, room: Room, user_id: Any, limit_s: Any = None) -> SpeakingTurn:
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ValidationFailed("user_id must be a user id (integer).", field="user_id")
    if limit_s is None:
        limit_s = room.turn_limit_s
    elif not isinstance(limit_s, int) or isinstance(limit_s, bool) or not 10 <= limit_s <= 3600:
        raise ValidationFailed("limit_s must be between 10 and 3600 seconds.", field="limit_s")
    speaker = session.get(User, user_id)
    row = member_row(session, room.id, user_id)
    if speaker is None or (row is None and speaker.id != facilitator.id):
        raise NotFound(f"User {user_id} has not joined this room.", field="user_id")
    check_can_speak(session, room, speaker, utcnow())
    _end_open_turns(session, room.id)
    for hand in session.execute(
        select(HandRaise).where(HandRaise.room_id == room.id, HandRaise.user_id == user_id,
                                HandRaise.lowered_at.is_(None))
    ).scalars():
        hand.lowered_at = utcnow()
    turn = SpeakingTurn(room_id=room.id, user_id=user_id, granted_by_id=facilitator.id, limit_s=limit_s,
                        started_at=utcnow())
    session.add(turn)
    session.commit()
    return turn


def end_floor(session: Session, room: Room) -> bool:
    had = session.execute(
        select(SpeakingTurn.id).where(SpeakingTurn.room_id == room.id, SpeakingTurn.ended_at.is_(None))
    ).first() is not None
    _end_open_turns(session, room.id)
    session.commit()
    return had
