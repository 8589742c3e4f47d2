"""PostgreSQL specifics: the same migration, triggers in PL/pgSQL, aware datetimes, JSON, constraints."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import exc, text

from panel.models import AuditEvent, Panel
from panel.services import audit
from tests.conftest import PG_URL, need

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(db):
    need(bool(PG_URL), "DATABASE_URL is not set to a PostgreSQL database (PostgreSQL tests)")
    assert db.engine.dialect.name == "postgresql"
    assert db.engine.dialect.driver == "psycopg"
    return db


def test_append_only_trigger_is_plpgsql(pg, users):
    names = {r[0] for r in pg.session.execute(text(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal"))}
    assert names == {"audit_event_no_update"}
    with pytest.raises(exc.DBAPIError, match="append-only"):
        pg.session.execute(text("DELETE FROM audit_event"))
    pg.session.rollback()


def test_datetimes_are_timezone_aware_and_json_round_trips(pg, users):
    ev = audit.record(pg.session, "pg.check", payload={"list": [1, "two", None], "map": {"é": True}})
    pg.session.commit()
    pg.session.expire_all()
    got = pg.session.get(AuditEvent, ev.id)
    assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == UTC.utcoffset(None)
    assert got.payload == {"list": [1, "two", None], "map": {"é": True}}
    assert audit.verify(pg.session).ok
    column = pg.session.execute(text(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'audit_event' "
        "AND column_name = 'created_at'")).scalar_one()
    assert column == "timestamp with time zone"


def test_check_and_foreign_key_constraints(pg, users):
    with pytest.raises(exc.IntegrityError):
        pg.session.execute(text("UPDATE panel SET status = 'bogus'"))
    pg.session.rollback()
    with pytest.raises(exc.IntegrityError):
        pg.session.execute(text("UPDATE panel SET created_by_id = 999999"))
    pg.session.rollback()
    assert pg.session.get(Panel, users["panel"].id).status == "draft"


def test_audit_appends_take_the_advisory_lock(pg, users):
    audit.record(pg.session, "pg.lock")
    held = pg.session.execute(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")).scalar_one()
    assert held == 1
    pg.session.rollback()
