"""A reference Python client for the ``/rooms`` namespace (used by the tests and the benchmark).

It does what the browser client does: joins with its ``last_seq`` after every (re)connect, delivers
messages exactly once in ``seq`` order (buffering ahead-of-order ones and filling gaps from
``history``), and keeps an outbox of unacknowledged messages that it resends after reconnecting,
with the same ``client_id`` so the server stores each message once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import socketio

NAMESPACE = "/rooms"


class RoomClient:
    def __init__(self, urls: list[str] | str, token: str, room: int, *, transports: list[str] | None = None,
                 on_message: Callable[[dict[str, Any]], None] | None = None, ack_timeout: float = 10.0) -> None:
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        self.token = token
        self.room = room
        self.transports = transports
        self.on_message = on_message
        self.ack_timeout = ack_timeout
        self.last_seq = 0
        self.delivered: list[dict[str, Any]] = []
        self.events: list[tuple[str, Any]] = []
        self.state: dict[str, Any] | None = None
        self.outbox: dict[str, str] = {}  # client_id -> body, insertion-ordered
        self.acked: dict[str, int] = {}  # client_id -> seq
        self.errors: list[dict[str, Any]] = []
        self.raw_seqs: list[int] = []  # every broadcast as it arrived (before reordering / dedup)
        self.joined = threading.Event()
        self._buffer: dict[int, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._url_index = 0
        self._closing = False
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("message", self._on_message, namespace=NAMESPACE)
        self.sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        for name in ("state", "presence", "message_hidden", "nudge", "muted", "removed", "breakout", "recall",
                     "statement", "reactions"):
            self.sio.on(name, self._recorder(name), namespace=NAMESPACE)

    # -- connection management (reconnects to the next URL when one process dies) ----------------
    def connect(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline and not self._closing:
            url = self.urls[self._url_index % len(self.urls)]
            try:
                self.sio.connect(url, namespaces=[NAMESPACE], auth={"token": self.token},
                                 transports=self.transports, wait_timeout=5)
                self._join()
                return
            except (socketio.exceptions.ConnectionError, TimeoutError) as e:
                last = e
                self._url_index += 1
                try:
                    self.sio.disconnect()
                except Exception:  # noqa: BLE001
                    pass
                time.sleep(0.2)
        raise ConnectionError(f"could not connect to any of {self.urls}: {last}")

    def _on_disconnect(self, *_: Any) -> None:
        self.joined.clear()
        if self._closing:
            return
        self._url_index += 1
        threading.Thread(target=self._reconnect, daemon=True).start()

    def _reconnect(self) -> None:
        time.sleep(0.3)
        try:
            self.connect(timeout=30)
        except ConnectionError:
            pass

    def close(self) -> None:
        self._closing = True
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001
            pass

    def _join(self) -> None:
        res = self.sio.call("join", {"room": self.room, "last_seq": self.last_seq}, namespace=NAMESPACE,
                            timeout=self.ack_timeout)
        if "error" in res:
            self.errors.append(res["error"])
            raise PermissionError(res["error"]["message"])
        self.state = res["state"]
        self.joined.set()
        for m in res["messages"]:
            self._receive(m)
        if res.get("more"):
            self.fill_gap()
        self.resend()

    # -- ordered, exactly-once delivery ---------------------------------------------------------
    def _recorder(self, name: str) -> Callable[[Any], None]:
        def rec(data: Any) -> None:
            self.events.append((name, data))
            if name == "state" and isinstance(data, dict) and data.get("room", {}).get("id") == self.room:
                self.state = data
        return rec

    def _on_message(self, msg: dict[str, Any]) -> None:
        if msg.get("room") == self.room:
            self.raw_seqs.append(msg["seq"])
            self._receive(msg)

    def _receive(self, msg: dict[str, Any]) -> None:
        gap = False
        with self._lock:
            if msg["seq"] <= self.last_seq:
                return
            self._buffer[msg["seq"]] = msg
            while self.last_seq + 1 in self._buffer:
                m = self._buffer.pop(self.last_seq + 1)
                self.last_seq = m["seq"]
                self.delivered.append(m)
                if self.on_message:
                    self.on_message(m)
            gap = bool(self._buffer)
        if gap:
            threading.Timer(1.0, self.fill_gap).start()

    def fill_gap(self) -> None:
        with self._lock:
            if not self._buffer or not self.joined.is_set():
                return
            after = self.last_seq
        try:
            res = self.sio.call("history", {"room": self.room, "last_seq": after}, namespace=NAMESPACE,
                                timeout=self.ack_timeout)
        except Exception:  # noqa: BLE001 - disconnected: the next join replays
            return
        for m in res.get("messages", []):
            self._receive(m)

    # -- sending with an outbox -----------------------------------------------------------------
    def send(self, body: str, client_id: str | None = None) -> int | None:
        """Queue and send; returns the seq if acknowledged now, else None (resent after reconnecting)."""
        cid = client_id or uuid.uuid4().hex
        with self._lock:
            self.outbox[cid] = body
        return self._send_one(cid, body)

    def _send_one(self, cid: str, body: str) -> int | None:
        if not self.joined.is_set():
            return None
        try:
            res = self.sio.call("message", {"room": self.room, "body": body, "client_id": cid},
                                namespace=NAMESPACE, timeout=self.ack_timeout)
        except Exception:  # noqa: BLE001 - timeout or disconnect: stays in the outbox
            return None
        if "error" in res:
            if res["error"]["code"] in ("unavailable", "rate_limited", "not_joined"):
                return None
            self.errors.append(res["error"])
            with self._lock:
                self.outbox.pop(cid, None)
            return None
        with self._lock:
            self.outbox.pop(cid, None)
            self.acked[cid] = res["seq"]
        return int(res["seq"])

    def resend(self) -> None:
        with self._lock:
            pending = list(self.outbox.items())
        for cid, body in pending:
            self._send_one(cid, body)

    def call(self, event: str, payload: dict[str, Any], timeout: float | None = None) -> Any:
        payload = {"room": self.room, **payload}
        return self.sio.call(event, payload, namespace=NAMESPACE, timeout=timeout or self.ack_timeout)
