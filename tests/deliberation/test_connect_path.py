"""The connect and join paths under a burst: what they read and write, over real sockets.

A real Werkzeug server (threading, websocket) serves the app in this process on a free port, so
the tests can count the SQL statements each connect and join runs; clients are python-socketio's
own, over TCP. A burst of 1,000 connects used to cost 5 statements per connect and 11–13 per join
(a commit on every join expired and reloaded its rows); see docs/realtime.md, 2026-12-07.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import socketio
from sqlalchemy import event, select
from werkzeug.serving import make_server

from deliberation.rooms import NAMESPACE
from panel import create_app
from panel.extensions import db as _db
from panel.gc_tuning import parse_threshold
from panel.models import ApiToken, RoomMember
from panel.models.base import utcnow
from tests.conftest import ROOT, base_config

from .factories import add_citizens


class Served:
    """The app on a real port in this process, with every SQL statement it runs recorded."""

    def __init__(self, database_url: str) -> None:
        self.app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, SERVER_NAME=None,
                                          RATELIMIT_ENABLED=False))
        self.statements: list[str] = []
        self._lock = threading.Lock()
        with self.app.app_context():
            self.engine = _db.engine
        event.listen(self.engine, "before_cursor_execute", self._record)
        self.http = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        self.thread = threading.Thread(target=self.http.serve_forever, name="connect-path-server", daemon=True)
        self.thread.start()

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self._lock:
            self.statements.append(statement.split(None, 1)[0].upper())

    def take(self) -> list[str]:
        """Statement kinds (SELECT, UPDATE…) since the last call."""
        with self._lock:
            out, self.statements = self.statements, []
        return out

    def stop(self) -> None:
        self.http.shutdown()
        self.thread.join(10)
        event.remove(self.engine, "before_cursor_execute", self._record)
        self.engine.dispose()


@pytest.fixture
def served(database_url: str, app: Any) -> Iterator[Served]:
    s = Served(database_url)
    yield s
    s.stop()


def connect(url: str, token: str) -> socketio.Client:
    c = socketio.Client(reconnection=False)
    c.connect(url, namespaces=[NAMESPACE], auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return c


def join(c: socketio.Client, room_id: int, last_seq: int = 0) -> dict[str, Any]:
    return c.call("join", {"room": room_id, "last_seq": last_seq}, namespace=NAMESPACE, timeout=10)


def last_used(db: Any, token: str) -> Any:
    from panel.services.accounts import hash_secret

    db.session.rollback()
    return db.session.execute(select(ApiToken.last_used_at).where(ApiToken.token_hash == hash_secret(token))).scalar()


def test_token_connect_is_one_query_and_writes_last_used_at_at_most_every_5_minutes(served, db, users, token):
    tok = token(users["observer"])
    served.take()
    c = connect(served.url, tok)
    first = served.take()
    assert first.count("SELECT") == 1 and first.count("UPDATE") == 1, first  # the token's first use
    stamped = last_used(db, tok)
    assert stamped is not None
    c.disconnect()

    served.take()
    c = connect(served.url, tok)
    assert served.take() == ["SELECT"]  # used a moment ago: nothing written
    assert last_used(db, tok) == stamped
    c.disconnect()

    # Older than 5 minutes: written again.
    db.session.execute(ApiToken.__table__.update().values(last_used_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    c = connect(served.url, tok)
    assert last_used(db, tok) > stamped
    c.disconnect()


def test_revoked_tokens_and_deactivated_users_are_refused_on_connect(served, db, users, token):
    revoked, inactive = token(users["observer"]), token(users["citizen"])
    db.session.execute(ApiToken.__table__.update().where(ApiToken.user_id == users["observer"].id)
                       .values(revoked_at=utcnow()))
    users["citizen"].active = False
    db.session.commit()
    for tok in (revoked, inactive, "pnyx_not_a_token", "x" * 201):
        with pytest.raises(socketio.exceptions.ConnectionError):
            connect(served.url, tok)
    users["citizen"].active = True
    db.session.commit()
    connect(served.url, inactive).disconnect()


def test_observer_join_writes_nothing_and_skips_the_breakout_lookup(served, db, users, room, token):
    c = connect(served.url, token(users["observer"]))
    served.take()
    res = join(c, room.id, last_seq=10**9)
    kinds = served.take()
    assert "error" not in res and res["breakout"] is None and res["you"]["can_post"] is False
    assert not {"INSERT", "UPDATE", "DELETE"} & set(kinds), kinds
    assert len(kinds) <= 9, kinds  # user, room, history, agenda, floor, queue, breakouts, statements (+ permissions)
    c.disconnect()


def test_citizen_first_join_creates_the_membership_once(served, db, users, room, token):
    citizen = add_citizens(db.session, users["panel"].id, 1)[0]
    tok = token(citizen)
    a = connect(served.url, tok)
    served.take()
    res = join(a, room.id)
    assert "error" not in res and res["you"]["can_post"] is True and res["you"]["muted_until"] is None
    assert "INSERT" in served.take()
    db.session.rollback()
    rows = db.session.execute(select(RoomMember).where(RoomMember.room_id == room.id,
                                                       RoomMember.user_id == citizen.id)).scalars().all()
    assert len(rows) == 1

    b = connect(served.url, tok)  # a second tab: reads the membership, writes nothing
    served.take()
    assert "error" not in join(b, room.id)
    assert not {"INSERT", "UPDATE", "DELETE"} & set(served.take())
    db.session.rollback()
    assert db.session.execute(select(RoomMember).where(RoomMember.room_id == room.id,
                                                       RoomMember.user_id == citizen.id)).scalars().all() == rows
    a.disconnect()
    b.disconnect()


def test_join_last_seq_matches_the_backlog_it_returns(served, db, users, room, token):
    citizen = add_citizens(db.session, users["panel"].id, 1)[0]
    poster = connect(served.url, token(citizen))
    assert "error" not in join(poster, room.id)
    for i in range(3):
        ack = poster.call("message", {"room": room.id, "body": f"m{i}", "client_id": f"c{i}"},
                          namespace=NAMESPACE, timeout=10)
        assert ack["seq"] == i + 1
    watcher = connect(served.url, token(users["observer"]))
    res = join(watcher, room.id, last_seq=0)
    assert [m["seq"] for m in res["messages"]] == [1, 2, 3] and res["last_seq"] == 3 and res["more"] is False
    res = join(watcher, room.id, last_seq=2)
    assert [m["seq"] for m in res["messages"]] == [3] and res["last_seq"] == 3
    res = join(watcher, room.id, last_seq=10**9)  # nothing to replay: still the room's last seq
    assert res["messages"] == [] and res["last_seq"] == 3
    poster.disconnect()
    watcher.disconnect()


def test_gc_threshold_parsing() -> None:
    assert parse_threshold("50000,20,100") == (50000, 20, 100)
    assert parse_threshold([700, 10, 10]) == (700, 10, 10)
    for bad in ("1,2", "0,10,10", "a,b,c", "1,2,3,4"):
        with pytest.raises(ValueError):
            parse_threshold(bad)


_PROBE = """
import gc, json
from panel import create_app, gc_tuning
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
done = gc_tuning.apply(app)
print(json.dumps({"done": done, "threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


@pytest.mark.parametrize(("env", "threshold", "frozen"), [
    ({}, [50000, 20, 100], True),
    ({"GC_THRESHOLD": "20000,10,50"}, [20000, 10, 50], True),
    ({"GC_FREEZE": "0"}, [700, 10, 10], False),
])
def test_server_processes_freeze_start_up_objects(env: dict[str, str], threshold: list[int], frozen: bool) -> None:
    """In a fresh interpreter (freezing this one would keep every test's app alive)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GC_")}
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env={**clean, "LOG_JSON": "0", **env},
                         capture_output=True, text=True, timeout=120, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["threshold"] == threshold
    assert (got["frozen"] > 10_000) is frozen and (got["done"] is not None) is frozen


def test_direct_writes_are_on_by_default_and_switch_off(database_url, app, monkeypatch):
    from deliberation import direct_write_enabled, fanout
    from panel.extensions import socketio as ext

    monkeypatch.delenv("SOCKETIO_DIRECT_WRITE", raising=False)
    default = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url))
    assert direct_write_enabled(default) and ext.server.eio._async["queue"] is fanout.FanoutQueue
    off = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, SOCKETIO_DIRECT_WRITE="0"))
    assert not direct_write_enabled(off) and ext.server.eio._async["queue"] is not fanout.FanoutQueue
    monkeypatch.setenv("SOCKETIO_DIRECT_WRITE", "0")
    assert not direct_write_enabled(create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url)))
    monkeypatch.setenv("SOCKETIO_DIRECT_WRITE", "1")
    assert direct_write_enabled(create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url)))


def test_the_default_app_writes_room_broadcasts_directly_in_order(database_url, app, db, users, room, token,
                                                                  monkeypatch):
    from deliberation import fanout

    monkeypatch.delenv("SOCKETIO_DIRECT_WRITE", raising=False)
    s = Served(database_url)
    try:
        citizen = add_citizens(db.session, users["panel"].id, 1)[0]
        got: list[int] = []
        watcher = socketio.Client(reconnection=False)
        watcher.on("message", lambda m: got.append(m["seq"]), namespace=NAMESPACE)
        watcher.connect(s.url, namespaces=[NAMESPACE], auth={"token": token(users["observer"])},
                        transports=["websocket"], wait_timeout=10)
        assert "error" not in join(watcher, room.id, last_seq=10**9)
        poster = connect(s.url, token(citizen))
        assert "error" not in join(poster, room.id)
        before = fanout.stats["direct"]
        for i in range(8):  # within the per-user burst (ROOM_MESSAGE_BURST = 10)
            ack = poster.call("message", {"room": room.id, "body": f"m{i}", "client_id": f"d{i}"},
                              namespace=NAMESPACE, timeout=10)
            assert ack["seq"] == i + 1
        pause = threading.Event()
        for _ in range(200):
            if len(got) >= 8:
                break
            pause.wait(0.05)
        assert got == list(range(1, 9))
        assert fanout.stats["direct"] - before >= 8  # the watcher's copies at least (the poster's too)
        watcher.disconnect()
        poster.disconnect()
    finally:
        s.stop()
