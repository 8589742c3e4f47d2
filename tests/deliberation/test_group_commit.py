"""Group commit: concurrent posters share transactions; each gets its own seq; publish follows commit."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from deliberation.group_commit import GroupCommit
from deliberation.messages import Draft, Outcome, Stored, store_each
from panel.extensions import db as _db
from panel.models import Message

from .factories import add_citizens, make_plenary


def test_concurrent_posts_share_batches_and_stay_gap_free(app, db, users, room):
    other = make_plenary(db.session, users["facilitator"], users["panel"].id, name="Other")
    people = add_citizens(db.session, users["panel"].id, 12)
    rooms = [room.id, other.id]
    gc: GroupCommit[Draft, Outcome] = GroupCommit()
    published: list[tuple[int, int]] = []
    committed_when_published: list[bool] = []
    first_call = threading.Event()

    def store(drafts):
        if not first_call.is_set():
            first_call.set()
            # Hold the first batch until every other poster is queued, so the second batch is big.
            deadline = time.monotonic() + 10
            while len(gc._queue) < len(people) * 3 - len(drafts) and time.monotonic() < deadline:
                time.sleep(0.005)
        return store_each(_db.session, drafts)

    def publish(done):
        for d, o in done:
            assert isinstance(o, Stored)
            published.append((d.room_id, o.message["seq"]))
            with _db.engine.connect() as conn:  # another connection: is it visible (committed) yet?
                committed_when_published.append(conn.execute(
                    select(Message.id).where(Message.id == o.message["id"])).first() is not None)
        return [None] * len(done)

    acks: dict[tuple[int, str], int] = {}
    errors: list[BaseException] = []

    def poster(k: int) -> None:
        try:
            with app.app_context():
                for i in range(3):
                    d = Draft(rooms[k % 2], people[k].id, f"p{k}-{i}", f"person {k} says {i}")
                    out = gc.submit(d, store, publish)
                    assert isinstance(out, Stored) and out.created
                    acks[(d.room_id, d.client_id)] = out.message["seq"]
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=poster, args=(k,)) for k in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert gc.drafts == 36 and gc.batches < gc.drafts, "concurrent posts should share transactions"
    assert all(committed_when_published)
    db.session.expire_all()
    for rid in rooms:
        rows = db.session.execute(select(Message).where(Message.room_id == rid).order_by(Message.seq)).scalars().all()
        assert [m.seq for m in rows] == list(range(1, 19))
        assert {(rid, m.client_id): m.seq for m in rows} == {k: v for k, v in acks.items() if k[0] == rid}
        assert [s for r, s in published if r == rid] == list(range(1, 19)), "broadcast in seq order"


def test_a_failed_batch_reaches_exactly_its_drafts(app, db, users, room):
    (a,) = add_citizens(db.session, users["panel"].id, 1)
    gc: GroupCommit[Draft, Outcome] = GroupCommit()
    calls = []

    def store(drafts):
        calls.append(len(drafts))
        if len(calls) == 1:
            raise ConnectionError("database restarting")
        return store_each(_db.session, drafts)

    with app.app_context():
        try:
            gc.submit(Draft(room.id, a.id, "x", "lost?"), store, lambda done: [None] * len(done))
            raise AssertionError("the error should reach the poster")
        except ConnectionError:
            pass
        out = gc.submit(Draft(room.id, a.id, "x", "lost?"), store, lambda done: [None] * len(done))
    assert isinstance(out, Stored) and out.created and out.message["seq"] == 1
