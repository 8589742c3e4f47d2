"""Real server processes, real python-socketio clients over loopback sockets.

Long-polling fallback, two processes sharing a Redis message queue, a process killed mid-room,
and the database connections dropped mid-session.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from deliberation.client import RoomClient
from panel.models import Message
from tests.conftest import PG_URL, REDIS_URL, need
from tests.helpers import wait_until

from .factories import add_citizens


def committed(db: Any, room_id: int) -> list[tuple[int, str]]:
    db.session.rollback()
    db.session.expire_all()
    return [(m.seq, m.body) for m in db.session.execute(
        select(Message).where(Message.room_id == room_id).order_by(Message.seq)).scalars()]


def check_exactly_committed(clients: list[RoomClient], db: Any, room_id: int) -> list[tuple[int, str]]:
    rows = committed(db, room_id)
    assert [s for s, _ in rows] == list(range(1, len(rows) + 1)), "committed seqs must have no gaps"
    for c in clients:
        assert wait_until(lambda c=c: c.last_seq == len(rows)), f"client stuck at {c.last_seq}/{len(rows)}"
        assert [(m["seq"], m["body"]) for m in c.delivered] == rows
    return rows


@pytest.fixture
def people(db: Any, users: dict[str, Any], room: Any, token: Any) -> list[str]:
    citizens = add_citizens(db.session, users["panel"].id, 6)
    return [token(u) for u in citizens]


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch) -> str:
    """A Redis channel of our own: other test runs may share this Redis."""
    name = f"pnyx-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("SOCKETIO_CHANNEL", name)
    return name


def test_websocket_and_long_polling_clients_share_a_room(live_server, db, room, people):
    server = live_server()
    ws = RoomClient(server.url, people[0], room.id)
    poll = RoomClient(server.url, people[1], room.id, transports=["polling"])
    ws.connect()
    poll.connect()
    assert poll.sio.transport() == "polling" and ws.sio.transport() == "websocket"
    for i in range(5):
        assert ws.send(f"ws {i}") is not None
        assert poll.send(f"poll {i}") is not None
    check_exactly_committed([ws, poll], db, room.id)
    late = RoomClient(server.url, people[2], room.id, transports=["polling"])
    late.connect()  # joins with last_seq 0: replays everything
    check_exactly_committed([late], db, room.id)
    for c in (ws, poll, late):
        c.close()


def test_connect_without_credentials_is_refused(live_server, room):
    import socketio

    server = live_server()
    c = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        c.connect(server.url, namespaces=["/rooms"], wait_timeout=5)
    c2 = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        c2.connect(server.url, namespaces=["/rooms"], auth={"token": "pnyx_wrong"}, wait_timeout=5)


def _chat(clients: list[RoomClient], per_client: int, pause: float = 0.01) -> None:
    def talk(c: RoomClient, k: int) -> None:
        for i in range(per_client):
            c.send(f"client {k} message {i}")
            time.sleep(pause)
    threads = [threading.Thread(target=talk, args=(c, k)) for k, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


@pytest.mark.redis
def test_two_processes_every_client_sees_every_message_once_in_order(live_server, db, room, people, channel):
    need(bool(REDIS_URL), "REDIS_URL is needed for the Socket.IO message queue")
    a, b = live_server(redis=True), live_server(redis=True)
    clients = [RoomClient(a.url if i % 2 == 0 else b.url, tok, room.id) for i, tok in enumerate(people)]
    for c in clients:
        c.connect()
    _chat(clients, per_client=10)  # within the per-user burst allowance: nothing rate-limited
    rows = check_exactly_committed(clients, db, room.id)
    assert len(rows) == 10 * len(clients)
    for c in clients:
        assert sorted(c.raw_seqs) == list(range(1, len(rows) + 1)), "each broadcast arrives exactly once"
        assert not c.outbox and not c.errors
    for c in clients:
        c.close()


@pytest.mark.redis
def test_killing_a_process_mid_room_loses_and_duplicates_nothing(live_server, db, room, people, channel):
    need(bool(REDIS_URL), "REDIS_URL is needed for the Socket.IO message queue")
    a, b = live_server(redis=True), live_server(redis=True)
    clients = [RoomClient([a.url, b.url] if i % 2 == 0 else [b.url, a.url], tok, room.id)
               for i, tok in enumerate(people)]
    for c in clients:
        c.connect()
    sent: dict[int, list[str]] = {k: [] for k in range(len(clients))}

    def talk(c: RoomClient, k: int) -> None:
        for i in range(10):
            body = f"client {k} message {i}"
            c.send(body, client_id=f"k{k}-{i}")
            sent[k].append(body)
            time.sleep(0.05)

    threads = [threading.Thread(target=talk, args=(c, k)) for k, c in enumerate(clients)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    a.kill()  # mid-room: some messages in flight, some committed but maybe not broadcast
    for t in threads:
        t.join(60)
    def drained() -> bool:
        for c in clients:
            if c.joined.is_set() and c.outbox:
                c.resend()
        return all(c.joined.is_set() and not c.outbox for c in clients)

    assert wait_until(drained, timeout=30, step=0.5), [len(c.outbox) for c in clients]
    rows = check_exactly_committed(clients, db, room.id)
    bodies = [body for _, body in rows]
    assert len(bodies) == len(set(bodies)), "a resend was stored twice"
    assert sorted(bodies) == sorted(b for k in sent for b in sent[k]), "every message sent is stored once"
    for c in clients:
        c.close()


@pytest.mark.postgres
def test_database_connections_dropped_mid_session_recover(live_server, db, room, people):
    need(bool(PG_URL), "DATABASE_URL (PostgreSQL) is needed to drop database connections")
    server = live_server()
    c1, c2 = RoomClient(server.url, people[0], room.id), RoomClient(server.url, people[1], room.id)
    c1.connect()
    c2.connect()
    assert c1.send("before") == 1
    admin = create_engine(PG_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # what a database restart does to the server's pooled connections
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE application_name = :app"), {"app": f"pnyx-live-{server.port}"}).scalar()
    admin.dispose()
    assert killed >= 1
    assert wait_until(lambda: c2.send("after") is not None or False, timeout=20)
    check_exactly_committed([c1, c2], db, room.id)
    c1.close()
    c2.close()


def test_server_uses_requested_async_mode(live_server, room, people):
    server = live_server()
    import requests

    r = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    assert r.status_code == 200 and r.text.startswith("0{")
    assert os.path.exists(server.log)
