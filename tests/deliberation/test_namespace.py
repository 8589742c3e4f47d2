"""The /rooms namespace at unit level: auth, join/replay, messages, errors (flask_socketio test client)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberation.rooms import NAMESPACE
from panel.extensions import socketio
from panel.models import Message, Room
from tests import helpers

from .factories import received


def join(c, room_id, last_seq=0):
    return c.emit("join", {"room": room_id, "last_seq": last_seq}, namespace=NAMESPACE, callback=True)


def send(c, room_id, body, cid):
    return c.emit("message", {"room": room_id, "body": body, "client_id": cid}, namespace=NAMESPACE, callback=True)


def count_messages(db, room_id):
    return db.session.execute(select(func.count(Message.id)).where(Message.room_id == room_id)).scalar_one()


# -- connect ------------------------------------------------------------------------------------
def test_connect_refused_without_auth(app, sio):
    c = sio(auth=None)
    assert not c.is_connected(NAMESPACE)


def test_connect_refused_with_bad_token(app, sio):
    c = sio(auth={"token": "pnyx_not-a-token"})
    assert not c.is_connected(NAMESPACE)


def test_connect_with_token(app, sio, users):
    assert sio(users["citizen"]).is_connected(NAMESPACE)


def test_connect_with_session_cookie(app, client, auth, users, room):
    auth.as_user(users["citizen"])
    c = socketio.test_client(app, namespace=NAMESPACE, flask_test_client=client)
    assert c.is_connected(NAMESPACE)
    assert "state" in join(c, room.id)
    c.disconnect(NAMESPACE)


# -- join -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["citizen", "facilitator", "admin"])
def test_participants_join(sio, users, room, role):
    res = join(sio(users[role]), room.id)
    assert res["state"]["room"]["id"] == room.id
    assert res["you"]["can_post"] is True
    assert res["you"]["can_facilitate"] is (role != "citizen")


@pytest.mark.parametrize("role", ["other_citizen", "other_facilitator", "mission", "other_organizer"])
def test_outsiders_cannot_join(sio, users, room, role):
    res = join(sio(users[role]), room.id)
    assert res["error"]["code"] == "forbidden"


def test_observer_watches_plenary_but_cannot_post(sio, users, room):
    c = sio(users["observer"])
    res = join(c, room.id)
    assert res["you"]["can_post"] is False
    assert send(c, room.id, "hello", "x1")["error"]["code"] == "observer"


@pytest.mark.parametrize("payload,code", [
    ("not-an-object", "bad_payload"), ({"room": "1"}, "validation_failed"), ({"room": 99999}, "unknown_room"),
    ({"room": True}, "validation_failed"),
])
def test_join_bad_input(sio, users, room, payload, code):
    c = sio(users["citizen"])
    res = c.emit("join", payload, namespace=NAMESPACE, callback=True)
    assert res["error"]["code"] == code
    assert c.is_connected(NAMESPACE)


def test_join_negative_last_seq(sio, users, room):
    res = join(sio(users["citizen"]), room.id, last_seq=-1)
    assert res["error"]["field"] == "last_seq"


# -- messages ---------------------------------------------------------------------------------------
def test_message_acked_with_seq_and_broadcast(db, sio, users, room):
    a, b = sio(users["citizen"]), sio(users["facilitator"])
    join(a, room.id)
    join(b, room.id)
    b.get_received(NAMESPACE)
    assert send(a, room.id, "first", "c1") == {"seq": 1, "id": 1, "duplicate": False}
    assert send(a, room.id, "second", "c2")["seq"] == 2
    got = received(b, "message")
    assert [m["seq"] for m in got] == [1, 2]
    assert got[0]["body"] == "first" and got[0]["author"]["name"] == users["citizen"].name
    assert db.session.get(Room, room.id).next_seq == 3


def test_message_idempotent_on_client_id(db, sio, users, room):
    a = sio(users["citizen"])
    join(a, room.id)
    first = send(a, room.id, "once", "same-id")
    again = send(a, room.id, "once", "same-id")
    assert again["seq"] == first["seq"] and again["duplicate"] is True
    assert count_messages(db, room.id) == 1


def test_other_users_may_reuse_a_client_id(db, sio, users, room):
    a, b = sio(users["citizen"]), sio(users["facilitator"])
    join(a, room.id)
    join(b, room.id)
    assert send(a, room.id, "a", "dup")["seq"] == 1
    assert send(b, room.id, "b", "dup")["seq"] == 2


@pytest.mark.parametrize("body,cid,field", [
    ("", "c", "body"), ("   ", "c", "body"), ("x" * 2001, "c", "body"), (None, "c", "body"), (["x"], "c", "body"),
    ("ok", "", "client_id"), ("ok", "bad id with spaces", "client_id"), ("ok", "x" * 65, "client_id"),
    ("ok", None, "client_id"),
])
def test_bad_messages_are_refused_and_not_stored(db, sio, users, room, body, cid, field):
    a, b = sio(users["citizen"]), sio(users["facilitator"])
    join(a, room.id)
    join(b, room.id)
    b.get_received(NAMESPACE)
    res = send(a, room.id, body, cid)
    assert res["error"]["field"] == field
    assert received(b, "message") == []
    assert count_messages(db, room.id) == 0
    assert a.is_connected(NAMESPACE)


def test_message_without_join_is_refused(db, sio, users, room):
    a = sio(users["citizen"])
    assert send(a, room.id, "hi", "c1")["error"]["code"] == "not_joined"
    assert count_messages(db, room.id) == 0


def test_flood_is_rate_limited(db, sio, users, room):
    a = sio(users["citizen"])
    join(a, room.id)
    results = [send(a, room.id, f"m{i}", f"f{i}") for i in range(25)]
    ok = [r for r in results if "seq" in r]
    limited = [r for r in results if "error" in r]
    assert limited and limited[0]["error"]["code"] == "rate_limited"
    assert count_messages(db, room.id) == len(ok)
    assert a.is_connected(NAMESPACE)


def test_join_replays_after_last_seq(sio, users, room):
    a = sio(users["citizen"])
    join(a, room.id)
    for i in range(5):
        send(a, room.id, f"m{i}", f"r{i}")
    b = sio(users["facilitator"])
    res = join(b, room.id, last_seq=3)
    assert [m["seq"] for m in res["messages"]] == [4, 5]
    assert res["last_seq"] == 5
    hist = b.emit("history", {"room": room.id, "last_seq": 1}, namespace=NAMESPACE, callback=True)
    assert [m["seq"] for m in hist["messages"]] == [2, 3, 4, 5]


def test_names_and_bodies_are_data_not_markup(db, sio, users, room, client, auth):
    a = sio(users["citizen"])
    join(a, room.id)
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    send(a, room.id, evil, "xss")
    assert join(a, room.id)["messages"][0]["body"] == evil  # stored verbatim, escaped where rendered
    auth.as_user(users["facilitator"])
    html = client.get(f"/rooms/{room.id}/text").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_presence_updates_and_cleans_up_on_disconnect(sio, users, room):
    f = sio(users["facilitator"])
    join(f, room.id)
    c = sio(users["citizen"])
    res = join(c, room.id)
    assert {p["user_id"] for p in res["state"]["presence"]} == {users["facilitator"].id, users["citizen"].id}
    f.get_received(NAMESPACE)
    c.disconnect(NAMESPACE)
    pres = received(f, "presence")
    assert pres and {p["user_id"] for p in pres[-1]["presence"]} == {users["facilitator"].id}


def test_observer_presence_is_counted_not_listed(sio, users, room):
    f = sio(users["facilitator"])
    join(f, room.id)
    o = sio(users["observer"])
    res = join(o, room.id)
    assert users["observer"].id not in {p["user_id"] for p in res["state"]["presence"]}
    assert res["state"]["observers"] == 1


def test_leave(sio, users, room):
    a = sio(users["citizen"])
    join(a, room.id)
    assert a.emit("leave", {"room": room.id}, namespace=NAMESPACE, callback=True) == {"ok": True}
    assert send(a, room.id, "hi", "after-leave")["error"]["code"] == "not_joined"


def test_connection_token_of_deactivated_user_stops_working(db, sio, users, room):
    from panel.services import accounts

    a = sio(users["citizen"])
    join(a, room.id)
    accounts.update_user(db.session, users["citizen"], actor_id=None, active=False)
    assert send(a, room.id, "hi", "x")["error"]["code"] == "unauthorized"


def test_room_list_visible_to_members(client, auth, users, room):
    auth.as_user(users["citizen"])
    assert "Plenary" in client.get(f"/panels/{users['panel'].id}/rooms").get_data(as_text=True)


def test_helpers_world_has_room(room):
    assert room.kind == "plenary" and helpers.PASSWORD


@pytest.mark.parametrize("name,data", [("history", {"last_seq": 0}), ("leave", {}), ("hand", {"raised": True}),
                                       ("statement", {"body": "x"}), ("react", {"statement_id": 1, "value": "agree"})])
def test_room_events_need_a_joined_room(sio, users, room, name, data):
    c = sio(users["other_citizen"])
    assert join(c, room.id)["error"]["code"] == "forbidden"
    res = c.emit(name, {"room": room.id, **data}, namespace=NAMESPACE, callback=True)
    assert res["error"]["code"] == "not_joined"


def test_observer_cannot_raise_a_hand(sio, users, room):
    o = sio(users["observer"])
    join(o, room.id)
    assert o.emit("hand", {"room": room.id, "raised": True}, namespace=NAMESPACE, callback=True)["error"]["code"] == "observer"
