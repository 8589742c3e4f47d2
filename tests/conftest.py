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
        _truncate_all(PG_URL)  # a previous, interrupted run may have left rows behind
        # A scratch database: commits need not wait for the disk (new connections pick this up).
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'ALTER DATABASE "{engine.url.database}" SET synchronous_commit = off'))
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    return str(path)


_cleaner: dict[str, Any] = {}


def _truncate_all(url: str) -> None:
    """Empty every table and restart ids. DELETE with triggers and FK checks off (replica role) takes
    milliseconds on small tables, where TRUNCATE of ~40 tables takes ~0.5 s per test."""
    if url not in _cleaner:
        _cleaner[url] = create_engine(url)
    engine = _cleaner[url]
    with engine.begin() as conn:
        names = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"))]
        seqs = [r[0] for r in conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))]
        superuser = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
        if not names:
            return
        if superuser:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("; ".join(f'DELETE FROM "{n}"' for n in names)))
            if seqs:
                conn.execute(text("SELECT " + ", ".join(f"setval('\"{q}\"', 1, false)" for q in seqs)))
        else:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))


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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def live_server(database_url: str, app: Flask) -> Iterator[str]:
    """The real app served over HTTP on a free port, on the test's database; yields its base URL.

    Rate limits are off (a browser test signs in often); everything else is the production stack.
    """
    import threading

    from werkzeug.serving import make_server

    served = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, SERVER_NAME=None,
                                    RATELIMIT_ENABLED=False))
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with served.app_context():
            _db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (never a downloaded browser build).

    Module scope: one launch per test module, and closed before the next module, because Playwright's
    sync API refuses to start while another sync_playwright() is still running in the process."""
    need(os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM} (browser tests)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def users(app: Flask) -> dict[str, Any]:
    """One user per role, plus a panel the organizer/facilitator/citizen belong to."""
    return helpers.make_world(_db.session)


@pytest.fixture
def auth(client: FlaskClient) -> helpers.Auth:
    return helpers.Auth(client)
