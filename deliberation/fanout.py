"""Direct websocket writes for the threading server: a broadcast without one thread wake-up per recipient.

In threading mode engineio gives every websocket its own *writer thread*: ``Socket.send`` puts the
packet in the socket's queue and that thread wakes up, frames it and writes it. A facilitator's
message to an 801-socket plenary therefore costs 801 thread wake-ups and GIL hand-offs (~150 µs
each, 120–150 ms until the last recipient has it). Here the thread that sends — the broadcasting
thread for a room emit — writes the websocket frame to each socket itself, with one non-blocking
``send``; the writer thread only works when a socket falls behind.

How it plugs in (``install``): the engineio server of this process gets two classes in its
async-driver table, both used only through engineio's own hooks:

* ``FanoutQueue`` — every engineio socket's outgoing queue. It behaves exactly like
  ``queue.Queue`` until its websocket is *attached*; from then on ``put`` either writes the frame
  at once (state ``DIRECT``) or queues it for the writer thread (``QUEUED``), under the queue's
  lock, so packets leave in exactly the order they were put, whatever the path.
* ``DirectWebSocket`` — the ``simple_websocket`` WSGI wrapper engineio creates for an upgrade. It
  gives ``simple_websocket`` a socket whose every write takes the connection's write lock and is
  complete (``sendall``), so frames written by the broadcasting thread, the writer thread and the
  websocket's reader thread (pong / close replies) can never interleave, and it sees every packet
  the writer thread sends, which is how it knows when the queue has drained.

Per socket (all transitions under the queue's lock):

* attached once engineio has marked the socket upgraded (the first ``wait`` of the websocket
  loop): a *marker* goes into the queue and the socket is ``QUEUED``; whatever was queued before
  (open packet, connect reply…) is written by the writer thread first.
* ``QUEUED``: ``put`` queues and counts; the writer thread writes, and when the last counted item
  (the marker included) is written the socket turns ``DIRECT``. So nothing queued can be
  overtaken by a direct write.
* ``DIRECT``: ``put`` frames the packet (once per packet object: a room broadcast is one engineio
  packet shared by all recipients, and server frames are unmasked, so the bytes are the same for
  every socket without an extension) and writes it with ``send(MSG_DONTWAIT)``. If the kernel
  buffer is full (a slow client) the unwritten rest goes into the queue as raw bytes and the
  socket is ``QUEUED`` until the writer thread has written it — the broadcasting thread never
  blocks on one client. If the write fails, the packet is queued the normal way and the socket
  stays on the normal path for good (``FALLBACK``): the writer thread fails too and engineio's
  usual disconnect handling runs.
* ``None`` in the queue (engineio closing the socket) ends direct writes (``CLOSED``).
* Engine.IO pings (one per socket every ``ping_interval``, 25 s) always go through the writer
  thread: it gives up — and closes the connection — when its queue stays empty for
  ``ping_interval + ping_timeout``, which is how engineio drops a client that stopped answering.

Not attached, i.e. the normal engineio path throughout: long-polling clients, sockets with a
timeout, any WSGI server but Werkzeug/Gunicorn, and async modes other than threading.
Connections that negotiated permessage-deflate (browsers offer it) are attached but framed per
connection by their own wsproto state — still without a thread wake-up. On by default;
``SOCKETIO_DIRECT_WRITE=0`` (config key or environment) turns it off. See docs/realtime.md
(2026-12-07): it was off by default after an assembly run collapsed in its connect phase; that
collapse was the connect burst overrunning the server (fixed in the connect and join paths, not
here), and in the alternated quiet runs after the fix it gave p99 52–67 ms against 233–389 ms
without it.
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
from typing import Any

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from engineio.packet import PING
from wsproto.events import BytesMessage, TextMessage

DIRECT, QUEUED, FALLBACK, CLOSED = "direct", "queued", "fallback", "closed"

# Counters for tests and benchmarks (approximate under concurrency: plain increments).
stats = {"attached": 0, "direct": 0, "queued": 0, "overflow": 0, "fallback": 0}


class _Raw:
    """Frame bytes already built (their per-connection encoder state advanced) that the writer thread must write."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self, b64: bool = False) -> _Raw:  # the writer thread calls pkt.encode()
        return self


class _Marker:
    """Put in the queue at attach time: when the writer thread reaches it, everything before it is written."""

    __slots__ = ()

    def encode(self, b64: bool = False) -> _Marker:
        return self


def frame(payload: str | bytes) -> bytes:
    """One unmasked, final websocket frame (RFC 6455 §5.2): text for ``str``, binary for ``bytes``."""
    if isinstance(payload, str):
        op, data = 0x81, payload.encode("utf-8")
    else:
        op, data = 0x82, bytes(payload)
    n = len(data)
    if n < 126:
        return bytes((op, n)) + data
    if n < 65536:
        return struct.pack("!BBH", op, 126, n) + data
    return struct.pack("!BBQ", op, 127, n) + data


class _LockedSocket:
    """The connection's socket as ``simple_websocket`` sees it: each write whole, under the write lock."""

    def __init__(self, sock: socket.socket, lock: threading.Lock) -> None:
        self._sock = sock
        self._lock = lock

    def send(self, data: bytes, *flags: int) -> int:
        with self._lock:
            self._sock.sendall(data, *flags)
        return len(data)

    sendall = send

    def __getattr__(self, name: str) -> Any:  # recv, close, fileno, settimeout…
        return getattr(self._sock, name)


class _Conn:
    """Direct-write state of one websocket (guarded by its queue's lock)."""

    __slots__ = ("sock", "write_lock", "sws", "shared", "state", "pending", "marker_seen")

    def __init__(self, sock: socket.socket, write_lock: threading.Lock, sws: Any, shared: bool) -> None:
        self.sock = sock  # the real socket (direct writes bypass the locked wrapper: they try-lock)
        self.write_lock = write_lock
        self.sws = sws  # simple_websocket.Server
        self.shared = shared  # no extension negotiated: the shared, pre-built frame is valid
        self.state = QUEUED
        self.pending = 1  # the marker
        self.marker_seen = False

    def encode(self, pkt: Any) -> bytes:
        if self.shared:
            f = getattr(pkt, "_pnyx_ws_frame", None)
            if f is None:
                f = frame(pkt.encode())
                pkt._pnyx_ws_frame = f  # a packet's encoding never changes (engineio caches it too)
            return f
        enc = pkt.encode()  # permessage-deflate: this connection's compressor, in write order
        event = TextMessage(data=enc) if isinstance(enc, str) else BytesMessage(data=bytes(enc))
        return bytes(self.sws.ws.send(event))


class FanoutQueue(queue.Queue):  # type: ignore[type-arg]
    """An engineio socket's outgoing queue that writes straight to its websocket once attached."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fan_lock = threading.Lock()
        self.conn: _Conn | None = None

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        with self.fan_lock:
            conn = self.conn
            if conn is None or conn.state in (FALLBACK, CLOSED):
                super().put(item, block, timeout)
            elif item is None:  # engineio is closing the socket: the writer thread finishes
                conn.state = CLOSED
                super().put(item, block, timeout)
            elif conn.state == QUEUED:
                conn.pending += 1
                stats["queued"] += 1
                super().put(item, block, timeout)
            elif getattr(item, "packet_type", None) == PING:
                # Pings go through the writer thread, as before: its queue.get times out after
                # ping_interval + ping_timeout without a packet and then closes the connection,
                # which is engineio's liveness check (pings stop when pongs stop).
                conn.state = QUEUED
                conn.pending = 1
                super().put(item, block, timeout)
            else:
                self._direct(conn, item)

    def _direct(self, conn: _Conn, item: Any) -> None:
        try:
            data = conn.encode(item) if conn.sws.connected else None
        except Exception:  # noqa: BLE001 - wsproto refuses (closing): the normal path decides
            data = None
        if data is None:
            conn.state = FALLBACK
            stats["fallback"] += 1
            super().put(item)
            return
        sent = 0
        if conn.write_lock.acquire(blocking=False):  # held only while the reader answers a ping/close
            try:
                sent = conn.sock.send(data, socket.MSG_DONTWAIT)
            except BlockingIOError:
                sent = 0
            except OSError:
                sent = -1
            finally:
                conn.write_lock.release()
        if sent == len(data):
            stats["direct"] += 1
            return
        if sent < 0:  # the socket is broken: let the writer thread fail and engineio disconnect
            conn.state = FALLBACK
            stats["fallback"] += 1
            super().put(_Raw(data))
            return
        stats["overflow"] += 1  # slow reader (or a busy write lock): the writer thread writes the rest
        conn.state = QUEUED
        conn.pending = 1
        super().put(_Raw(data[sent:]))

    def written(self, conn: _Conn, marker: bool = False) -> None:
        """Called by the writer thread after each item it wrote (or skipped, for the marker)."""
        with self.fan_lock:
            if marker:
                conn.marker_seen = True
            if not conn.marker_seen:
                return  # queued before attaching: not counted
            conn.pending -= 1
            if conn.pending == 0 and conn.state == QUEUED:
                conn.state = DIRECT


_MARKER = _Marker()
_SOCKET_KEYS = ("werkzeug.socket", "gunicorn.socket")


class DirectWebSocket(SimpleWebSocketWSGI):  # type: ignore[misc]
    """engineio's simple-websocket wrapper, with locked writes and attachment to the socket's FanoutQueue."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self._queue: FanoutQueue | None = None
        self._conn: _Conn | None = None
        eio_socket: Any = getattr(self.app, "__self__", None)
        q = getattr(eio_socket, "queue", None)
        key = next((k for k in _SOCKET_KEYS if k in environ), None)
        raw = environ.get(key) if key else None
        if key is None or not isinstance(q, FanoutQueue) or not isinstance(raw, socket.socket) \
                or raw.gettimeout() is not None:
            return super().__call__(environ, start_response)
        write_lock = threading.Lock()
        environ = {**environ, key: _LockedSocket(raw, write_lock)}
        import simple_websocket

        self.ws = simple_websocket.Server(environ, **self.server_args)
        self._queue = q
        self._eio_socket: Any = eio_socket
        self._pending_conn = (raw, write_lock)
        ret = self.app(self)
        if self.ws.mode == "gunicorn":
            raise StopIteration()
        elif self.ws.mode == "werkzeug":
            raise ConnectionError()
        return ret

    def _attach(self) -> None:
        q = self._queue
        assert q is not None
        raw, write_lock = self._pending_conn
        shared = not _extensions(self.ws)
        conn = _Conn(raw, write_lock, self.ws, shared)
        with q.fan_lock:
            queue.Queue.put(q, _MARKER)
            q.conn = conn
        self._conn = conn
        stats["attached"] += 1

    def wait(self) -> Any:
        # engineio starts the writer thread and then loops on wait(); ``upgraded`` is set by then.
        if self._queue is not None and self._conn is None and self._eio_socket.upgraded \
                and not self._eio_socket.closed:
            self._attach()
        return super().wait()

    def send(self, message: Any) -> Any:
        conn, q = self._conn, self._queue
        if conn is None or q is None:
            return super().send(message)
        if message is _MARKER:
            q.written(conn, marker=True)
            return None
        if isinstance(message, _Raw):
            self.ws.sock.send(message.data)  # the locked wrapper: whole, blocking (writer thread)
        else:
            super().send(message)
        q.written(conn)
        return None


def _extensions(sws: Any) -> bool:
    """Whether the websocket negotiated an extension (then frames are per connection)."""
    try:
        return bool(sws.ws._connection._proto.extensions)
    except AttributeError:
        return True  # cannot tell: treat as per-connection framing


def install(server: Any) -> bool:
    """Use direct writes on this python-socketio server's engineio server (threading mode only)."""
    eio = getattr(server, "eio", server)
    if getattr(eio, "async_mode", None) != "threading":
        return False
    if eio._async.get("queue") is FanoutQueue:
        return True
    eio._async = dict(eio._async, queue=FanoutQueue, websocket=DirectWebSocket)
    return True
