"""Garbage-collector settings for long-running server processes (``GC_FREEZE``, ``GC_THRESHOLD``).

A server with 1,000 Socket.IO connections tracks ~400,000 objects, most of them the app itself
(Flask, SQLAlchemy mappers, compiled templates) and per-connection state that lives as long as the
connection. CPython's default thresholds (700, 10, 10) run a full collection every time the
tracked heap has grown by a quarter, which during a burst of connects means several full passes
over everything (measured 130–450 ms each, every thread stopped). ``apply`` is called once the app
is built: one collection, then ``gc.freeze()`` moves every surviving object into the permanent
generation, which collections never scan, and the thresholds become ``GC_THRESHOLD`` (default
50,000 / 20 / 100): young collections 70 times rarer, full ones only after 100 middle ones.
Cyclic garbage is still collected; only how often changes. Not applied in tests (the test suite
builds many apps in one process, and freezing would keep each one alive).
"""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask


def parse_threshold(value: Any) -> tuple[int, int, int]:
    """``"50000,20,100"`` (or a sequence of three) → (50000, 20, 100); each ≥ 1."""
    parts = [int(p) for p in (value.split(",") if isinstance(value, str) else value)]
    if len(parts) != 3 or min(parts) < 1:
        raise ValueError(f"GC_THRESHOLD needs three positive integers, got {value!r}")
    return parts[0], parts[1], parts[2]


def apply(app: Flask) -> dict[str, Any] | None:
    """Collect, freeze and set the thresholds if ``GC_FREEZE`` is on; returns what was done (None: off)."""
    if not app.config.get("GC_FREEZE", True):
        return None
    threshold = parse_threshold(app.config.get("GC_THRESHOLD", "50000,20,100"))
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)
    return {"frozen": gc.get_freeze_count(), "threshold": threshold}
