"""REST API ``/api/v1``: bearer-token auth, one error shape, OpenAPI generated from the schemas."""

from __future__ import annotations

from flask import Flask

from ..extensions import csrf, limiter
from .base import bp


def init_app(app: Flask) -> None:
    from . import openapi, panels, users  # noqa: F401  (register routes)

    csrf.exempt(bp)  # bearer tokens, no cookies: CSRF does not apply
    limiter.limit(lambda: str(app.config["API_RATE_LIMIT"]))(bp)
    app.register_blueprint(bp)
