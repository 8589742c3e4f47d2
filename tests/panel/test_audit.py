"""The hash-chained, append-only audit log: linking, verification, tamper detection, triggers, races."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import exc, func, select, text
from sqlalchemy.orm import Session

from panel.models import GENESIS, AuditEvent
from panel.services import audit
from tests.conftest import ROOT


def _events(db) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


def test_chain_links_each_event_to_the_previous(db, users):
    for i in range(3):
        audit.record(db.session, "test.event", actor_id=users["admin"].id, panel_id=users["panel"].id,
                     subject_type="thing", subject_id=i, payload={"i": i, "text": "ünïcødé", "nested": {"b": 1}})
    db.session.commit()
    events = _events(db)
    assert events[0].prev_hash == GENESIS
    for prev, ev in zip(events, events[1:], strict=False):
        assert ev.prev_hash == prev.hash
    for ev in events:
        assert ev.hash == audit.event_hash(ev.prev_hash, created_at=ev.created_at, actor_id=ev.actor_id,
                                           action=ev.action, panel_id=ev.panel_id, subject_type=ev.subject_type,
                                           subject_id=ev.subject_id, payload=ev.payload)
    assert events[-1].payload == {"i": 2, "text": "ünïcødé", "nested": {"b": 1}}
    report = audit.verify(db.session)
    assert report.ok and report.checked == len(events)


def test_services_write_events(db, users):
    actions = [e.action for e in _events(db)]
    assert "user.created" in actions and "panel.created" in actions and "panel.member_added" in actions


def test_rolled_back_change_leaves_no_event(db, users):
    before = len(_events(db))
    audit.record(db.session, "test.rolled_back")
    db.session.rollback()
    assert len(_events(db)) == before
    assert audit.verify(db.session).ok


def test_empty_chain_verifies(db):
    assert audit.verify(db.session) == audit.ChainReport(True, 0)


def test_verify_walks_in_batches(db, users):
    for i in range(7):
        audit.record(db.session, "test.batch", payload={"i": i})
    db.session.commit()
    n = len(_events(db))
    assert audit.verify(db.session, batch=2) == audit.ChainReport(True, n)


def test_cli_verify_ok(runner, db, users):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"ok: {len(_events(db))} events, chain intact" in result.output


def test_flask_command_line_verify(database_url, db, users):
    """The documented command, in a real process against the test database."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_JSON": "0"}
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "chain intact" in proc.stdout


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET action = 'forged'",
    "UPDATE audit_event SET payload = '{}' WHERE id = (SELECT min(id) FROM audit_event)",
    "DELETE FROM audit_event",
    "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)",
])
def test_database_refuses_update_and_delete(db, users, statement):
    before = [(e.id, e.hash) for e in _events(db)]
    assert before
    with pytest.raises(exc.DBAPIError, match="append-only"):
        db.session.execute(text(statement))
        db.session.commit()
    db.session.rollback()
    assert [(e.id, e.hash) for e in _events(db)] == before


def test_orm_update_is_refused_too(db, users):
    ev = _events(db)[0]
    ev.action = "forged"
    with pytest.raises(exc.DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()


PG_TRIGGER = """CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
                FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"""


@contextmanager
def triggers_dropped(db) -> Iterator[None]:
    """Simulate an attacker with direct database access: remove the append-only triggers."""
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        db.session.execute(text("DROP TRIGGER audit_event_no_update ON audit_event"))
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(text("DROP TRIGGER audit_event_no_delete"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        if dialect == "postgresql":  # the PostgreSQL database is shared by the whole run
            db.session.execute(text(PG_TRIGGER))
            db.session.commit()


def test_tampered_content_is_named(runner, db, users):
    events = _events(db)
    victim = events[2]
    with triggers_dropped(db):
        db.session.execute(text("UPDATE audit_event SET payload = :p WHERE id = :id"),
                           {"p": '{"role": "admin"}', "id": victim.id})
        db.session.commit()
        report = audit.verify(db.session)
        assert not report.ok
        assert report.first_broken_id == victim.id
        assert report.checked == 2
        assert "content" in report.reason
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 1
        out = result.output + (getattr(result, "stderr", "") or "")
        assert f"BROKEN at event {victim.id}" in out


def test_deleted_event_breaks_the_next_link(db, users):
    events = _events(db)
    with triggers_dropped(db):
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[1].id})
        db.session.commit()
        report = audit.verify(db.session)
        assert (report.ok, report.first_broken_id) == (False, events[2].id)
        assert "prev_hash" in report.reason


def test_rewritten_chain_tail_is_detected_by_hash(db, users):
    """Recomputing one event's hash without fixing its successor still breaks the chain."""
    events = _events(db)
    ev = events[0]
    forged = audit.event_hash(ev.prev_hash, created_at=ev.created_at, actor_id=ev.actor_id, action="forged",
                              panel_id=ev.panel_id, subject_type=ev.subject_type, subject_id=ev.subject_id,
                              payload=ev.payload)
    with triggers_dropped(db):
        db.session.execute(text("UPDATE audit_event SET action = 'forged', hash = :h WHERE id = :id"),
                           {"h": forged, "id": ev.id})
        db.session.commit()
        report = audit.verify(db.session)
        assert (report.ok, report.first_broken_id) == (False, events[1].id)


def test_concurrent_appends_never_fork(app, db, users):
    threads, per_thread = 4, 8
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            with app.app_context(), Session(db.engine) as s:
                start.wait()
                for i in range(per_thread):
                    audit.record(s, "test.concurrent", payload={"thread": n, "i": i})
                    s.commit()
        except BaseException as e:  # noqa: BLE001 - surface in the main thread
            errors.append(e)

    before = len(_events(db))
    db.session.commit()  # no open transaction in the test's own session while writers run
    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    events = _events(db)
    assert len(events) == before + threads * per_thread
    distinct = db.session.execute(select(func.count(func.distinct(AuditEvent.prev_hash)))).scalar_one()
    assert distinct == len(events)
    assert audit.verify(db.session).ok
