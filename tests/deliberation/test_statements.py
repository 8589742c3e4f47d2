"""Statements put to the room and agree / disagree / pass reactions."""

from __future__ import annotations

import pytest

from deliberation import statements
from deliberation.rooms import NAMESPACE

from .factories import received


def ev(c, name, room_id, **data):
    return c.emit(name, {"room": room_id, **data}, namespace=NAMESPACE, callback=True)


def test_statement_and_reactions(sio, db, users, room):
    c, f = sio(users["citizen"]), sio(users["facilitator"])
    ev(c, "join", room.id)
    ev(f, "join", room.id)
    f.get_received(NAMESPACE)
    sid = ev(c, "statement", room.id, body="Citizens should see the data first.")["id"]
    assert received(f, "statement")[0]["body"] == "Citizens should see the data first."
    assert ev(f, "react", room.id, statement_id=sid, value="agree")["counts"]["agree"] == 1
    assert ev(c, "react", room.id, statement_id=sid, value="disagree")["counts"] == {
        "agree": 1, "disagree": 1, "pass": 0}
    changed = ev(c, "react", room.id, statement_id=sid, value="pass")  # changing one's mind replaces
    assert changed["counts"] == {"agree": 1, "disagree": 0, "pass": 1}
    assert received(f, "reactions")[-1]["counts"]["pass"] == 1
    joined = ev(c, "join", room.id)
    assert joined["statements"][0]["mine"] == "pass"
    assert statements.reaction_matrix(db.session, users["panel"].id) == {
        sid: {users["facilitator"].id: "agree", users["citizen"].id: "pass"}}


@pytest.mark.parametrize("data,field", [({"body": ""}, "body"), ({"body": "x" * 281}, "body"), ({"body": 3}, "body")])
def test_bad_statements(sio, users, room, data, field):
    c = sio(users["citizen"])
    ev(c, "join", room.id)
    assert ev(c, "statement", room.id, **data)["error"]["field"] == field


@pytest.mark.parametrize("data,field", [({"statement_id": 999, "value": "agree"}, "statement_id"),
                                        ({"statement_id": "1", "value": "agree"}, "statement_id"),
                                        ({"statement_id": 1, "value": "love"}, "value")])
def test_bad_reactions(sio, users, room, data, field):
    c = sio(users["citizen"])
    ev(c, "join", room.id)
    ev(c, "statement", room.id, body="A statement")
    assert ev(c, "react", room.id, **data)["error"]["field"] == field


def test_observers_cannot_put_statements_or_react(sio, users, room):
    c, o = sio(users["citizen"]), sio(users["observer"])
    ev(c, "join", room.id)
    ev(o, "join", room.id)
    sid = ev(c, "statement", room.id, body="A statement")["id"]
    assert ev(o, "statement", room.id, body="mine")["error"]["code"] == "observer"
    assert ev(o, "react", room.id, statement_id=sid, value="agree")["error"]["code"] == "observer"
