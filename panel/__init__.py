"""Pnyx web application: ``create_app`` builds a configured Flask app."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Config


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, static_folder="web/static",
                template_folder="web/templates")
    from .routing import IdConverter
    app.url_map.converters["int"] = IdConverter  # before any route is registered
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    if app.config.get("PROXY_FIX"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from . import logs
    logs.init_app(app)

    from .extensions import init_extensions
    init_extensions(app)

    from . import auth, models, security  # noqa: F401  (models registers tables with SQLAlchemy)
    security.init_app(app)
    auth.init_app(app)

    from . import errors_http, web
    errors_http.init_app(app)
    web.init_app(app)

    from .api import init_app as init_api
    init_api(app)

    from deliberation import init_app as init_deliberation
    init_deliberation(app)

    from . import cli
    cli.init_app(app)

    from .services import jobs, notifications
    jobs.init_app(app)
    notifications.init_app(app)
    return app
