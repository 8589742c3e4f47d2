"""Deliberation rooms: the ``/rooms`` Socket.IO namespace, room pages and the services behind them."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask


def _no_delay(wsgi_app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Turn off Nagle's algorithm on the connection (Werkzeug server, threading mode).

    A message event writes the broadcast and then the ack as two small frames; with Nagle the
    second waits for the client's delayed ACK (~40 ms) — measured 80 ms per message instead of 7.
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        return wsgi_app(environ, start_response)

    return app


def init_app(app: Flask) -> None:
    from panel.extensions import socketio

    from . import web
    from .namespace import namespace

    if namespace not in socketio.namespace_handlers:
        socketio.on_namespace(namespace)
    app.register_blueprint(web.bp)
    app.wsgi_app = _no_delay(app.wsgi_app)  # type: ignore[method-assign]
    if direct_write_enabled(app):
        from .fanout import install

        install(socketio.server)


def direct_write_enabled(app: Flask) -> bool:
    """``SOCKETIO_DIRECT_WRITE`` (config key, else environment; default on): see ``deliberation.fanout``.

    On by default since the connect-phase collapse was found and fixed: in alternated quiet assembly
    runs it gave p99 52–67 ms against 233–389 ms without it (docs/realtime.md, 2026-12-07).
    ``SOCKETIO_DIRECT_WRITE=0`` leaves engineio's writer threads to do every write.
    """
    value = app.config.get("SOCKETIO_DIRECT_WRITE", os.environ.get("SOCKETIO_DIRECT_WRITE", "1"))
    return str(value).strip().lower() in {"1", "true", "yes", "on"}
