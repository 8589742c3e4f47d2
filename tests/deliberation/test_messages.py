"""Storing messages in batches: gap-free seqs per room, resends, refusals that use no number."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from deliberation.messages import Draft, Stored, store_batch, store_each
from panel.errors import ServiceError
from panel.models import Message, Room, RoomMember
from panel.models.base import utcnow

from .factories import add_citizens, make_plenary


def seqs(db, room_id):
    db.session.expire_all()
    return [(m.seq, m.author_id, m.client_id, m.body) for m in db.session.execute(
        select(Message).where(Message.room_id == room_id).order_by(Message.seq)).scalars()]


def next_seq(db, room_id):
    db.session.expire_all()
    return db.session.get(Room, room_id).next_seq


def test_one_batch_numbers_each_room_in_order_and_resends_are_not_stored_twice(db, users, room):
    other = make_plenary(db.session, users["facilitator"], users["panel"].id, name="Other")
    a, b = add_citizens(db.session, users["panel"].id, 2)
    first = store_batch(db.session, [Draft(room.id, a.id, "a1", "hello")])
    assert isinstance(first[0], Stored) and first[0].message["seq"] == 1 and first[0].created
    out = store_batch(db.session, [
        Draft(room.id, b.id, "b1", "one"),
        Draft(other.id, a.id, "a1", "in the other room"),  # same client_id, other room: a new message
        Draft(room.id, a.id, "a1", "hello again"),          # resend of a stored message
        Draft(room.id, a.id, "a2", "two"),
        Draft(room.id, b.id, "b1", "one"),                  # resend within the batch
        Draft(other.id, b.id, "b9", "second there"),
    ])
    assert all(isinstance(o, Stored) for o in out)
    got = [(o.message["room"], o.message["seq"], o.created) for o in out if isinstance(o, Stored)]
    assert got == [(room.id, 2, True), (other.id, 1, True), (room.id, 1, False), (room.id, 3, True),
                   (room.id, 2, False), (other.id, 2, True)]
    assert out[2].message["body"] == "hello" and out[4].message["id"] == out[0].message["id"]
    assert seqs(db, room.id) == [(1, a.id, "a1", "hello"), (2, b.id, "b1", "one"), (3, a.id, "a2", "two")]
    assert seqs(db, other.id) == [(1, a.id, "a1", "in the other room"), (2, b.id, "b9", "second there")]
    assert next_seq(db, room.id) == 4 and next_seq(db, other.id) == 3
    # The broadcast form is what serialize() gives for the stored row.
    assert out[0].message["author"] == {"id": b.id, "name": b.name} and out[0].message["hidden"] is False


def test_refused_drafts_use_no_number_and_store_nothing(db, users, room):
    a, b, c, d = add_citizens(db.session, users["panel"].id, 4)
    db.session.add_all([RoomMember(room_id=room.id, user_id=b.id, muted_until=utcnow() + timedelta(minutes=5)),
                        RoomMember(room_id=room.id, user_id=c.id, removed_at=utcnow())])
    d.active = False
    db.session.commit()
    out = store_batch(db.session, [
        Draft(room.id, b.id, "m", "muted"), Draft(room.id, a.id, "x1", "fine"),
        Draft(room.id, c.id, "r", "removed"), Draft(room.id, d.id, "i", "inactive"),
        Draft(room.id, a.id, "x2", "fine too"), Draft(10**6, a.id, "u", "no such room"),
    ])
    codes = [o.code if isinstance(o, ServiceError) else o.message["seq"] for o in out]
    assert codes == ["muted", 1, "removed", "unauthorized", 2, "unknown_room"]
    assert [s for s, *_ in seqs(db, room.id)] == [1, 2] and next_seq(db, room.id) == 3
    # Unmuting takes effect on the very next message: the check reads the database each batch.
    db.session.execute(RoomMember.__table__.update().where(RoomMember.user_id == b.id).values(muted_until=None))
    db.session.commit()
    assert store_batch(db.session, [Draft(room.id, b.id, "m", "unmuted")])[0].message["seq"] == 3


def test_closed_room_refuses_but_a_resend_still_gets_its_stored_message(db, users, room):
    (a,) = add_citizens(db.session, users["panel"].id, 1)
    store_batch(db.session, [Draft(room.id, a.id, "k", "before closing")])
    db.session.get(Room, room.id).closed_at = utcnow()
    db.session.commit()
    out = store_batch(db.session, [Draft(room.id, a.id, "k", "before closing"), Draft(room.id, a.id, "n", "new")])
    assert isinstance(out[0], Stored) and not out[0].created and out[0].message["seq"] == 1
    assert isinstance(out[1], ServiceError) and out[1].code == "room_closed"
    assert next_seq(db, room.id) == 2


def test_store_each_returns_the_stored_message_for_a_resend(db, users, room):
    (a,) = add_citizens(db.session, users["panel"].id, 1)
    (first,) = store_each(db.session, [Draft(room.id, a.id, "same", "body")])
    (again,) = store_each(db.session, [Draft(room.id, a.id, "same", "body")])
    assert isinstance(first, Stored) and isinstance(again, Stored)
    assert again.message == first.message and first.created and not again.created
