"""Messages that are never lost: committed with a gap-free per-room ``seq`` before anyone sees them.

Messages are stored in batches (:func:`store_batch`; one message is a batch of one). For each room
of a batch, ``UPDATE room SET next_seq = next_seq + n ... RETURNING`` reserves ``n`` numbers and
takes the room row's lock, which serialises writers of that room across every server process until
commit; a rollback gives the numbers back, and numbers reserved for messages that turn out to be
refused or resends are handed back before commit, so committed messages of a room are numbered
1, 2, 3… without gaps or duplicates. Rooms are locked in id order, so two processes' batches
cannot deadlock. A resend with the same ``client_id`` (looked up once the room lock is held, so a
concurrent resend on another process has committed or not started) returns the message already
stored instead of a new one. One transaction — one commit, one WAL flush — serves the whole batch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panel.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from panel.models import Message, Room, RoomMember, User
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


@dataclass(frozen=True)
class Draft:
    """A validated message waiting to be stored: where, by whom, what."""

    room_id: int
    author_id: int
    client_id: str
    body: str


@dataclass(frozen=True)
class Stored:
    """The outcome for one draft: the message as broadcast, and False if it was a resend."""

    message: dict[str, Any]
    created: bool


Outcome = Stored | ServiceError


def _refusal(active: bool | None, member: Any, closed: bool, now: datetime) -> ServiceError | None:
    """Why this author may not post now (same rules and order as :func:`check_can_speak`), or None."""
    if not active:
        return PermissionDenied("Your session has ended; sign in again.", code="unauthorized")
    if member is not None and member.removed_at is not None:
        return PermissionDenied("A facilitator removed you from this room.", code="removed")
    if member is not None and member.muted_until is not None and _aware(member.muted_until) > now:
        return PermissionDenied(f"You are muted until {member.muted_until:%H:%M} UTC.", code="muted")
    if closed:
        return PermissionDenied("This room has closed; go back to the plenary.", code="room_closed")
    return None


def _aware(dt: datetime) -> datetime:
    from datetime import UTC

    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def store_batch(session: Session, drafts: Sequence[Draft]) -> list[Outcome]:
    """Store many messages (of any rooms) in one transaction; one outcome per draft, in order.

    Per room, messages get consecutive ``seq``s in the order of ``drafts``. A draft whose
    ``(room, author, client_id)`` is already stored — or appears earlier in the same batch — is a
    resend: its outcome is the stored message with ``created=False``. A refused draft (author
    inactive, removed or muted; room closed or gone) gets a ServiceError and uses no number.
    Raises on database errors (nothing is stored then) and IntegrityError if a concurrent resend
    committed between the lookup and the insert (:func:`store_each` then retries one by one).

    Round trips: two lookups before any lock is taken, then one ``UPDATE … RETURNING`` per room,
    one multi-row INSERT and the commit — the room locks are held only for those.
    """
    if not drafts:
        return []
    now = utcnow()
    outcomes: list[Outcome | None] = [None] * len(drafts)
    first: dict[tuple[int, int, str], int] = {}
    again: dict[int, int] = {}  # index of an in-batch repeat -> index of its first occurrence
    for i, d in enumerate(drafts):
        key = (d.room_id, d.author_id, d.client_id)
        if key in first:
            again[i] = first[key]
        else:
            first[key] = i
    rooms = sorted({d.room_id for d in drafts})
    authors = sorted({d.author_id for d in drafts})
    conn = session.connection()  # Core statements built once (below) on the session's transaction
    users: dict[int, tuple[bool, str, str | None]] = {}
    members: dict[tuple[int, int], Any] = {}
    for r in conn.execute(_AUTHORS, {"rooms": rooms, "authors": authors}):
        users[r.id] = (r.active, r.name, r.locale)
        if r.room_id is not None:
            members[(r.room_id, r.id)] = r
    stored: dict[tuple[int, int, str], Stored] = {
        (m.room_id, m.author_id, m.client_id): Stored(serialize(m, m.author_name), False)  # type: ignore[arg-type]
        for m in conn.execute(_RESENDS, {"rooms": rooms, "client_ids": sorted({d.client_id for d in drafts})})
    }
    by_room: dict[int, list[int]] = {}  # drafts to insert, per room, in order
    for i in sorted(first.values()):
        d = drafts[i]
        active, _name, _lang = users.get(d.author_id, (False, "", None))
        found = stored.get((d.room_id, d.author_id, d.client_id)) if active else None
        refused = None if found else _refusal(active, members.get((d.room_id, d.author_id)), False, now)
        if found is not None or refused is not None:
            outcomes[i] = found or refused
        else:
            by_room.setdefault(d.room_id, []).append(i)
    rows: list[dict[str, Any]] = []
    row_of: list[int] = []
    for rid in sorted(by_room):  # id order: two processes locking several rooms cannot deadlock
        ids = by_room[rid]
        got = conn.execute(_RESERVE, {"rid": rid, "n": len(ids)}).one_or_none()
        if got is None or got[1] is not None:
            gone = got is None
            for i in ids:
                outcomes[i] = (NotFound(f"No room with id {rid}.", field="room", code="unknown_room") if gone
                               else _refusal(True, None, True, now))
            if not gone:  # closed meanwhile: give the numbers back
                conn.execute(_RESERVE, {"rid": rid, "n": -len(ids)})
            continue
        for k, i in enumerate(ids):
            d = drafts[i]
            rows.append({"room_id": rid, "seq": got[0] - len(ids) + k, "author_id": d.author_id,
                         "client_id": d.client_id, "body": d.body, "lang": users[d.author_id][2],
                         "created_at": now})
            row_of.append(i)
    if rows:
        for i, row, mid in zip(row_of, rows, _insert(session, rows), strict=True):
            outcomes[i] = Stored(_plain(row, mid, users[row["author_id"]][1]), True)
    session.commit()
    for i, j in again.items():
        o = outcomes[j]
        outcomes[i] = Stored(o.message, False) if isinstance(o, Stored) else o
    return [o for o in outcomes if o is not None]


_ROOM = Room.__table__
_MSG = Message.__table__
_USER = User.__table__
_MEMBER = RoomMember.__table__

# The statements of a batch, built once: SQLAlchemy then only looks up their compiled form (building
# them anew for every batch cost about as much CPU as the database round trips, and left cyclic
# garbage — bound parameters, labels — for the garbage collector on every batch).
_AUTHORS = (
    select(_USER.c.id, _USER.c.active, _USER.c.name, _USER.c.locale, _MEMBER.c.room_id, _MEMBER.c.muted_until,
           _MEMBER.c.removed_at)
    .outerjoin(_MEMBER, and_(_MEMBER.c.user_id == _USER.c.id, _MEMBER.c.room_id.in_(bindparam("rooms", expanding=True))))
    .where(_USER.c.id.in_(bindparam("authors", expanding=True)))
)
_RESENDS = (
    select(*_MSG.c, _USER.c.name.label("author_name")).join(_USER, _USER.c.id == _MSG.c.author_id)
    .where(_MSG.c.room_id.in_(bindparam("rooms", expanding=True)),
           _MSG.c.client_id.in_(bindparam("client_ids", expanding=True)))
)
# Reserve n numbers (or give them back with a negative n) and take the room row's lock.
_RESERVE = (
    update(_ROOM).where(_ROOM.c.id == bindparam("rid")).values(next_seq=_ROOM.c.next_seq + bindparam("n"))
    .returning(_ROOM.c.next_seq, _ROOM.c.closed_at)
)
_INSERT = insert(_MSG).returning(_MSG.c.id, sort_by_parameter_order=True)


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert message rows (one multi-row statement); their ids, in order."""
    return list(session.connection().execute(_INSERT, rows).scalars())


def _plain(row: dict[str, Any], mid: int, author_name: str) -> dict[str, Any]:
    """The broadcast form of a message just inserted (as :func:`serialize` gives for a visible one)."""
    return {"room": row["room_id"], "seq": row["seq"], "id": mid, "client_id": row["client_id"],
            "author": {"id": row["author_id"], "name": author_name}, "body": row["body"],
            "created_at": iso(row["created_at"]), "hidden": False}


def store_each(session: Session, drafts: Sequence[Draft]) -> list[Outcome]:
    """:func:`store_batch` with a fallback: if the batch hits a unique-key race, store one by one."""
    try:
        return store_batch(session, drafts)
    except IntegrityError:
        session.rollback()
    out: list[Outcome] = []
    for d in drafts:
        try:
            out.extend(store_batch(session, [d]))
        except IntegrityError:
            # A concurrent resend committed between our lookup and insert: return what it stored.
            session.rollback()
            found = _existing(session, d.room_id, d.author_id, d.client_id)
            if found is None:
                raise
            out.append(Stored(serialize(found, found_name(session, found)), False))
    return out


def found_name(session: Session, msg: Message) -> str:
    return session.execute(select(User.name).where(User.id == msg.author_id)).scalar_one()


def post(session: Session, user: User, room: Room, body: Any, client_id: Any) -> tuple[dict[str, Any], bool]:
    """Store one message; returns (message, created). ``created`` is False for a resend."""
    text, cid = validate(body, client_id)
    outcome = store_each(session, [Draft(room.id, user.id, cid, text)])[0]
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome.message, outcome.created


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
