"""Turn every error into a clear 4xx page or the one JSON error shape — never a bare 500."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .errors import ServiceError

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
         422: "validation_failed", 429: "rate_limited", 500: "internal_error"}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or (
        request.accept_mimetypes.best == "application/json")


def error_response(status: int, message: str, *, code: str | None = None, field: str | None = None) -> Any:
    """The single error shape for the API: {"error": {"code", "message", "field"}}."""
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "field": field}}
    resp = jsonify(body)
    resp.status_code = status
    return resp


def render_error(status: int, message: str, *, code: str | None = None, field: str | None = None) -> Any:
    if wants_json():
        return error_response(status, message, code=code, field=field)
    return render_template("error.html", status=status, message=message, field=field), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service(e: ServiceError) -> Any:
        from .extensions import db
        db.session.rollback()
        return render_error(e.status, e.message, code=e.code, field=e.field)

    @app.errorhandler(CSRFError)
    def _csrf(e: CSRFError) -> Any:
        return render_error(400, _("Your form expired or was sent from elsewhere. Reload the page and try again."),
                            code="csrf_failed", field="csrf_token")

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Any:
        status = e.code or 500
        messages = {
            404: _("This page does not exist. Check the address or go back to your dashboard."),
            405: _("This address does not accept that kind of request."),
            413: _("The upload is too large."),
            429: _("Too many attempts. Wait a minute and try again."),
        }
        return render_error(status, messages.get(status, e.description or e.name))

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> Any:  # pragma: no cover - safety net
        from .extensions import db
        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_error(500, _("Something went wrong on our side. It has been logged; please try again."))
