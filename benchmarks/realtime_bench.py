"""Real-time rooms under load: real Socket.IO clients over loopback against a real server process.

    python benchmarks/realtime_bench.py --scenario assembly [--json] [--quick] [--bare] [--async-mode gevent]
    python benchmarks/realtime_bench.py --scenario capacity [--json] [--quick] [--rounds 2]

*assembly*: 1,000 clients — 200 panelists in 20 breakouts of 10 posting every 10 s, 800 observers on
the plenary receiving a facilitator message every 2 s — for 60 s, persistence on, one server process.
*capacity*: 10 rooms × 20 posting clients on one server; the posting rate rises by ``--growth``
(x1.2) every 5 s step until a step's p99 passes 250 ms (or less than 99 % is delivered);
deliveries/s in that step — counted as they arrive, so a server that falls behind shows its real
throughput — for our server and for a bare python-socketio broadcast server (no persistence, no
auth), alternated ``--rounds`` times in the same run; the best of each, and their ratio.

The benchmark starts the server itself (``python -m deliberation serve``) on a free loopback port
with a fresh SQLite database (or ``DATABASE_URL``), and runs the load generator in separate
processes. The default load generator (``--loadgen asyncio``) is one asyncio event loop per process
with a small Socket.IO v5 / Engine.IO v4 client written against the protocol: each client has its
own TCP connection and websocket, opens the Engine.IO session, connects to ``/rooms`` with its auth
token, ``join``s and posts with acknowledgements, answers pings. ``--loadgen python-socketio`` uses
python-socketio's own client (one greenlet each, under gevent) instead: about three times the CPU for
the same load, and on two cores that CPU competes with the server it measures.
Latency is send-to-receive: the body carries the send time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import multiprocessing as mp
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import wait as wait_conns
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NS = "/rooms"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# -- load generator ---------------------------------------------------------------------------------
class Recorder:
    """What one load-generator process saw: latencies and counts per step (by the step a message was
    sent in, which its body names), and arrivals per step window (by the time they arrived)."""

    def __init__(self, start_at: float, step_s: float) -> None:
        self.start_at, self.step_s = start_at, step_s
        self.lat: dict[int, list[float]] = {}
        self.received: dict[tuple[int, int], int] = {}  # (room, step sent) -> deliveries
        self.sent: dict[tuple[int, int], int] = {}  # (room, step) -> acknowledged posts
        self.arrived: dict[int, int] = {}  # step window of arrival -> deliveries
        self.connected: dict[int, int] = {}
        self.errors: list[str] = []
        self.ok = 0
        self.cpu: dict[str, float] = {}
        self.joins: list[tuple[float, float, int]] = []  # (first attempt began, joined, attempts), unix times

    def message(self, room: int, m: Any) -> None:
        now = time.time()
        try:
            sent_at, tag = m["body"].split("|", 1)
            step = int(tag[4:])
            lat = now - float(sent_at)
        except (KeyError, ValueError, TypeError, AttributeError):
            return
        self.lat.setdefault(step, []).append(lat)
        key = (room, step)
        self.received[key] = self.received.get(key, 0) + 1
        w = int((now - self.start_at) // self.step_s)
        self.arrived[w] = self.arrived.get(w, 0) + 1

    def acked(self, room: int, step: int) -> None:
        self.sent[(room, step)] = self.sent.get((room, step), 0) + 1

    def step_report(self, step: int) -> dict[str, Any]:
        return {"lat": {step: list(self.lat.get(step, []))},
                "received": {k: v for k, v in self.received.items() if k[1] == step},
                "sent": {k: v for k, v in self.sent.items() if k[1] == step},
                "arrived": {step: self.arrived.get(step, 0)}, "connected": dict(self.connected)}

    def final(self, clients: int) -> dict[str, Any]:
        return {"ok": self.ok, "lat": self.lat, "received": self.received, "sent": self.sent,
                "arrived": self.arrived, "connected": self.connected, "clients": clients,
                "errors": self.errors[:5], "cpu": self.cpu, "joins": self.joins}


def _cpu_now() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class SioClient(asyncio.Protocol):
    """One Socket.IO client on its own TCP connection and websocket, the protocol written out.

    Engine.IO v4 over the websocket transport (open packet, ping → pong), Socket.IO v5 CONNECT to
    the namespace with the auth payload (the server may refuse: CONNECT_ERROR), EVENT packets with
    acknowledgement ids and their ACKs — what python-socketio's client puts on the wire, without
    its per-client threads. Frames from the client are masked, as RFC 6455 requires.
    """

    def __init__(self, host: str, port: int, ns: str, auth: dict[str, Any],
                 on_event: Callable[[str, list[Any]], None]) -> None:
        self.host, self.port, self.ns, self.auth, self.on_event = host, port, ns, auth, on_event
        self.nsp = f"{ns}," if ns != "/" else ""
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.frag = bytearray()
        self.upgraded = False
        self.acks: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.loop = asyncio.get_running_loop()
        self.connected: asyncio.Future[Any] = self.loop.create_future()
        self.connected.add_done_callback(_retrieve)  # a refusal after a timed-out wait is not an error to print
        self.key = base64.b64encode(os.urandom(16))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(  # type: ignore[union-attr]
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (self.host.encode(), self.port, self.key))

    def connection_lost(self, exc: Exception | None) -> None:
        err = ConnectionError(f"connection lost ({exc})")
        if not self.connected.done():
            self.connected.set_exception(err)
        for fut in self.acks.values():
            if not fut.done():
                fut.set_exception(err)
        self.acks.clear()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._frame(b"\x03\xe8", 8)  # websocket close, 1000
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.connected.done():
            self.connected.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    # websocket frames
    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[:end + 4]
            accept = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest()).decode()
            if not head.startswith("HTTP/1.1 101") or accept not in head:
                self._fail(ConnectionError("websocket upgrade refused: " + head.split("\r\n", 1)[0]))
                return
            self.upgraded = True
        while True:
            n = len(buf)
            if n < 2:
                return
            b0, b1 = buf[0], buf[1]
            size, pos = b1 & 0x7F, 2
            if size == 126:
                if n < 4:
                    return
                size, pos = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if n < 10:
                    return
                size, pos = int.from_bytes(buf[2:10], "big"), 10
            if b1 & 0x80:
                self._fail(ConnectionError("masked frame from the server"))
                return
            if n < pos + size:
                return
            payload = bytes(buf[pos:pos + size])
            del buf[:pos + size]
            op = b0 & 0x0F
            if op in (0, 1, 2):
                if not b0 & 0x80:  # a fragment: wait for the last one
                    self.frag += payload
                    continue
                if self.frag:
                    payload, self.frag = bytes(self.frag) + payload, bytearray()
                self._packet(payload.decode())
            elif op == 9:
                self._frame(payload, 10)  # websocket ping -> pong
            elif op == 8:
                if self.transport is not None:
                    self.transport.close()
                return

    def _frame(self, payload: bytes, op: int = 1) -> None:
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | op, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | op, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | op, 0x80 | 127)) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        if n:
            payload = (int.from_bytes(payload, "big")
                       ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
        if self.transport is not None:
            self.transport.write(head + mask + payload)

    def send(self, text: str) -> None:
        self._frame(text.encode())

    # Engine.IO and Socket.IO packets
    def _packet(self, p: str) -> None:
        kind = p[:1]
        if kind == "4":  # Engine.IO MESSAGE: a Socket.IO packet
            sio, rest = p[1:2], p[2:]
            if self.nsp:
                if not rest.startswith(self.nsp):
                    return
                rest = rest[len(self.nsp):]
            i = 0
            while i < len(rest) and rest[i].isdigit():
                i += 1
            if sio == "2":  # EVENT
                args = json.loads(rest[i:])
                self.on_event(args[0], args[1:])
            elif sio == "3":  # ACK
                fut = self.acks.pop(int(rest[:i]), None)
                if fut is not None and not fut.done():
                    args = json.loads(rest[i:])
                    fut.set_result(args[0] if len(args) == 1 else args)
            elif sio == "0":  # CONNECT accepted
                if not self.connected.done():
                    self.connected.set_result(json.loads(rest) if rest else None)
            elif sio == "4":  # CONNECT_ERROR
                self._fail(ConnectionRefusedError(rest[:120]))
            elif sio == "1" and self.transport is not None:  # DISCONNECT
                self.transport.close()
        elif kind == "2":  # Engine.IO PING
            self.send("3" + p[1:])
        elif kind == "0":  # Engine.IO OPEN: connect to the namespace with the auth payload
            self.send(f"40{self.nsp}{json.dumps(self.auth)}")
        elif kind == "1" and self.transport is not None:
            self.transport.close()

    def call(self, event: str, data: Any, timeout: float = 30.0) -> asyncio.Future[Any]:
        """Emit ``event`` with an acknowledgement id; the future gets the ack (or fails on timeout)."""
        self.next_id += 1
        ack_id = self.next_id
        fut: asyncio.Future[Any] = self.loop.create_future()
        fut.add_done_callback(_retrieve)
        self.acks[ack_id] = fut
        self.send(f"42{self.nsp}{ack_id}{json.dumps([event, data], separators=(',', ':'))}")

        def expire() -> None:
            if not fut.done():
                self.acks.pop(ack_id, None)
                fut.set_exception(TimeoutError(f"no ack for {event} in {timeout} s"))

        handle = self.loop.call_later(timeout, expire)
        fut.add_done_callback(lambda _: handle.cancel())
        return fut


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


async def sio_connect(url: str, auth: dict[str, Any], on_event: Callable[[str, list[Any]], None],
                      timeout: float = 20.0) -> SioClient:
    host, port = url.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    loop = asyncio.get_running_loop()
    _, proto = await asyncio.wait_for(
        loop.create_connection(lambda: SioClient(host, int(port), NS, auth, on_event), host, int(port)), timeout)
    try:
        await asyncio.wait_for(asyncio.shield(proto.connected), timeout)
    except BaseException:
        proto.close()
        raise
    return proto


def _async_worker(url: str, specs: list[dict[str, Any]], start_at: float, step_s: float, n_steps: int,
                  drain_s: float, stop: Any, out: Any) -> None:
    rec = Recorder(start_at, step_s)

    async def amain() -> None:
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()
        pending: set[asyncio.Future[Any]] = set()

        async def run_client(spec: dict[str, Any]) -> None:
            room = spec["room"]

            def on_event(name: str, args: list[Any]) -> None:
                if name == "message" and args:
                    rec.message(room, args[0])

            c: SioClient | None = None
            began = time.time()
            for attempt in range(3):  # as a browser would: retry a failed connect
                try:
                    c = await sio_connect(url, {"token": spec.get("token", "")}, on_event)
                    res = await c.call("join", {"room": room, "last_seq": 10**9})
                    if isinstance(res, dict) and "error" in res:
                        raise RuntimeError(res["error"])
                    break
                except Exception as e:  # noqa: BLE001 - counted as a failed connection
                    rec.errors.append(f"{type(e).__name__}: {e}"[:120])
                    if c is not None:
                        c.close()
                        c = None
                    if attempt == 2:
                        return
                    await asyncio.sleep(1.0 + attempt)
            assert c is not None
            rec.ok += 1
            rec.joins.append((began, time.time(), attempt + 1))
            rec.cpu["joined_cpu"], rec.cpu["joined_t"] = _cpu_now(), time.time()
            rec.connected[room] = rec.connected.get(room, 0) + 1
            await asyncio.sleep(max(0.0, start_at - time.time()))
            for step, interval in enumerate(spec.get("intervals") or []):
                step_end = start_at + step_s * (step + 1)
                t = start_at + step_s * step + spec.get("phase", 0.0) * interval
                n = 0
                while True:
                    delay = t - time.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if time.time() >= step_end or stop.is_set():
                        break
                    fut = c.call("message", {"room": room, "body": f"{time.time():.6f}|step{step}",
                                             "client_id": f"{spec['id']}-{step}-{n}"})
                    pending.add(fut)

                    def done(f: asyncio.Future[Any], step: int = step) -> None:
                        pending.discard(f)
                        if not f.cancelled() and f.exception() is None:
                            r = f.result()
                            if isinstance(r, dict) and "error" not in r:
                                rec.acked(room, step)

                    fut.add_done_callback(done)
                    n += 1
                    t += interval
                if stop.is_set():
                    break
            await finished.wait()
            await asyncio.sleep(drain_s)  # late messages still count as delivered (latency says how late)
            c.close()

        async def reporter() -> None:
            await asyncio.sleep(max(0.0, start_at - time.time()))
            rec.cpu["start"] = _cpu_now()
            rec.cpu["start_t"] = time.time()
            for step in range(n_steps):
                end = start_at + step_s * (step + 1)
                while time.time() < end and not stop.is_set():
                    await asyncio.sleep(min(0.2, max(0.0, end - time.time())))
                if stop.is_set():
                    break
                rec.cpu["end"] = _cpu_now()
                rec.cpu["end_t"] = time.time()
                await asyncio.sleep(1.0)  # grace: what has not arrived 1 s after the step is late anyway
                out.send(("step", step, rec.step_report(step)))
            finished.set()

        rep = asyncio.create_task(reporter())
        rec.cpu["connect_t0"], rec.cpu["connect_cpu0"] = time.time(), _cpu_now()
        tasks = []
        for i, spec in enumerate(specs):
            tasks.append(asyncio.create_task(run_client(spec)))
            if i % 20 == 19:
                await asyncio.sleep(0.1)  # connect in waves, as real people do
        await asyncio.gather(*tasks)
        await rep
        del loop

    asyncio.run(amain())
    out.send(("done", rec.final(len(specs))))
    out.close()


def _gevent_worker(url: str, specs: list[dict[str, Any]], start_at: float, step_s: float, n_steps: int,
                   drain_s: float, stop: Any, out: Any) -> None:
    """The same load with python-socketio's own client, one greenlet per client (--loadgen python-socketio)."""
    from gevent import monkey

    monkey.patch_all()
    import gevent
    import gevent.event
    import socketio

    rec = Recorder(start_at, step_s)
    finished = gevent.event.Event()

    def run_client(spec: dict[str, Any]) -> None:
        c = socketio.Client(reconnection=False)
        room = spec["room"]
        c.on("message", lambda m: rec.message(room, m), namespace=NS)
        for attempt in range(3):
            try:
                c.connect(url, namespaces=[NS], auth={"token": spec.get("token", "")}, transports=["websocket"],
                          wait_timeout=20)
                res = c.call("join", {"room": room, "last_seq": 10**9}, namespace=NS, timeout=30)
                if isinstance(res, dict) and "error" in res:
                    raise RuntimeError(res["error"])
                break
            except Exception as e:  # noqa: BLE001 - counted as a failed connection
                rec.errors.append(f"{type(e).__name__}: {e}"[:120])
                try:
                    c.disconnect()
                except Exception:  # noqa: BLE001
                    pass
                if attempt == 2:
                    return
                gevent.sleep(1.0 + attempt)
        rec.ok += 1
        rec.connected[room] = rec.connected.get(room, 0) + 1
        gevent.sleep(max(0.0, start_at - time.time()))

        def post(data: dict[str, Any], step: int) -> None:
            try:
                r = c.call("message", data, namespace=NS, timeout=30)
                if isinstance(r, dict) and "error" not in r:
                    rec.acked(room, step)
            except Exception:  # noqa: BLE001
                pass

        for step, interval in enumerate(spec.get("intervals") or []):
            step_end = start_at + step_s * (step + 1)
            t = start_at + step_s * step + spec.get("phase", 0.0) * interval
            n = 0
            while True:
                gevent.sleep(max(0.0, t - time.time()))
                if time.time() >= step_end or stop.is_set():
                    break
                gevent.spawn(post, {"room": room, "body": f"{time.time():.6f}|step{step}",
                                    "client_id": f"{spec['id']}-{step}-{n}"}, step)
                n += 1
                t += interval
            if stop.is_set():
                break
        finished.wait()
        gevent.sleep(drain_s)
        c.disconnect()

    def reporter() -> None:
        gevent.sleep(max(0.0, start_at - time.time()))
        rec.cpu["start"] = _cpu_now()
        for step in range(n_steps):
            end = start_at + step_s * (step + 1)
            while time.time() < end and not stop.is_set():
                gevent.sleep(min(0.2, max(0.0, end - time.time())))
            if stop.is_set():
                break
            rec.cpu["end"] = _cpu_now()
            rec.cpu["end_t"] = time.time()
            gevent.sleep(1.0)
            out.send(("step", step, rec.step_report(step)))
        finished.set()

    rep = gevent.spawn(reporter)
    greenlets = []
    for i, spec in enumerate(specs):
        greenlets.append(gevent.spawn(run_client, spec))
        if i % 20 == 19:
            gevent.sleep(0.1)
    gevent.joinall(greenlets + [rep])
    # A pipe, not a multiprocessing.Queue: a queue's feeder thread does not survive monkey-patching.
    out.send(("done", rec.final(len(specs))))
    out.close()


def run_load(url: str, specs: list[dict[str, Any]], step_s: float, n_steps: int, *, procs: int = 2,
             connect_s: float = 20.0, drain_s: float = 10.0, loadgen: str = "asyncio",
             judge: Callable[[dict[str, Any]], bool] | None = None, server_pid: int | None = None) -> dict[str, Any]:
    """Run the load; ``judge(step summary)`` → True stops the ramp after that step."""
    ctx = mp.get_context("spawn")
    start_at = time.time() + connect_s
    stop = ctx.Event()
    target = _async_worker if loadgen == "asyncio" else _gevent_worker
    chunks = [c for c in (specs[i::procs] for i in range(procs)) if c]
    pipes = [ctx.Pipe(duplex=False) for _ in chunks]
    workers = [ctx.Process(target=target, args=(url, chunk, start_at, step_s, n_steps, drain_s, stop, w))
               for chunk, (_, w) in zip(chunks, pipes, strict=True)]
    for w in workers:
        w.start()
    readers = [r for r, _ in pipes]
    finals: dict[int, dict[str, Any]] = {}
    steps: dict[int, list[dict[str, Any]]] = {}
    judged: list[dict[str, Any]] = []
    server = {"start": None, "end": None}
    deadline = start_at + step_s * n_steps + drain_s + 120
    while len(finals) < len(readers):
        if time.time() > deadline:
            stop.set()
            raise RuntimeError("a load generator did not report back")
        if server_pid and server["start"] is None and time.time() >= start_at:
            server["start"] = (time.time(), *proc_stats(server_pid))
        for r in wait_conns(readers, timeout=0.1):
            try:
                msg = r.recv()
            except EOFError:
                raise RuntimeError("a load generator died") from None
            if msg[0] == "done":
                finals[readers.index(r)] = msg[1]
                continue
            _, step, rep = msg
            steps.setdefault(step, []).append(rep)
            if len(steps[step]) == len(readers) and not stop.is_set():
                if server_pid:
                    server["end"] = (time.time(), *proc_stats(server_pid))
                summary = summarize(steps[step], step, step_s)
                judged.append(summary)
                if judge is not None and judge(summary):
                    stop.set()
    for w in workers:
        w.join(10)
    results = [finals[i] for i in sorted(finals)]
    out = merge(results, step_s)
    out["steps"] = [summarize(results, s["step"], step_s) for s in judged]
    lg = [r["cpu"] for r in results if "start" in r["cpu"] and "end" in r["cpu"]]
    if lg:
        span = max(c["end_t"] for c in lg) - start_at
        out["loadgen_cpu_pct"] = round(100 * sum(c["end"] - c["start"] for c in lg) / max(span, 1e-9), 1)
    joins = sorted((j for r in results for j in r.get("joins", [])), key=lambda j: j[1])
    if joins:
        t0 = min(r["cpu"]["connect_t0"] for r in results if "connect_t0" in r["cpu"])
        waits = sorted(j[1] - j[0] for j in joins)
        out["connect"] = {"last_joined_s": round(joins[-1][1] - t0, 2),
                          "join_wait_p50_ms": _pct(waits, 0.5), "join_wait_p99_ms": _pct(waits, 0.99),
                          "join_wait_max_ms": round(waits[-1] * 1000, 1),
                          "retried": sum(1 for j in joins if j[2] > 1)}
        cg = [r["cpu"] for r in results if "connect_cpu0" in r["cpu"] and "joined_cpu" in r["cpu"]]
        if cg:  # the load generator's CPU from its first connect to its last join
            span = max(c["joined_t"] for c in cg) - t0
            out["connect"]["loadgen_cpu_pct"] = round(100 * sum(c["joined_cpu"] - c["connect_cpu0"] for c in cg)
                                                      / max(span, 1e-9), 1)
    if server["start"] and server["end"]:
        (t0, c0, _), (t1, c1, _) = server["start"], server["end"]
        out["server_cpu_pct"] = round(100 * (c1 - c0) / max(t1 - t0, 1e-9), 1)
        out["server_rss_kib_connected"] = server["start"][2]
    return out


def _pct(lat: list[float], p: float) -> float:
    return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else float("nan")


def summarize(results: list[dict[str, Any]], step: int, step_s: float) -> dict[str, Any]:
    """One step of a ramp: latency of the messages sent in it, delivered share, arrivals per second."""
    lat = sorted(x for r in results for x in r["lat"].get(step, []))
    connected: dict[int, int] = {}
    for r in results:
        for room, n in r["connected"].items():
            connected[room] = connected.get(room, 0) + n
    sent = sum(n for r in results for (room, s), n in r["sent"].items() if s == step)
    expected = sum(n * connected.get(room, 0) for r in results for (room, s), n in r["sent"].items() if s == step)
    delivered = sum(n for r in results for (room, s), n in r["received"].items() if s == step)
    # Deliveries still missing count as infinitely late: a server that drops or stalls cannot pass.
    lat += [float("inf")] * max(0, expected - delivered)
    return {"step": step, "posts_per_s": round(sent / step_s, 1), "delivered_pct":
            round(100 * delivered / expected, 2) if expected else 0.0,
            "deliveries_per_s": round(sum(r["arrived"].get(step, 0) for r in results) / step_s, 1),
            "p50_ms": _pct(lat, 0.50), "p95_ms": _pct(lat, 0.95), "p99_ms": _pct(lat, 0.99)}


def merge(results: list[dict[str, Any]], step_s: float) -> dict[str, Any]:
    lat = sorted(x for r in results for v in r["lat"].values() for x in v)
    connected: dict[int, int] = {}
    for r in results:
        for room, n in r["connected"].items():
            connected[room] = connected.get(room, 0) + n
    expected = sum(n * connected.get(room, 0) for r in results for (room, _), n in r["sent"].items())
    delivered = sum(n for r in results for n in r["received"].values())
    clients = sum(r["clients"] for r in results)
    return {"clients": clients, "connect_ok_pct": round(100 * sum(r["ok"] for r in results) / max(1, clients), 2),
            "delivered": delivered, "expected": expected,
            "delivered_pct": round(100 * delivered / expected, 2) if expected else 0.0,
            "p50_ms": _pct(lat, 0.50), "p95_ms": _pct(lat, 0.95), "p99_ms": _pct(lat, 0.99),
            "connect_errors": sorted({e for r in results for e in r.get("errors", [])})[:5]}


# -- servers ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            urllib.request.urlopen(url + "/socket.io/?EIO=4&transport=polling", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def start_server(db_url: str, async_mode: str, bare: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_JSON": "0", "SECRET_KEY": "bench",
           "ROOM_MESSAGE_RATE": "1000", "ROOM_MESSAGE_BURST": "1000", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    cmd = ([sys.executable, __file__, "--bare-server", str(port), "--async-mode", async_mode] if bare else
           [sys.executable, "-m", "deliberation", "serve", "--port", str(port), "--async-mode", async_mode])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_http(url, proc)
    return proc, url


def bare_server(port: int, async_mode: str) -> None:
    """The baseline: python-socketio broadcasting to rooms, no auth, no database."""
    if async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    import socketio

    from deliberation import _no_delay

    sio = socketio.Server(async_mode=async_mode)
    # The same TCP_NODELAY as our server: without it the broadcast + ack pair waits for delayed ACKs.
    app = _no_delay(socketio.WSGIApp(sio))

    @sio.on("join", namespace=NS)
    def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        sio.enter_room(sid, f"room:{data['room']}", namespace=NS)
        return {"ok": True}

    @sio.on("message", namespace=NS)
    def message(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        sio.emit("message", {"room": data["room"], "body": data["body"]}, to=f"room:{data['room']}", namespace=NS)
        return {"seq": 0}

    @sio.on("connect", namespace=NS)
    def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        return None

    if async_mode == "gevent":
        from gevent import pywsgi
        from geventwebsocket.handler import WebSocketHandler

        pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=WebSocketHandler, log=None).serve_forever()
    else:
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True)


def proc_stats(pid: int) -> tuple[float, int]:
    """(CPU seconds, resident KiB) of a process from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return cpu, rss


# -- data -----------------------------------------------------------------------------------------
def seed(db_url: str, panelists: int, observers: int, breakouts: int, extra_rooms: int = 0) -> dict[str, Any]:
    """A panel, its people with API tokens, a plenary and breakout rooms (direct inserts: fast)."""
    os.environ["DATABASE_URL"] = db_url
    from flask_migrate import upgrade

    from panel import create_app
    from panel.extensions import db
    from panel.models import ApiToken, Panel, PanelMember, Room, RoomMember, User
    from panel.services.accounts import hash_secret

    app = create_app({"SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(db_url), "SOCKETIO_USE_QUEUE": False})
    run = os.urandom(4).hex()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        panel = Panel(slug=f"bench-{run}", title="Bench", question="?", size=max(1, panelists))
        db.session.add(panel)
        db.session.flush()

        def person(role: str, i: int) -> tuple[User, str]:
            u = User(email=f"{role}{i}-{run}@bench.example", name=f"{role} {i}", role=role)
            db.session.add(u)
            db.session.flush()
            tok = f"pnyx_bench_{run}_{role}_{i}"
            db.session.add(ApiToken(user_id=u.id, name="bench", prefix=tok[:12], token_hash=hash_secret(tok)))
            return u, tok

        fac, fac_tok = person("facilitator", 0)
        db.session.add(PanelMember(panel_id=panel.id, user_id=fac.id, role="facilitator"))
        plenary = Room(panel_id=panel.id, kind="plenary", name="Plenary")
        db.session.add(plenary)
        db.session.flush()
        rooms = []
        for g in range(breakouts + extra_rooms):
            r = Room(panel_id=panel.id, kind="plenary" if g >= breakouts else "breakout",
                     parent_id=None if g >= breakouts else plenary.id, name=f"Room {g}", round=1)
            db.session.add(r)
            rooms.append(r)
        db.session.flush()
        pan = []
        for i in range(panelists):
            u, tok = person("citizen", i)
            db.session.add(PanelMember(panel_id=panel.id, user_id=u.id, role="citizen"))
            room = rooms[i % len(rooms)] if rooms else plenary
            db.session.add(RoomMember(room_id=room.id, user_id=u.id))
            pan.append({"token": tok, "room": room.id})
        obs = [{"token": person("observer", i)[1], "room": plenary.id} for i in range(observers)]
        db.session.commit()
        info = {"facilitator": {"token": fac_tok, "room": plenary.id}, "panelists": pan, "observers": obs,
                "rooms": [r.id for r in rooms], "plenary": plenary.id}
        db.engine.dispose()
    return info


def _sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


# -- scenarios ------------------------------------------------------------------------------------
def assembly(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    panelists, observers, groups, duration = (200, 800, 20, 60.0) if not args.quick else (40, 60, 4, 10.0)
    data = seed(db_url, panelists, observers, groups)
    proc, url = start_server(db_url, args.async_mode, bare=args.bare)
    try:
        _, rss0 = proc_stats(proc.pid)
        specs = [{"id": f"p{i}", "intervals": [10.0], "phase": (i % 100) / 100, **p}
                 for i, p in enumerate(data["panelists"])]
        specs.append({"id": "fac", "intervals": [2.0], "phase": 0.0, **data["facilitator"]})
        specs += [{"id": f"o{i}", **o} for i, o in enumerate(data["observers"])]
        res = run_load(url, specs, duration, 1, procs=args.procs, connect_s=45.0 if not args.quick else 10.0,
                       loadgen=args.loadgen, server_pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    res.pop("steps", None)
    rss1 = res.pop("server_rss_kib_connected", rss0)
    res.update(scenario="assembly", server="bare" if args.bare else "ours", async_mode=args.async_mode,
               loadgen=args.loadgen, procs=args.procs, seconds=duration,
               deliveries_per_s=round(res["delivered"] / duration, 1),
               server_rss_kib_per_client=round((rss1 - rss0) / max(1, res["clients"]), 1))
    return res


def capacity(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    rooms, per_room = (10, 20) if not args.quick else (4, 10)
    step_s = 5.0 if not args.quick else 3.0
    clients = rooms * per_room
    rates = [args.start_rate * args.growth ** i for i in range(args.max_steps)]  # posts/s, all clients
    intervals = [clients / r for r in rates]
    data = seed(db_url, clients, 0, 0, extra_rooms=rooms)

    def crossed(s: dict[str, Any]) -> bool:
        return s["p99_ms"] > 250 or s["delivered_pct"] < 99

    def ramp(bare: bool, rnd: int) -> dict[str, Any]:
        proc, url = start_server(db_url, args.async_mode, bare=bare)
        try:
            _, rss0 = proc_stats(proc.pid)
            specs = [{"id": f"c{i}-r{rnd}{'b' if bare else 'o'}", "intervals": intervals, "phase": (i % 50) / 50,
                      **p} for i, p in enumerate(data["panelists"])]
            res = run_load(url, specs, step_s, len(intervals), procs=args.procs, connect_s=8.0, drain_s=5.0,
                           loadgen=args.loadgen, judge=crossed, server_pid=proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
        steps = res["steps"]
        at = next((s for s in steps if crossed(s)), steps[-1])
        ok = [s for s in steps if not crossed(s)]
        return {"server": "bare" if bare else "ours", "crossed": crossed(at), "connect_ok_pct": res["connect_ok_pct"],
                "clients": res["clients"], "posts_per_s": at["posts_per_s"], "deliveries_per_s": at["deliveries_per_s"],
                "delivered_pct": at["delivered_pct"], "p50_ms": at["p50_ms"], "p95_ms": at["p95_ms"],
                "p99_ms": at["p99_ms"], "last_ok_posts_per_s": ok[-1]["posts_per_s"] if ok else None,
                "last_ok_deliveries_per_s": ok[-1]["deliveries_per_s"] if ok else None,
                "server_cpu_pct": res.get("server_cpu_pct"), "loadgen_cpu_pct": res.get("loadgen_cpu_pct"),
                "server_rss_kib_per_client": round((res.get("server_rss_kib_connected", rss0) - rss0)
                                                   / max(1, res["clients"]), 1),
                "connect_errors": res["connect_errors"]}

    runs = []
    for rnd in range(args.rounds):  # alternated, so a burst of load from elsewhere hits both sides alike
        for bare in ((False, True) if rnd % 2 == 0 else (True, False)):
            runs.append(ramp(bare, rnd))
            print(json.dumps({"run": rnd, **runs[-1]}), file=sys.stderr, flush=True)
    ours = max((r for r in runs if r["server"] == "ours"), key=lambda r: r["deliveries_per_s"])
    bare = max((r for r in runs if r["server"] == "bare"), key=lambda r: r["deliveries_per_s"])
    out = {k: v for k, v in ours.items() if k != "server"}
    out.update(scenario="capacity", async_mode=args.async_mode, loadgen=args.loadgen, procs=args.procs,
               step_s=step_s, growth=args.growth, bare_deliveries_per_s=bare["deliveries_per_s"],
               bare_posts_per_s=bare["posts_per_s"], bare_p99_ms=bare["p99_ms"], bare_crossed=bare["crossed"],
               ratio=round(ours["deliveries_per_s"] / bare["deliveries_per_s"], 3) if bare["deliveries_per_s"] else None,
               runs=[{k: r[k] for k in ("server", "posts_per_s", "deliveries_per_s", "p99_ms", "crossed",
                                        "server_cpu_pct", "loadgen_cpu_pct")} for r in runs])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", choices=["assembly", "capacity"], default="assembly")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="fewer clients, about 10 s of load")
    p.add_argument("--async-mode", choices=["threading", "gevent"], default=os.environ.get("SOCKETIO_ASYNC_MODE", "threading"))
    p.add_argument("--loadgen", choices=["asyncio", "python-socketio"], default="asyncio",
                   help="load-generator clients: the protocol over asyncio (default) or python-socketio's client under gevent")
    p.add_argument("--procs", type=int, default=1, help="load-generator processes")
    p.add_argument("--bare", action="store_true",
                   help="assembly only: the same load against the bare python-socketio server (reference)")
    p.add_argument("--rounds", type=int, default=2, help="capacity: ramps of ours and bare, alternated; best of each")
    p.add_argument("--start-rate", type=float, default=50.0, help="capacity: posts/s (all clients) in the first step")
    p.add_argument("--growth", type=float, default=1.2, help="capacity: rate factor from one step to the next")
    p.add_argument("--max-steps", type=int, default=24, help="capacity: steps at most")
    p.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.bare_server:
        bare_server(args.bare_server, args.async_mode)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        res = assembly(args, db_url) if args.scenario == "assembly" else capacity(args, db_url)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:28} {v}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
