"""Rooms: who may enter which room, and the state everyone in it sees.

Participants (citizens, facilitators, admins) join the plenary of their panel and the breakout they
were assigned to; facilitators may visit any breakout; observers may watch plenaries only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panel.errors import NotFound, PermissionDenied, ValidationFailed
from panel.models import AgendaItem, DeliberationSession, HandRaise, Room, RoomMember, SpeakingTurn, User
from panel.models.base import utcnow
from panel.services import audit
from panel.services.permissions import authorize, can

NAMESPACE = "/rooms"


def channel(room_id: int) -> str:
    """Socket.IO room name for a deliberation room."""
    return f"room:{room_id}"


def user_channel(user_id: int) -> str:
    """Socket.IO room every connection of one user is in (for nudges, removals, breakout moves)."""
    return f"user:{user_id}"


@dataclass(frozen=True)
class Access:
    room_id: int
    panel_id: int
    can_post: bool
    can_facilitate: bool

    @property
    def observer(self) -> bool:
        return not self.can_post


def get_room(session: Session, room_id: Any) -> Room:
    if not isinstance(room_id, int) or isinstance(room_id, bool):
        raise ValidationFailed("room must be a room id (integer).", field="room")
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound(f"No room with id {room_id}.", field="room", code="unknown_room")
    return room


def member_row(session: Session, room_id: int, user_id: int) -> RoomMember | None:
    return session.execute(
        select(RoomMember).where(RoomMember.room_id == room_id, RoomMember.user_id == user_id)
    ).scalar_one_or_none()


def access(session: Session, user: User, room: Room) -> Access:
    """Decide what ``user`` may do in ``room``; raise PermissionDenied if they may not enter."""
    if can(session, user, "room.facilitate", room.panel_id):
        return Access(room.id, room.panel_id, True, True)
    if can(session, user, "room.join", room.panel_id):
        row = member_row(session, room.id, user.id)
        if row is not None and row.removed_at is not None:
            raise PermissionDenied("A facilitator removed you from this room.", code="removed")
        if room.kind == "breakout" and row is None:
            raise PermissionDenied("You are assigned to another group; go back to the plenary.",
                                   code="not_assigned")
        if room.closed_at is not None:
            raise PermissionDenied("This room has closed; go back to the plenary.", code="room_closed")
        return Access(room.id, room.panel_id, True, False)
    if room.kind == "plenary" and can(session, user, "room.observe", room.panel_id):
        return Access(room.id, room.panel_id, False, False)
    raise PermissionDenied("You cannot enter this room: it belongs to a panel you are not part of.")


def require_facilitator(session: Session, user: User, room: Room) -> None:
    authorize(session, user, "room.facilitate", room.panel_id)


def ensure_member(session: Session, room: Room, user: User) -> RoomMember:
    row = member_row(session, room.id, user.id)
    if row is None:
        row = RoomMember(room_id=room.id, user_id=user.id)
        session.add(row)
        session.flush()
    return row


def create_room(session: Session, user: User, panel_id: int, *, name: str, turn_limit_s: int | None = None,
                session_title: str | None = None) -> Room:
    """Open a plenary room for a panel (breakouts are made by :mod:`deliberation.breakouts`)."""
    authorize(session, user, "room.facilitate", panel_id)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("Room name is required (at most 120 characters).", field="name")
    if turn_limit_s is not None and not 10 <= turn_limit_s <= 3600:
        raise ValidationFailed("Speaking-turn limit must be between 10 and 3600 seconds.", field="turn_limit_s")
    ds = DeliberationSession(panel_id=panel_id, title=(session_title or name)[:200])
    session.add(ds)
    session.flush()
    room = Room(panel_id=panel_id, session_id=ds.id, kind="plenary", name=name, turn_limit_s=turn_limit_s)
    session.add(room)
    session.flush()
    audit.record(session, "room.created", actor_id=user.id, panel_id=panel_id, subject_type="room",
                 subject_id=room.id, payload={"name": name, "turn_limit_s": turn_limit_s})
    session.commit()
    return room


def list_rooms(session: Session, user: User, panel_id: int) -> list[Room]:
    if not (can(session, user, "room.join", panel_id) or can(session, user, "room.observe", panel_id)):
        authorize(session, user, "room.join", panel_id)
    rooms = session.execute(
        select(Room).where(Room.panel_id == panel_id).order_by(Room.kind.desc(), Room.round, Room.id)
    ).scalars().all()
    if can(session, user, "room.facilitate", panel_id):
        return list(rooms)
    mine = set(session.execute(select(RoomMember.room_id).where(
        RoomMember.user_id == user.id, RoomMember.removed_at.is_(None))).scalars())
    return [r for r in rooms if r.kind == "plenary" or (r.id in mine and r.closed_at is None)]


def current_breakout(session: Session, plenary: Room, user_id: int) -> Room | None:
    """The open breakout of ``plenary`` that ``user_id`` is assigned to, if any."""
    return session.execute(
        select(Room).join(RoomMember, RoomMember.room_id == Room.id).where(
            Room.parent_id == plenary.id, Room.closed_at.is_(None), RoomMember.user_id == user_id,
            RoomMember.removed_at.is_(None))
    ).scalars().first()


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def floor_state(session: Session, room: Room) -> dict[str, Any] | None:
    turn = session.execute(
        select(SpeakingTurn, User.name).join(User, User.id == SpeakingTurn.user_id)
        .where(SpeakingTurn.room_id == room.id, SpeakingTurn.ended_at.is_(None))
        .order_by(SpeakingTurn.id.desc()).limit(1)
    ).first()
    if turn is None:
        return None
    t, name = turn
    deadline = t.started_at + timedelta(seconds=t.limit_s) if t.limit_s else None
    return {"turn_id": t.id, "user_id": t.user_id, "name": name, "started_at": iso(t.started_at),
            "limit_s": t.limit_s, "deadline_at": iso(deadline)}


def queue_state(session: Session, room: Room) -> list[dict[str, Any]]:
    rows = session.execute(
        select(HandRaise, User.name).join(User, User.id == HandRaise.user_id)
        .where(HandRaise.room_id == room.id, HandRaise.lowered_at.is_(None)).order_by(HandRaise.raised_at)
    ).all()
    return [{"user_id": h.user_id, "name": name, "raised_at": iso(h.raised_at)} for h, name in rows]


def agenda_state(session: Session, room: Room) -> list[dict[str, Any]]:
    items = session.execute(
        select(AgendaItem).where(AgendaItem.room_id == room.id).order_by(AgendaItem.position, AgendaItem.id)
    ).scalars().all()
    return [{"id": a.id, "title": a.title, "duration_s": a.duration_s, "status": a.status,
             "started_at": iso(a.started_at), "deadline_at": iso(a.deadline_at)} for a in items]


def breakouts_state(session: Session, room: Room) -> list[dict[str, Any]]:
    if room.kind != "plenary":
        return []
    rows = session.execute(
        select(Room.id, Room.name, Room.round, func.count(RoomMember.id))
        .outerjoin(RoomMember, RoomMember.room_id == Room.id)
        .where(Room.parent_id == room.id, Room.closed_at.is_(None))
        .group_by(Room.id, Room.name, Room.round).order_by(Room.id)
    ).all()
    return [{"id": r[0], "name": r[1], "round": r[2], "members": r[3]} for r in rows]


def room_info(room: Room) -> dict[str, Any]:
    return {"id": room.id, "name": room.name, "kind": room.kind, "panel_id": room.panel_id,
            "parent_id": room.parent_id, "round": room.round, "turn_limit_s": room.turn_limit_s,
            "closed": room.closed_at is not None}


def room_state(session: Session, room: Room, presence: list[dict[str, Any]], observers: int) -> dict[str, Any]:
    """Everything shared by all viewers of a room (the per-viewer part is in the join answer)."""
    return {
        "room": room_info(room),
        "server_time": iso(utcnow()),
        "agenda": agenda_state(session, room),
        "floor": floor_state(session, room),
        "queue": queue_state(session, room),
        "presence": presence,
        "observers": observers,
        "breakouts": breakouts_state(session, room),
    }
