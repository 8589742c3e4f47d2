"""Fixtures for rooms: a plenary in the world's panel, API tokens, Socket.IO test clients, live servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from deliberation.rooms import NAMESPACE
from panel.extensions import socketio
from panel.models import User
from panel.services import accounts
from tests.conftest import ROOT

from .factories import make_plenary


@pytest.fixture(autouse=True)
def _fresh_namespace_state() -> Iterator[None]:
    """The namespace is process-wide; ids repeat between tests, so forget rate buckets and presence."""
    from deliberation.namespace import namespace

    namespace.bucket = None
    namespace.presence = None
    yield
    namespace.presence = None


@pytest.fixture
def room(app: Any, db: Any, users: dict[str, Any]) -> Any:
    return make_plenary(db.session, users["facilitator"], users["panel"].id)


@pytest.fixture
def token(db: Any) -> Any:
    cache: dict[int, str] = {}

    def make(user: User) -> str:
        if user.id not in cache:
            cache[user.id] = accounts.create_api_token(db.session, user, name="test")
        return cache[user.id]
    return make


@pytest.fixture
def sio(app: Any, token: Any) -> Iterator[Any]:
    """Make flask_socketio test clients authenticated by API token."""
    made: list[Any] = []

    def make(user: User | None = None, auth: Any = None) -> Any:
        c = socketio.test_client(app, namespace=NAMESPACE, auth=auth if user is None else {"token": token(user)})
        made.append(c)
        return c
    yield make
    for c in made:
        if c.is_connected(NAMESPACE):
            c.disconnect(NAMESPACE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real server process (``python -m deliberation serve``) on a free loopback port."""

    def __init__(self, database_url: str, *, redis: bool = False, async_mode: str = "threading") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "LOG_JSON": "0", "SECRET_KEY": "live-test",
               "SOCKETIO_ASYNC_MODE": async_mode, "PGAPPNAME": f"pnyx-live-{self.port}"}
        if not redis:
            env.pop("REDIS_URL", None)
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"pnyx-server-{self.port}.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "deliberation", "serve", "--port", str(self.port)],
                                     cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


@pytest.fixture
def live_server(database_url: str) -> Iterator[Any]:
    started: list[Server] = []

    def start(**kwargs: Any) -> Server:
        s = Server(database_url, **kwargs)
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()
