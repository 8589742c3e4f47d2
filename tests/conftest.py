"""Shared fixtures: a migrated database per test, the app, clients, and a user per role.

SQLite by default (a migrated template file copied per test); PostgreSQL when DATABASE_URL is set
(migrated once, tables truncated after each test). Services that a test needs but that are absent
make it skip with a reason — except in CI (CI=true), where they must be present and it fails.
"""

from __future__ import annotations

import contextvars
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, text

from panel import create_app
from panel.config import TestConfig, _database_url
from panel.extensions import db as _db
from tests import helpers

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = _database_url() if os.environ.get("DATABASE_URL") else None
REDIS_URL = os.environ.get("REDIS_URL")
ROOT = Path(__file__).resolve().parent.parent


@event.listens_for(Engine, "connect")
def _sqlite_without_fsync(dbapi_conn: Any, _record: Any) -> None:
    """Test databases are throw-away copies: skipping fsync makes each commit ~20x cheaper."""
    if type(dbapi_conn).__module__.startswith("sqlite3"):
        dbapi_conn.execute("PRAGMA synchronous=OFF")


def need(condition: bool, reason: str) -> None:
    """Skip outside CI when a required service is missing; fail inside CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def base_config(**overrides: Any) -> dict[str, Any]:
    cfg = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    cfg.update(MIGRATIONS_DIR=str(ROOT / "migrations"), RATELIMIT_STORAGE_URI="memory://",
               SOCKETIO_USE_QUEUE=False, REDIS_URL=None)
    cfg.update(overrides)
    return cfg


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        _db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        migrate(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    return str(path)


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        names = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"))]
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        yield PG_URL
        _truncate_all(PG_URL)
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copy(database_template, path)
        yield f"sqlite:///{path}"


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server does.

    The ``app`` fixture keeps an app context open for the test's own database work; Flask reuses an
    open app context for requests, so without this ``g`` (the signed-in user, the CSRF token, the API
    user) and the database session would leak from one request, or one client, into the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            # The request committed through its own session: let the test's objects reload.
            session = _db.session()
            if not session.dirty and not session.new:
                session.expire_all()
        return response


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Any:
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def users(app: Flask) -> dict[str, Any]:
    """One user per role, plus a panel the organizer/facilitator/citizen belong to."""
    return helpers.make_world(_db.session)


@pytest.fixture
def auth(client: FlaskClient) -> helpers.Auth:
    return helpers.Auth(client)
