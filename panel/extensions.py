"""Every Flask extension is created here once and bound to the app in ``init_extensions``."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_conn: object, _record: object) -> None:
    """SQLite ignores FOREIGN KEY clauses (and ON DELETE) unless asked, per connection."""
    if type(dbapi_conn).__module__.startswith("sqlite3"):
        cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()
socketio = SocketIO()


def select_locale() -> str | None:
    from flask import current_app
    from flask_login import current_user

    langs = current_app.config["LANGUAGES"]
    if not has_request_context():
        # CLI commands and background jobs: no visitor to ask, use the default locale (gettext still works).
        return None
    asked = request.args.get("lang")
    if asked in langs:
        return asked
    if getattr(current_user, "is_authenticated", False) and current_user.locale in langs:
        return str(current_user.locale)
    from flask import session

    if session.get("lang") in langs:
        return str(session["lang"])
    return request.accept_languages.best_match(langs) or "en"


def init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.signin"
    csrf.init_app(app)
    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    app.config["RATELIMIT_STORAGE_URI"] = storage
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    queue = app.config.get("REDIS_URL") if app.config.get("SOCKETIO_USE_QUEUE", True) else None
    socketio.init_app(
        app,
        message_queue=queue,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),
        # None = same-origin only (engine.io's default); list extra origins explicitly.
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        max_http_buffer_size=64 * 1024,
        # Separate deployments (or test runs) sharing one Redis need separate channels.
        channel=app.config.get("SOCKETIO_CHANNEL") or "flask-socketio",
    )
