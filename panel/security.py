"""Security headers on every response."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class ProxyAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS (directly or, with
    PROXY_FIX, via X-Forwarded-Proto). The session cookie is written after ``after_request``
    hooks run, so it cannot be patched there."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def _nul_in_input() -> str | None:
    """Name of the first query/form parameter holding a NUL character (PostgreSQL text cannot)."""
    for source in (request.args, request.form):
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return key.replace("\x00", "")
    return None


def init_app(app: Flask) -> None:
    app.session_interface = ProxyAwareSessionInterface()

    @app.before_request
    def _refuse_nul() -> Any:
        field = _nul_in_input()
        if field is not None:
            from flask_babel import gettext as _

            from .errors_http import render_error

            return render_error(400, _("The input contains a NUL character, which is not allowed."),
                                code="bad_request", field=field or None)
        return None
    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            # Other cookies set by views: Secure behind HTTPS even if the config forgot it.
            cookies = h.getlist("Set-Cookie")
            if cookies:
                h.remove("Set-Cookie")
                for c in cookies:
                    h.add("Set-Cookie", c if "; Secure" in c else c + "; Secure")
        return response
