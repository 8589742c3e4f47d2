"""Deliberation rooms: the ``/rooms`` Socket.IO namespace, room pages and the services behind them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from panel.extensions import socketio

    from . import web
    from .namespace import namespace

    if namespace not in socketio.namespace_handlers:
        socketio.on_namespace(namespace)
    app.register_blueprint(web.bp)
