"""Real-time rooms under load: real Socket.IO clients over loopback against a real server process.

    python benchmarks/realtime_bench.py --scenario assembly [--json] [--quick] [--async-mode gevent]
    python benchmarks/realtime_bench.py --scenario capacity [--json] [--quick]

*assembly*: 1,000 clients — 200 panelists in 20 breakouts of 10 posting every 10 s, 800 observers on
the plenary receiving a facilitator message every 2 s — for 60 s, persistence on, one server process.
*capacity*: 10 rooms × 20 posting clients; the posting rate doubles each step until p99 passes
250 ms; deliveries/s at that point for our server and for a bare python-socketio broadcast server
(no persistence, no auth) measured in the same run, and their ratio.

The benchmark starts the server itself (``python -m deliberation serve``) on a free loopback port
with a fresh SQLite database (or ``DATABASE_URL``), and runs the load generator in separate
processes (gevent greenlets, one client each). Latency is send-to-receive: the body carries the
send time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NS = "/rooms"


# -- load generator (runs in its own processes, under gevent) ------------------------------------
def _worker(url: str, specs: list[dict[str, Any]], start_at: float, duration: float, steps: list[float],
            out: Any) -> None:
    from gevent import monkey

    monkey.patch_all()
    import gevent
    import socketio

    lat: list[float] = []
    received: dict[int, int] = {}
    sent: dict[int, int] = {}
    connected: dict[int, int] = {}
    errors: list[str] = []
    ok = 0

    def run_client(spec: dict[str, Any]) -> None:
        nonlocal ok
        c = socketio.Client(reconnection=False)
        room = spec["room"]

        def on_message(m: dict[str, Any]) -> None:
            try:
                lat.append(time.time() - float(m["body"].split("|", 1)[0]))
            except (KeyError, ValueError, TypeError):
                return
            received[room] = received.get(room, 0) + 1

        c.on("message", on_message, namespace=NS)
        for attempt in range(3):  # as a browser would: retry a failed connect
            try:
                c.connect(url, namespaces=[NS], auth={"token": spec.get("token", "")}, transports=["websocket"],
                          wait_timeout=20)
                res = c.call("join", {"room": room, "last_seq": 10**9}, namespace=NS, timeout=30)
                if isinstance(res, dict) and "error" in res:
                    raise RuntimeError(res["error"])
                break
            except Exception as e:  # noqa: BLE001 - counted as a failed connection
                errors.append(f"{type(e).__name__}: {e}"[:120])
                try:
                    c.disconnect()
                except Exception:  # noqa: BLE001
                    pass
                if attempt == 2:
                    return
                gevent.sleep(1.0 + attempt)
        ok += 1
        connected[room] = connected.get(room, 0) + 1
        gevent.sleep(max(0.0, start_at - time.time()))
        intervals = [spec["interval"]] if spec.get("interval") else []
        if steps and spec.get("poster"):
            intervals = steps
        if not intervals:
            gevent.sleep(max(0.0, start_at + duration * max(1, len(steps)) - time.time()))
        for step_i, interval in enumerate(intervals):
            step_end = start_at + duration * (step_i + 1)
            t = time.time() + spec.get("phase", 0.0) * interval
            n = 0
            while True:
                gevent.sleep(max(0.0, t - time.time()))
                if time.time() >= step_end:
                    break
                body = f"{time.time():.6f}|step{step_i}"
                try:
                    r = c.call("message", {"room": room, "body": body, "client_id": f"{spec['id']}-{step_i}-{n}"},
                               namespace=NS, timeout=30)
                    if isinstance(r, dict) and "error" not in r:
                        sent[room] = sent.get(room, 0) + 1
                except Exception:  # noqa: BLE001
                    pass
                n += 1
                t += interval
        gevent.sleep(10.0)  # drain: late messages still count as delivered (latency says how late)
        c.disconnect()

    greenlets = []
    for i, spec in enumerate(specs):
        greenlets.append(gevent.spawn(run_client, spec))
        if i % 20 == 19:
            gevent.sleep(0.1)  # connect in waves, as real people do
    gevent.joinall(greenlets)
    # A pipe, not a multiprocessing.Queue: a queue's feeder thread does not survive monkey-patching.
    out.send({"ok": ok, "lat": lat, "received": received, "sent": sent, "connected": connected,
              "clients": len(specs), "errors": errors[:5]})
    out.close()


def run_load(url: str, specs: list[dict[str, Any]], duration: float, steps: list[float] | None = None,
             procs: int = 2, connect_s: float = 20.0) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    start_at = time.time() + connect_s
    chunks = [c for c in (specs[i::procs] for i in range(procs)) if c]
    pipes = [ctx.Pipe(duplex=False) for _ in chunks]
    workers = [ctx.Process(target=_worker, args=(url, chunk, start_at, duration, steps or [], w))
               for chunk, (_, w) in zip(chunks, pipes, strict=True)]
    for w in workers:
        w.start()
    results = []
    limit = connect_s + duration * max(1, len(steps or [])) + 120
    for r, _ in pipes:
        if not r.poll(limit):
            raise RuntimeError("a load generator did not report back")
        results.append(r.recv())
    for w in workers:
        w.join(10)
    return merge(results)


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    lat = sorted(x for r in results for x in r["lat"])
    rooms: set[int] = set()
    for r in results:
        rooms |= set(r["sent"]) | set(r["connected"])

    def total(key: str, room: int) -> int:
        return sum(r[key].get(room, 0) for r in results)

    expected = sum(total("sent", room) * total("connected", room) for room in rooms)
    delivered = sum(total("received", room) for room in rooms)
    clients = sum(r["clients"] for r in results)

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else float("nan")

    return {"clients": clients, "connect_ok_pct": round(100 * sum(r["ok"] for r in results) / max(1, clients), 2),
            "delivered": delivered, "expected": expected,
            "delivered_pct": round(100 * delivered / expected, 2) if expected else 0.0,
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
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
        cpu0, rss0 = proc_stats(proc.pid)
        specs = [{"id": f"p{i}", "poster": True, "interval": 10.0, "phase": (i % 100) / 100, **p}
                 for i, p in enumerate(data["panelists"])]
        specs.append({"id": "fac", "poster": True, "interval": 2.0, "phase": 0.0, **data["facilitator"]})
        specs += [{"id": f"o{i}", **o} for i, o in enumerate(data["observers"])]
        connect_s = 45.0 if not args.quick else 10.0
        t0 = time.time()
        res = run_load(url, specs, duration, procs=args.procs, connect_s=connect_s)
        wall = time.time() - t0
        cpu1, rss1 = proc_stats(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    res.update(scenario="assembly", server="bare" if args.bare else "ours", async_mode=args.async_mode,
               seconds=duration,
               deliveries_per_s=round(res["delivered"] / duration, 1),
               server_cpu_pct=round(100 * (cpu1 - cpu0) / wall, 1),
               server_rss_kib_per_client=round((rss1 - rss0) / max(1, res["clients"]), 1))
    return res


def capacity(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    rooms, per_room = (10, 20) if not args.quick else (4, 10)
    step_s = 5.0 if not args.quick else 3.0
    intervals = [8.0, 4.0, 2.0, 1.0, 0.5, 0.25, 0.125] if not args.quick else [4.0, 1.0, 0.25, 0.0625]
    data = seed(db_url, rooms * per_room, 0, 0, extra_rooms=rooms)

    def measure(bare: bool) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for interval in intervals:
            proc, url = start_server(db_url, args.async_mode, bare=bare)
            try:
                specs = [{"id": f"c{i}-{interval}", "poster": True, "interval": interval, "phase": (i % 50) / 50,
                          **p} for i, p in enumerate(data["panelists"])]
                res = run_load(url, specs, step_s, procs=args.procs, connect_s=8.0)
            finally:
                proc.terminate()
                proc.wait(10)
            res["deliveries_per_s"] = round(res["delivered"] / step_s, 1)
            res["posts_per_s"] = round(len(specs) / interval, 1)
            found = res
            if res["p99_ms"] > 250 or res["delivered_pct"] < 99:
                break
        return found

    ours = measure(False)
    bare = measure(True)
    ours.update(scenario="capacity", async_mode=args.async_mode, bare_deliveries_per_s=bare["deliveries_per_s"],
                bare_p99_ms=bare["p99_ms"], bare_posts_per_s=bare["posts_per_s"],
                ratio=round(ours["deliveries_per_s"] / bare["deliveries_per_s"], 3) if bare["deliveries_per_s"] else None)
    return ours


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", choices=["assembly", "capacity"], default="assembly")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="fewer clients, about 10 s of load")
    p.add_argument("--async-mode", choices=["threading", "gevent"], default=os.environ.get("SOCKETIO_ASYNC_MODE", "threading"))
    p.add_argument("--procs", type=int, default=2, help="load-generator processes")
    p.add_argument("--bare", action="store_true",
                   help="assembly only: the same load against the bare python-socketio server (reference)")
    p.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.bare_server:
        bare_server(args.bare_server, args.async_mode)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        res = assembly(args, db_url) if args.scenario == "assembly" else capacity(args, db_url)
    res.pop("lat", None)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:28} {v}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
