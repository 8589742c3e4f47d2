"""``python -m deliberation serve --port N``: one server process (HTTP + Socket.IO) for tests and benchmarks.

Configuration comes from the environment as for ``wsgi.py`` (DATABASE_URL, REDIS_URL…);
``--async-mode gevent`` monkey-patches first, as gevent requires.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deliberation")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="serve HTTP + Socket.IO on one port")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--async-mode", choices=["threading", "gevent"], default=os.environ.get(
        "SOCKETIO_ASYNC_MODE", "threading"))
    s.add_argument("--no-queue", action="store_true", help="ignore REDIS_URL for the Socket.IO message queue")
    args = p.parse_args(argv)
    if args.async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    from panel import create_app
    from panel.extensions import socketio

    app = create_app({"SOCKETIO_ASYNC_MODE": args.async_mode, "SOCKETIO_USE_QUEUE": not args.no_queue,
                      "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL", "flask-socketio"),
                      "ROOM_MESSAGE_RATE": float(os.environ.get("ROOM_MESSAGE_RATE", "1")),
                      "ROOM_MESSAGE_BURST": int(os.environ.get("ROOM_MESSAGE_BURST", "10"))})
    from panel import gc_tuning

    gc_tuning.apply(app)  # after start-up: see panel/gc_tuning.py (GC_FREEZE, GC_THRESHOLD)
    if os.environ.get("PNYX_DIAG_LOG"):
        from .diag import start

        start(app, os.environ["PNYX_DIAG_LOG"], float(os.environ.get("PNYX_DIAG_EVERY", "0.5")))
    print(f"serving on http://{args.host}:{args.port} ({args.async_mode})", file=sys.stderr, flush=True)
    kwargs = {"allow_unsafe_werkzeug": True} if args.async_mode == "threading" else {}
    socketio.run(app, host=args.host, port=args.port, log_output=False, **kwargs)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
