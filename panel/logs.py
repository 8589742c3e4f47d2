"""Structured (JSON lines) logging with a request id on every line."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from typing import Any

from flask import Flask, g, has_request_context, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            data["request_id"] = getattr(g, "request_id", None)
            data["path"] = request.path
        for key in ("status", "method", "ms", "user_id", "event"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def init_app(app: Flask) -> None:
    if app.config.get("LOG_JSON") and not app.config.get("TESTING"):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        app.logger.handlers = [handler]
        app.logger.setLevel(logging.INFO)
        app.logger.propagate = False
    log = app.logger

    @app.before_request
    def _start() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex[:16]
        g.t0 = time.perf_counter()

    @app.after_request
    def _log(response: Any) -> Any:
        ms = round((time.perf_counter() - g.get("t0", time.perf_counter())) * 1000, 1)
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if not request.path.startswith("/static"):
            log.info("request", extra={"status": response.status_code, "method": request.method, "ms": ms})
        return response
