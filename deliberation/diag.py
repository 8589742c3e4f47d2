"""Server-side diagnostics for load tests: ``PNYX_DIAG_LOG=path python -m deliberation serve …``.

Appends one JSON line per collector pass that took ≥ 5 ms (``{"gc": gen, "ms", "t"}``) and one
line every ``PNYX_DIAG_EVERY`` seconds (default 0.5) with the process CPU seconds, thread count,
connected sockets, joined sockets, database pool checkouts and collector counts — cheap enough to
leave on during a benchmark (a thread waking twice a second; ``gc.callbacks`` costs a clock read
per collection). Off unless the variable is set.

``PNYX_DIAG_THREADS=1`` adds, every fourth line, the CPU seconds of the live threads grouped by
what they run (what is missing from the process total ran in threads that have exited: the
per-event handler threads). ``PNYX_DIAG_PROFILE=path`` runs every Socket.IO message handled in
the first ``PNYX_DIAG_PROFILE_S`` seconds (default 40) under cProfile with a per-thread CPU clock
and dumps the merged stats to ``path`` — its overhead is large (it turned a working assembly run
into a collapsed one), so only call counts and proportions mean anything.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from typing import Any

from flask import Flask


def start(app: Flask, path: str, every: float = 0.5) -> None:
    from panel.extensions import db

    from .namespace import namespace

    fh = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    lock = threading.Lock()
    began: dict[int, float] = {}

    def write(rec: dict[str, Any]) -> None:
        with lock:
            fh.write(json.dumps(rec) + "\n")

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began[info["generation"]] = time.perf_counter()
            return
        t0 = began.pop(info["generation"], None)
        if t0 is not None:
            ms = (time.perf_counter() - t0) * 1000
            if ms >= 5 or info["generation"] == 2:
                write({"t": round(time.time(), 3), "gc": info["generation"], "ms": round(ms, 1),
                       "collected": info.get("collected")})

    gc.callbacks.append(on_gc)

    per_thread = os.environ.get("PNYX_DIAG_THREADS") == "1"
    hz = os.sysconf("SC_CLK_TCK")

    def thread_cpu() -> dict[str, Any]:
        """CPU seconds (user, system) of the live threads, by what they run (``Thread-N (target)``)."""
        groups: dict[str, list[float]] = {}
        for th in threading.enumerate():
            name = th.name.split(" (", 1)[1].rstrip(")") if " (" in th.name else th.name.rstrip("0123456789-_")
            try:
                f = open(f"/proc/self/task/{th.native_id}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            g = groups.setdefault(name, [0, 0.0, 0.0])
            g[0] += 1
            g[1] += int(f[11]) / hz
            g[2] += int(f[12]) / hz
        return {k: [v[0], round(v[1], 2), round(v[2], 2)] for k, v in groups.items()}

    def loop() -> None:
        with app.app_context():
            pool = db.engine.pool
        n = 0
        while True:
            n += 1
            if per_thread and n % 4 == 0:
                t = os.times()
                write({"t": round(time.time(), 3), "user": round(t.user, 2), "sys": round(t.system, 2),
                       "by_thread": thread_cpu()})
            t = os.times()
            presence = namespace.presence
            joined = sum(len(r) for r in presence._rooms.values()) if presence is not None else 0
            write({"t": round(time.time(), 3), "cpu": round(t.user + t.system, 2),
                   "threads": threading.active_count(), "sockets": len(namespace.users), "joined": joined,
                   "pool_out": getattr(pool, "checkedout", lambda: None)(),
                   "gc_counts": gc.get_count()})
            time.sleep(every)

    threading.Thread(target=loop, name="pnyx-diag", daemon=True).start()
    if os.environ.get("PNYX_DIAG_PROFILE"):
        _profile_events(os.environ["PNYX_DIAG_PROFILE"], float(os.environ.get("PNYX_DIAG_PROFILE_S", "40")))


def _profile_events(path: str, seconds: float) -> None:
    """cProfile every Socket.IO message handled in the first ``seconds`` (each in its own thread); dump to ``path``."""
    import cProfile
    import pstats

    from panel.extensions import socketio

    eio = socketio.server.eio
    inner = eio.handlers["message"]
    lock = threading.Lock()
    acc: list[pstats.Stats] = []
    until = time.time() + seconds

    def handler(*args: Any) -> Any:
        if time.time() > until:
            return inner(*args)
        prof = cProfile.Profile(time.thread_time)
        try:
            return prof.runcall(inner, *args)
        finally:
            with lock:
                if acc:
                    acc[0].add(prof)
                else:
                    acc.append(pstats.Stats(prof))

    eio.handlers["message"] = handler

    def dump() -> None:
        while time.time() < until + 5:
            time.sleep(2)
            with lock:
                if acc:
                    acc[0].dump_stats(path)

    threading.Thread(target=dump, name="pnyx-diag-profile", daemon=True).start()
