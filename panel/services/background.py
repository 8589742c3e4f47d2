"""In-process background threads (the job worker, the outbox worker), one of each per app.

A single-process deployment (``make run``) needs no separate worker processes: each serving app
starts its workers on its first request. Larger deployments run ``flask jobs work`` and
``flask outbox work`` instead; both kinds of worker claim their rows, so they may run side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_running: dict[tuple[str, int], tuple[threading.Thread, threading.Event]] = {}
_lock = threading.Lock()


def start_once(name: str, app: Any, target: Callable[..., None], *args: Any) -> threading.Event:
    """Start ``target(app, stop, *args)`` in a daemon thread called ``name`` unless one already
    runs for ``app``; returns the event that stops it (the loop must watch it)."""
    with _lock:
        existing = _running.get((name, id(app)))
        if existing and existing[0].is_alive():
            return existing[1]
        stop = threading.Event()
        thread = threading.Thread(target=target, args=(app, stop, *args), name=name, daemon=True)
        thread.start()
        _running[(name, id(app))] = (thread, stop)
        return stop


def running(name: str, app: Any) -> threading.Thread | None:
    """The live thread ``name`` of ``app``, if any."""
    entry = _running.get((name, id(app)))
    return entry[0] if entry and entry[0].is_alive() else None


def stop(app: Any, timeout: float = 30.0) -> None:
    """Stop every thread of ``app`` and wait for each (a test's server going away)."""
    for (name, key), (thread, event) in list(_running.items()):
        if key == id(app):
            event.set()
            thread.join(timeout=timeout)
            _running.pop((name, key), None)
