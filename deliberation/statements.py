"""Statements put to the room and agree / disagree / pass reactions (the Pol.is pattern).

The reaction matrix (statement × person) is what the bridging analysis in voting reads: see
:func:`reaction_matrix`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panel.errors import NotFound, ValidationFailed
from panel.models import Reaction, Room, Statement, User
from panel.models.base import utcnow
from panel.models.deliberation import REACTIONS

from .messages import check_can_speak
from .rooms import iso

MAX_STATEMENT = 280


def counts(session: Session, statement_ids: list[int]) -> dict[int, dict[str, int]]:
    out = {sid: dict.fromkeys(REACTIONS, 0) for sid in statement_ids}
    if statement_ids:
        for sid, value, n in session.execute(
            select(Reaction.statement_id, Reaction.value, func.count(Reaction.id))
            .where(Reaction.statement_id.in_(statement_ids)).group_by(Reaction.statement_id, Reaction.value)
        ):
            out[sid][value] = n
    return out


def serialize(st: Statement, author_name: str, tally: dict[str, int], mine: str | None = None) -> dict[str, Any]:
    return {"id": st.id, "room": st.room_id, "body": st.body, "author": {"id": st.author_id, "name": author_name},
            "created_at": iso(st.created_at), "counts": tally, "mine": mine}


def list_for(session: Session, room: Room, viewer_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Statement, User.name).join(User, User.id == Statement.author_id)
        .where(Statement.room_id == room.id, Statement.hidden_at.is_(None)).order_by(Statement.id)
    ).all()
    ids = [s.id for s, _ in rows]
    tally = counts(session, ids)
    mine = dict(session.execute(select(Reaction.statement_id, Reaction.value).where(
        Reaction.statement_id.in_(ids), Reaction.user_id == viewer_id)).all()) if ids else {}
    return [serialize(s, name, tally[s.id], mine.get(s.id)) for s, name in rows]


def put(session: Session, user: User, room: Room, body: Any) -> dict[str, Any]:
    if not isinstance(body, str) or not body.strip():
        raise ValidationFailed("body must be a non-empty statement.", field="body", code="empty_statement")
    if len(body) > MAX_STATEMENT:
        raise ValidationFailed(f"A statement is at most {MAX_STATEMENT} characters.", field="body", code="too_long")
    check_can_speak(session, room, user, utcnow())
    st = Statement(room_id=room.id, author_id=user.id, body=body.strip(), created_at=utcnow())
    session.add(st)
    session.commit()
    return serialize(st, user.name, dict.fromkeys(REACTIONS, 0))


def react(session: Session, user: User, room: Room, statement_id: Any, value: Any) -> dict[str, Any]:
    if not isinstance(statement_id, int) or isinstance(statement_id, bool):
        raise ValidationFailed("statement_id must be a statement id (integer).", field="statement_id")
    if value not in REACTIONS:
        raise ValidationFailed(f"value must be one of: {', '.join(REACTIONS)}.", field="value")
    st = session.get(Statement, statement_id)
    if st is None or st.room_id != room.id or st.hidden_at is not None:
        raise NotFound(f"No statement {statement_id} in this room.", field="statement_id")
    row = session.execute(select(Reaction).where(Reaction.statement_id == st.id, Reaction.user_id == user.id)
                          ).scalar_one_or_none()
    if row is None:
        session.add(Reaction(statement_id=st.id, user_id=user.id, value=value, created_at=utcnow()))
    else:
        row.value = value
    try:
        session.commit()
    except IntegrityError:  # a double click raced itself: the other request stored it
        session.rollback()
    return {"room": room.id, "statement_id": st.id, "counts": counts(session, [st.id])[st.id]}


def reaction_matrix(session: Session, panel_id: int) -> dict[int, dict[int, str]]:
    """statement id → {user id → agree|disagree|pass} for every room of a panel (input to bridging)."""
    out: dict[int, dict[int, str]] = {}
    for sid, uid, value in session.execute(
        select(Reaction.statement_id, Reaction.user_id, Reaction.value).join(Statement)
        .join(Room, Room.id == Statement.room_id).where(Room.panel_id == panel_id, Statement.hidden_at.is_(None))
    ):
        out.setdefault(sid, {})[uid] = value
    return out
