"""Speaking queue, floor, agenda timers, equity, nudges and audited moderation over the namespace."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from deliberation.rooms import NAMESPACE
from panel.models import AuditEvent, Message, SpeakingTurn
from panel.services import audit

from .factories import add_citizens, received


def ev(c, name, room_id, **data):
    return c.emit(name, {"room": room_id, **data}, namespace=NAMESPACE, callback=True)


@pytest.fixture
def pair(sio, users, room):
    f, c = sio(users["facilitator"]), sio(users["citizen"])
    ev(f, "join", room.id)
    ev(c, "join", room.id)
    f.get_received(NAMESPACE)
    c.get_received(NAMESPACE)
    return f, c


FACILITATOR_EVENTS = [
    ("floor_give", {"user_id": 1}), ("floor_end", {}), ("agenda_add", {"title": "t", "duration_s": 60}),
    ("agenda_start", {"item_id": 1}), ("agenda_extend", {"item_id": 1, "seconds": 60}),
    ("agenda_done", {"item_id": 1}), ("equity", {}), ("nudge", {"user_id": 1}),
    ("hide", {"seq": 1, "reason": "r"}), ("mute", {"user_id": 1, "minutes": 5}),
    ("remove", {"user_id": 1, "reason": "r"}), ("breakouts_open", {}), ("breakouts_close", {}),
]


@pytest.mark.parametrize("name,data", FACILITATOR_EVENTS)
def test_citizens_cannot_use_facilitator_events(pair, room, db, name, data):
    f, c = pair
    before = db.session.execute(select(AuditEvent.id)).all()
    res = ev(c, name, room.id, **data)
    assert res["error"]["code"] == "forbidden"
    assert received(f, "state") == [] and c.is_connected(NAMESPACE)
    assert db.session.execute(select(AuditEvent.id)).all() == before


def test_hand_queue_and_floor_with_durations(pair, users, room, db):
    f, c = pair
    assert ev(c, "hand", room.id, raised=True) == {"ok": True}
    state = received(f, "state")[-1]
    assert [q["user_id"] for q in state["queue"]] == [users["citizen"].id]
    assert ev(c, "hand", room.id, raised="yes")["error"]["field"] == "raised"
    res = ev(f, "floor_give", room.id, user_id=users["citizen"].id, limit_s=90)
    assert "turn_id" in res
    state = received(c, "state")[-1]
    assert state["floor"]["user_id"] == users["citizen"].id and state["queue"] == []
    deadline = datetime.fromisoformat(state["floor"]["deadline_at"])
    started = datetime.fromisoformat(state["floor"]["started_at"])
    assert (deadline - started).total_seconds() == 90
    assert ev(f, "floor_end", room.id) == {"ok": True}
    assert received(c, "state")[-1]["floor"] is None
    turn = db.session.execute(select(SpeakingTurn)).scalar_one()
    assert turn.ended_at is not None and turn.limit_s == 90


@pytest.mark.parametrize("data,field", [({"user_id": "x"}, "user_id"), ({"user_id": 99999}, "user_id"),
                                        ({"user_id": 4, "limit_s": 5}, "limit_s")])
def test_floor_bad_input(pair, room, data, field):
    f, _ = pair
    assert ev(f, "floor_give", room.id, **data)["error"]["field"] == field


def test_agenda_timer_shared_by_everyone(pair, room):
    f, c = pair
    item = ev(f, "agenda_add", room.id, title="Introductions", duration_s=300)["item_id"]
    started = ev(f, "agenda_start", room.id, item_id=item)
    state = received(c, "state")[-1]
    running = [a for a in state["agenda"] if a["status"] == "running"][0]
    assert running["deadline_at"] == started["deadline_at"] and state["server_time"]
    extended = ev(f, "agenda_extend", room.id, item_id=item, seconds=120)
    delta = datetime.fromisoformat(extended["deadline_at"]) - datetime.fromisoformat(started["deadline_at"])
    assert delta.total_seconds() == 120
    assert ev(f, "agenda_done", room.id, item_id=item) == {"ok": True}
    assert received(c, "state")[-1]["agenda"][0]["status"] == "done"


@pytest.mark.parametrize("data,field", [({"title": "", "duration_s": 60}, "title"),
                                        ({"title": "x", "duration_s": 0}, "duration_s"),
                                        ({"title": "x" * 201, "duration_s": 60}, "title")])
def test_agenda_bad_input(pair, room, data, field):
    f, _ = pair
    assert ev(f, "agenda_add", room.id, **data)["error"]["field"] == field


def test_equity_by_person_and_group(sio, db, users, room):
    citizens = add_citizens(db.session, users["panel"].id, 4)
    f = sio(users["facilitator"])
    ev(f, "join", room.id)
    clients = [sio(u) for u in citizens]
    for cl in clients:
        ev(cl, "join", room.id)
    ev(clients[0], "message", room.id, body="I think…", client_id="e1")
    ev(clients[0], "message", room.id, body="and also…", client_id="e2")
    ev(f, "floor_give", room.id, user_id=citizens[1].id)
    ev(f, "floor_end", room.id)
    st = ev(f, "equity", room.id)
    people = {p["user_id"]: p for p in st["people"]}
    assert people[citizens[0].id]["messages"] == 2 and people[citizens[1].id]["turns"] == 1
    assert people[citizens[2].id]["quiet"] is True
    assert set(st["groups"]) == {"region", "gender", "age_band"}
    for groups in st["groups"].values():
        assert sum(g["people"] for g in groups) == len(st["people"])
        assert abs(sum(g["message_share"] for g in groups) - 1) < 0.01


def test_nudge_reaches_only_that_person(pair, sio, users, room):
    f, c = pair
    assert ev(f, "nudge", room.id, user_id=users["citizen"].id) == {"ok": True}
    assert received(c, "nudge") and received(f, "nudge") == []


def test_hide_message_is_audited_and_kept(pair, sio, users, room, db):
    f, c = pair
    ev(c, "message", room.id, body="something rude", client_id="h1")
    assert ev(f, "hide", room.id, seq=1, reason="")["error"]["field"] == "reason"
    assert ev(f, "hide", room.id, seq=1, reason="insult")["ok"] is True
    assert received(c, "message_hidden")[0]["seq"] == 1
    msg = db.session.execute(select(Message)).scalar_one()
    assert msg.body == "something rude" and msg.hidden_reason == "insult"
    seen_by_citizen = ev(c, "history", room.id, last_seq=0)["messages"][0]
    assert seen_by_citizen["hidden"] is True and seen_by_citizen["body"] is None
    seen_by_moderator = ev(f, "history", room.id, last_seq=0)["messages"][0]
    assert seen_by_moderator["body"] == "something rude" and seen_by_moderator["hidden_reason"] == "insult"
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "message.hidden")).scalars().all()
    assert len(events) == 1 and events[0].payload["reason"] == "insult"
    assert audit.verify(db.session).ok
    assert ev(f, "hide", room.id, seq=99, reason="x")["error"]["field"] == "seq"


def test_mute_blocks_posting_until_unmuted(pair, users, room, db):
    f, c = pair
    res = ev(f, "mute", room.id, user_id=users["citizen"].id, minutes=5, reason="flooding")
    assert res["ok"] and res["until"]
    assert received(c, "muted")
    blocked = ev(c, "message", room.id, body="hello?", client_id="m1")
    assert blocked["error"]["code"] == "muted"
    assert db.session.execute(select(Message)).first() is None
    assert ev(c, "hand", room.id, raised=True)["error"]["code"] == "muted"
    ev(f, "mute", room.id, user_id=users["citizen"].id, minutes=0)
    assert ev(c, "message", room.id, body="hello again", client_id="m2")["seq"] == 1
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.action.like("room.%"))).scalars().all()
    assert "room.muted" in actions and "room.unmuted" in actions


def test_mute_bad_input(pair, users, room):
    f, _ = pair
    assert ev(f, "mute", room.id, user_id=users["citizen"].id, minutes=-1)["error"]["field"] == "minutes"
    assert ev(f, "mute", room.id, user_id=users["facilitator"].id, minutes=5)["error"]["field"] == "user_id"
    assert ev(f, "mute", room.id, user_id=99999, minutes=5)["error"]["field"] == "user_id"


def test_remove_from_room(pair, sio, users, room, db):
    f, c = pair
    res = ev(f, "remove", room.id, user_id=users["citizen"].id, reason="harassment")
    assert res == {"ok": True}
    assert received(c, "removed")
    assert ev(c, "message", room.id, body="still here?", client_id="r1")["error"]["code"] in ("not_joined", "removed")
    again = sio(users["citizen"])
    assert ev(again, "join", room.id)["error"]["code"] == "removed"
    ev(f, "message", room.id, body="moving on", client_id="r2")
    assert received(c, "message") == []  # no longer in the room's broadcast
    ev_row = db.session.execute(select(AuditEvent).where(AuditEvent.action == "room.removed")).scalar_one()
    assert ev_row.payload["reason"] == "harassment"
