"""Room pages: list/create, the live room, the console, and the text-only page (no JavaScript)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from panel.models import Message, Room
from tests import helpers

CID_RE = re.compile(r'name="client_id" value="([^"]+)"')


def test_facilitator_opens_a_room(client, auth, users, db):
    auth.as_user(users["facilitator"])
    url = f"/panels/{users['panel'].id}/rooms"
    token = helpers.csrf_token(client, url)
    r = client.post(url, data={"name": "Opening plenary", "turn_limit_s": "120", "csrf_token": token})
    assert r.status_code == 302
    room = db.session.execute(select(Room)).scalar_one()
    assert room.name == "Opening plenary" and room.turn_limit_s == 120 and room.kind == "plenary"


@pytest.mark.parametrize("form,field", [({"name": ""}, "name"), ({"name": "x", "turn_limit_s": "abc"}, "turn_limit_s"),
                                        ({"name": "x", "turn_limit_s": "5"}, "turn_limit_s")])
def test_open_room_bad_input(client, auth, users, db, form, field):
    auth.as_user(users["facilitator"])
    url = f"/panels/{users['panel'].id}/rooms"
    r = client.post(url, data={**form, "csrf_token": helpers.csrf_token(client, url)})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.get_data(as_text=True)
    assert db.session.execute(select(func.count(Room.id))).scalar_one() == 0


@pytest.mark.parametrize("role", ["citizen", "organizer", "other_facilitator"])
def test_only_facilitators_open_rooms(client, auth, users, db, role):
    auth.as_user(users[role])
    url = f"/panels/{users['panel'].id}/rooms"
    token = helpers.csrf_token(client, "/dashboard")
    r = client.post(url, data={"name": "Sneaky", "csrf_token": token})
    assert r.status_code == 403
    assert db.session.execute(select(func.count(Room.id))).scalar_one() == 0


@pytest.mark.parametrize("role,status", [("citizen", 200), ("facilitator", 200), ("observer", 200),
                                         ("other_citizen", 403), ("mission", 403)])
def test_room_page_access(client, auth, users, room, role, status):
    auth.as_user(users[role])
    r = client.get(f"/rooms/{room.id}")
    assert r.status_code == status
    if status == 200:
        html = r.get_data(as_text=True)
        assert "js/vendor/socket.io.min.js" in html and "cdn" not in html.lower()


def test_room_page_unknown_room(client, auth, users):
    auth.as_user(users["citizen"])
    assert client.get("/rooms/9999").status_code == 404


def test_socketio_client_is_served_locally(client):
    r = client.get("/static/js/vendor/socket.io.min.js")
    assert r.status_code == 200 and b"Socket.IO v4" in r.data


@pytest.mark.parametrize("role,status", [("facilitator", 200), ("admin", 200), ("citizen", 403), ("observer", 403)])
def test_console_access(client, auth, users, room, role, status):
    auth.as_user(users[role])
    assert client.get(f"/rooms/{room.id}/console").status_code == status


def test_signed_out_is_sent_to_signin(client, room):
    assert client.get(f"/rooms/{room.id}").status_code == 302


def test_text_only_room_posts_and_shows_messages(client, auth, users, room, db):
    auth.as_user(users["citizen"])
    page = client.get(f"/rooms/{room.id}/text")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'http-equiv="refresh"' in html and "<script" not in html
    write = client.get(f"/rooms/{room.id}/text/write").get_data(as_text=True)
    cid = CID_RE.search(write).group(1)
    token = helpers.csrf_token(client, f"/rooms/{room.id}/text/write")
    data = {"body": "Hello from a slow line", "client_id": cid, "csrf_token": token}
    r = client.post(f"/rooms/{room.id}/text", data=data)
    assert r.status_code == 303
    client.post(f"/rooms/{room.id}/text", data=data)  # a double submit is stored once
    assert db.session.execute(select(func.count(Message.id))).scalar_one() == 1
    assert "Hello from a slow line" in client.get(f"/rooms/{room.id}/text").get_data(as_text=True)


def test_text_only_bad_message_keeps_the_text(client, auth, users, room, db):
    auth.as_user(users["citizen"])
    token = helpers.csrf_token(client, f"/rooms/{room.id}/text/write")
    r = client.post(f"/rooms/{room.id}/text", data={"body": "x" * 2001, "client_id": "abc", "csrf_token": token})
    assert r.status_code == 422
    assert "2000" in r.get_data(as_text=True)
    assert db.session.execute(select(func.count(Message.id))).scalar_one() == 0


def test_text_only_hand_raise(client, auth, users, room):
    auth.as_user(users["citizen"])
    token = helpers.csrf_token(client, f"/rooms/{room.id}/text")
    r = client.post(f"/rooms/{room.id}/text", data={"action": "hand", "raised": "1", "csrf_token": token})
    assert r.status_code == 303
    assert "Lower my hand" in client.get(f"/rooms/{room.id}/text").get_data(as_text=True)


def test_text_only_observer_cannot_post(client, auth, users, room, db):
    auth.as_user(users["observer"])
    assert client.get(f"/rooms/{room.id}/text").status_code == 200
    token = helpers.csrf_token(client, f"/rooms/{room.id}/text")
    r = client.post(f"/rooms/{room.id}/text", data={"body": "hi", "client_id": "abc", "csrf_token": token})
    assert r.status_code == 403
    assert db.session.execute(select(func.count(Message.id))).scalar_one() == 0


def test_text_only_forbidden_for_outsiders(client, auth, users, room):
    auth.as_user(users["other_citizen"])
    assert client.get(f"/rooms/{room.id}/text").status_code == 403


@pytest.mark.parametrize("role,status", [("citizen", 200), ("observer", 302), ("other_citizen", 403)])
def test_text_write_page_access(client, auth, users, room, role, status):
    auth.as_user(users[role])
    assert client.get(f"/rooms/{room.id}/text/write").status_code == status
