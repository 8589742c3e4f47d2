"""Direct websocket writes (deliberation/fanout.py): real sockets, real python-socketio clients.

A bare python-socketio server (threading mode, Werkzeug) with the fan-out installed runs in this
process, so the tests can broadcast from their own threads and read the fan-out's counters.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import socketio
from werkzeug.serving import make_server
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol

from deliberation import fanout
from tests import helpers

wait_until = functools.partial(helpers.wait_until, step=0.02)  # fan-out waits are short: poll finely



class BareServer:
    def __init__(self, direct: bool = True, **options: Any) -> None:
        self.sio = socketio.Server(async_mode="threading", **options)
        self.installed = fanout.install(self.sio) if direct else False
        self.connected: set[str] = set()
        self.disconnected: set[str] = set()

        @self.sio.event
        def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
            self.sio.enter_room(sid, "r")
            self.connected.add(sid)

        @self.sio.event
        def disconnect(sid: str, *args: Any) -> None:
            self.disconnected.add(sid)

        self.http = make_server("127.0.0.1", 0, socketio.WSGIApp(self.sio), threaded=True)
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.thread.join(10)


@pytest.fixture
def server() -> Iterator[BareServer]:
    s = BareServer()
    yield s
    s.stop()


class Listener:
    """A python-socketio client that records every ``m`` event it receives."""

    def __init__(self, url: str, transports: list[str] | None = None) -> None:
        self.got: list[Any] = []
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("m", self.got.append)
        self.sio.connect(url, transports=transports or ["websocket"], wait_timeout=10)

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            pass


def close_all(clients: list[Listener]) -> None:
    """Disconnect in parallel (a python-socketio client's disconnect waits ~3 s for the close handshake)."""
    threads = [threading.Thread(target=c.close) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)


def stats_delta(before: dict[str, int]) -> dict[str, int]:
    return {k: fanout.stats[k] - before[k] for k in fanout.stats}


def test_frame_matches_wsproto() -> None:
    proto = FrameProtocol(client=False, extensions=[])
    for n in (0, 1, 125, 126, 127, 1000, 65535, 65536, 70000):
        text = "é" * (n // 2) + "x" * (n % 2)
        assert fanout.frame(text) == bytes(proto.send_data(text, fin=True))
        data = os.urandom(n)
        assert fanout.frame(data) == bytes(proto.send_data(data, fin=True))


def test_broadcast_reaches_websocket_and_polling_clients_once_in_order(server: BareServer) -> None:
    before = dict(fanout.stats)
    ws = [Listener(server.url) for _ in range(6)]
    poll = [Listener(server.url, ["polling"]) for _ in range(3)]
    assert wait_until(lambda: len(server.connected) == 9)
    assert all(c.sio.transport() == "websocket" for c in ws)
    assert all(c.sio.transport() == "polling" for c in poll)
    n = 300
    for i in range(n):
        server.sio.emit("m", {"i": i, "pad": "x" * (i % 7) * 100}, to="r")
        time.sleep(0.002)  # python-socketio's polling *client* drops out under an unpaced burst (with or without this)
    for c in ws + poll:
        assert wait_until(lambda c=c: len(c.got) >= n), len(c.got)
    time.sleep(0.2)
    for c in ws + poll:
        assert [m["i"] for m in c.got] == list(range(n))
    d = stats_delta(before)
    assert d["attached"] == 6  # the websockets only
    assert d["direct"] >= n * 6 * 0.9, d  # nearly everything written by the broadcasting thread
    close_all(ws + poll)


def test_upgrade_from_polling_then_direct(server: BareServer) -> None:
    before = dict(fanout.stats)
    c = Listener(server.url, ["polling", "websocket"])
    assert wait_until(lambda: c.sio.transport() == "websocket")
    assert wait_until(lambda: stats_delta(before)["attached"] == 1)
    for i in range(50):
        server.sio.emit("m", {"i": i}, to="r")
    assert wait_until(lambda: len(c.got) == 50)
    assert [m["i"] for m in c.got] == list(range(50))
    c.close()


def test_concurrent_broadcasts_from_several_threads_keep_frames_whole_and_each_sender_in_order(
        server: BareServer) -> None:
    clients = [Listener(server.url) for _ in range(6)]
    assert wait_until(lambda: len(server.connected) == 6)
    senders, per = 4, 50
    sizes = [10, 200, 5000, 70000]  # 70 kB frames use the 8-byte length and fill socket buffers

    def send(k: int) -> None:
        for i in range(per):
            server.sio.emit("m", {"k": k, "i": i, "pad": "y" * sizes[(i + k) % 4]}, to="r")

    threads = [threading.Thread(target=send, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in clients:
        assert wait_until(lambda c=c: len(c.got) >= senders * per, timeout=60), len(c.got)
    time.sleep(0.2)
    for c in clients:
        assert len(c.got) == senders * per
        for k in range(senders):
            mine = [m for m in c.got if m["k"] == k]
            assert [m["i"] for m in mine] == list(range(per))
            assert all(m["pad"] == "y" * sizes[(m["i"] + k) % 4] for m in mine)
    close_all(clients)


def test_a_client_dropping_mid_broadcast_does_not_break_the_others(server: BareServer) -> None:
    stay = [Listener(server.url) for _ in range(5)]
    leave = [Listener(server.url) for _ in range(5)]
    assert wait_until(lambda: len(server.connected) == 10)
    leave_sids = {c.sio.get_sid() for c in leave}
    n = 400
    done = threading.Event()

    def broadcast() -> None:
        for i in range(n):
            server.sio.emit("m", {"i": i, "pad": "z" * 2000}, to="r")
        done.set()

    t = threading.Thread(target=broadcast)
    t.start()
    time.sleep(0.01)
    for c in leave:  # abrupt: the TCP connection goes away under the broadcast
        sock = c.sio.eio.ws.sock
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    t.join(60)
    assert done.is_set()
    for c in stay:
        assert wait_until(lambda c=c: len(c.got) >= n), len(c.got)
        assert [m["i"] for m in c.got] == list(range(n))
    assert wait_until(lambda: leave_sids <= server.disconnected)
    # the server noticed the dropped connections and still serves new clients
    late = Listener(server.url)
    server.sio.emit("m", {"i": -1}, to="r")
    assert wait_until(lambda: late.got == [{"i": -1}])
    for c in stay:
        assert wait_until(lambda c=c: c.got[-1] == {"i": -1})
    close_all(stay + [late])
    close_all(leave)


# -- raw websocket clients (not reading; permessage-deflate) -----------------------------------------

class RawClient:
    """Engine.IO v4 over a raw websocket, to control reading and extensions."""

    def __init__(self, url: str, *, deflate: bool = False, rcvbuf: int | None = None) -> None:
        host, port = url.split("//")[1].split(":")
        self.sock = socket.create_connection((host, int(port)))
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=host, target="/socket.io/?EIO=4&transport=websocket",
                                               extensions=[PerMessageDeflate()] if deflate else [])))
        self.texts: list[str] = []
        self._part = ""
        self.accepted: AcceptConnection | None = None
        while self.accepted is None:
            self._read_some()
        self._until(lambda: any(t.startswith("0") for t in self.texts))  # engine.io open
        self.send("40")  # socket.io connect to "/"
        self._until(lambda: any(t.startswith("40") for t in self.texts))

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def _read_some(self, timeout: float = 10) -> None:
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.ws.receive_data(data)
        for ev in self.ws.events():
            if isinstance(ev, AcceptConnection):
                self.accepted = ev
            elif isinstance(ev, TextMessage):  # a large frame arrives in parts
                self._part += ev.data
                if not ev.message_finished:
                    continue
                text, self._part = self._part, ""
                if text == "2":
                    self.send("3")  # engine.io ping -> pong
                self.texts.append(text)

    def _until(self, cond: Any, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, "timed out"
            self._read_some(max(0.01, deadline - time.monotonic()))

    def events(self) -> list[Any]:
        return [json.loads(t[2:])[1] for t in self.texts if t.startswith("42")]


def test_a_client_that_stops_reading_does_not_hold_up_the_others(server: BareServer) -> None:
    before = dict(fanout.stats)
    slow = RawClient(server.url, rcvbuf=4096)
    fast = [Listener(server.url) for _ in range(3)]
    assert wait_until(lambda: len(server.connected) == 4)
    for s in server.sio.eio.sockets.values():  # small kernel buffers: the slow reader fills them at once
        if isinstance(s.queue, fanout.FanoutQueue) and s.queue.conn is not None:
            s.queue.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    n, pad = 100, "w" * 4000  # 400 kB for the slow client: far beyond both socket buffers
    t0 = time.monotonic()
    for i in range(n):
        server.sio.emit("m", {"i": i, "pad": pad}, to="r")
    emit_s = time.monotonic() - t0
    for c in fast:
        assert wait_until(lambda c=c: len(c.got) >= n), len(c.got)
        assert [m["i"] for m in c.got] == list(range(n))
    assert emit_s < 5, emit_s  # the broadcasting thread never waited for the slow reader
    assert stats_delta(before)["overflow"] >= 1  # its writer thread took over...
    slow._until(lambda: len(slow.events()) >= n, timeout=30)  # ...and it gets everything, in order
    assert [e["i"] for e in slow.events()] == list(range(n))
    assert all(e["pad"] == pad for e in slow.events())
    server.sio.emit("m", {"i": n}, to="r")  # drained: direct again
    slow._until(lambda: len(slow.events()) == n + 1)
    slow.sock.close()
    close_all(fast)


def test_permessage_deflate_connections_are_framed_per_connection(server: BareServer) -> None:
    before = dict(fanout.stats)
    a, b = RawClient(server.url, deflate=True), RawClient(server.url, deflate=True)
    plain = RawClient(server.url)
    assert a.accepted is not None and a.accepted.extensions  # deflate was negotiated
    assert not plain.accepted.extensions  # type: ignore[union-attr]
    n = 100
    for i in range(n):
        server.sio.emit("m", {"i": i, "pad": base64.b64encode(os.urandom(i * 10)).decode()}, to="r")
    for c in (a, b, plain):
        c._until(lambda c=c: len(c.events()) >= n)
        assert [e["i"] for e in c.events()] == list(range(n))
    d = stats_delta(before)
    assert d["attached"] == 3 and d["direct"] >= 2 * n, d
    for c in (a, b, plain):
        c.sock.close()


def test_connections_outlive_the_writer_threads_idle_timeout() -> None:
    """engineio's writer thread closes a socket whose queue stays empty for ping_interval + ping_timeout;
    with broadcasts written directly, only the pings keep it alive — as they always did."""
    s = BareServer(ping_interval=1, ping_timeout=1)
    try:
        before = dict(fanout.stats)
        c = Listener(s.url)
        deadline = time.monotonic() + 6  # three times the writer's timeout
        i = 0
        while time.monotonic() < deadline:
            s.sio.emit("m", {"i": i}, to="r")
            i += 1
            time.sleep(0.05)
        assert wait_until(lambda: len(c.got) == i)
        assert [m["i"] for m in c.got] == list(range(i))
        assert c.sio.connected and not s.disconnected
        assert stats_delta(before)["direct"] >= i * 0.9
        close_all([c])
    finally:
        s.stop()


def test_switched_off_uses_engineio_as_is() -> None:
    s = BareServer(direct=False)
    try:
        before = dict(fanout.stats)
        c = Listener(s.url)
        for i in range(20):
            s.sio.emit("m", {"i": i}, to="r")
        assert wait_until(lambda: len(c.got) == 20)
        assert stats_delta(before) == {k: 0 for k in fanout.stats}
        c.close()
    finally:
        s.stop()
