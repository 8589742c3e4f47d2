"""One Alembic head; the migration builds exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import DateTime, create_engine, inspect

from panel import create_app
from panel.extensions import db as _db
from panel.models.base import UTCDateTime
from tests.conftest import ROOT, base_config

MIGRATIONS = ROOT / "migrations"


def _script() -> ScriptDirectory:
    cfg = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def test_exactly_one_head():
    heads = _script().get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}; merge them into one"


def test_every_revision_chains_to_base():
    revs = list(_script().walk_revisions())
    assert revs and revs[-1].down_revision is None


def _compare_type(context: Any, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any) -> bool | None:
    """UTCDateTime is stored as DateTime(timezone=True): the decorator is not a schema difference."""
    if isinstance(metadata_type, UTCDateTime):
        return not (isinstance(inspected_type, DateTime)
                    and bool(getattr(inspected_type, "timezone", False)) == bool(metadata_type.impl.timezone)
                    or context.dialect.name == "sqlite")
    return None


def _diffs(conn: Any) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": _compare_type, "compare_server_default": False})
    return compare_metadata(ctx, _db.metadata)


def test_models_match_the_migration(app, db):
    """Autogenerate against the migrated test database finds nothing to add, drop or change."""
    with db.engine.connect() as conn:
        diffs = _diffs(conn)
    assert diffs == [], "models and migrations/versions differ:\n" + "\n".join(map(str, diffs))


def test_upgrade_from_empty_then_downgrade_sqlite(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        tables = set(inspect(_db.engine).get_table_names())
        assert {t.name for t in _db.metadata.sorted_tables} | {"alembic_version"} == tables
        triggers = {r[0] for r in _db.session.execute(
            _db.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
        assert {"audit_event_no_update", "audit_event_no_delete"} <= triggers
        _db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="base")
        assert set(inspect(_db.engine).get_table_names()) == {"alembic_version"}
        upgrade(directory=str(MIGRATIONS))  # and back up again: downgrade left nothing behind
        assert len(inspect(_db.engine).get_table_names()) == len(tables)
        _db.session.remove()
        _db.engine.dispose()


def test_sqlite_enforces_foreign_keys_and_checks(app, db, users):
    """Constraints live in the schema, not only in Python."""
    import pytest
    from sqlalchemy import exc, text

    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(exc.IntegrityError):
        db.session.execute(text("UPDATE panel SET status = 'bogus'"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(exc.IntegrityError):
        db.session.execute(text("INSERT INTO panel_member (panel_id, user_id, role, status, joined_at) "
                                "VALUES (999999, 1, 'citizen', 'active', CURRENT_TIMESTAMP)"))
        db.session.commit()
    db.session.rollback()


def test_fresh_engine_sees_migrated_schema(database_url):
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        assert "audit_event" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
