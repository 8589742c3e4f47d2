"""REST API ``/api/v1``: bearer-token auth, one error shape, OpenAPI generated from the schemas."""

from __future__ import annotations

from flask import Flask, current_app

from ..extensions import csrf, limiter
from .base import bp

# Once, at import: the blueprint is a module-level object shared by every app built in this process,
# so a limit added per create_app() would pile up (and an old app's limit would apply to a new one).
limiter.limit(lambda: str(current_app.config["API_RATE_LIMIT"]))(bp)


def init_app(app: Flask) -> None:
    from . import openapi, panels, polls, users  # noqa: F401  (register routes)

    csrf.exempt(bp)  # bearer tokens, no cookies: CSRF does not apply
    app.register_blueprint(bp)
