"""Background jobs over the ``job`` table: long work (lottery draws) never runs inside a request.

A request inserts a queued row (``enqueue``) in its own transaction. A worker — a daemon thread the
web process starts on its first request, or ``flask --app wsgi jobs work`` — claims one row at a time
(atomically, so several workers can share the table), runs the handler registered for its ``kind``
and writes progress into the row as it goes; pages poll that row through a JSON endpoint.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any, cast

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from ..errors import ServiceError
from ..models import Job
from ..models.base import utcnow
from . import background
from .lookup import get_or_404

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Handler = Callable[[Session, Job, Progress], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


class JobFailed(Exception):
    """A handler's expected failure: the message is shown to the user as the job's error."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn
    return register


def enqueue(session: Session, kind: str, payload: dict[str, Any]) -> Job:
    """Add a queued job in the caller's transaction (it becomes visible when the caller commits)."""
    if kind not in HANDLERS:
        raise KeyError(f"no job handler for {kind!r}")
    job = Job(kind=kind, status="queued", progress=0.0, message="Waiting for a worker…", payload=payload)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job:
    return get_or_404(session, Job, job_id, field="job_id", label="job")


def claim(session: Session) -> Job | None:
    """Take the oldest queued job; the conditional UPDATE makes the claim safe across workers."""
    stmt = select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    job_id = session.execute(stmt).scalar()
    if job_id is None:
        session.rollback()
        return None
    taken = cast(CursorResult[Any], session.execute(
        update(Job).where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=utcnow(), message="Started")
    )).rowcount
    session.commit()
    if not taken:
        return None
    return session.get(Job, job_id)


def set_progress(engine: Any, job_id: int, fraction: float, message: str) -> None:
    """Progress goes through its own short transaction so pollers see it while the handler works."""
    with Session(engine) as s:
        s.execute(update(Job).where(Job.id == job_id)
                  .values(progress=max(0.0, min(1.0, float(fraction))), message=message[:300]))
        s.commit()


def _finish(engine: Any, job_id: int, status: str, *, result: dict[str, Any] | None = None,
            error: str | None = None, message: str = "") -> None:
    with Session(engine) as s:
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "message": message[:300]}
        if status == "done":
            values["progress"] = 1.0
            values["result"] = result or {}
        else:
            values["error"] = error
        s.execute(update(Job).where(Job.id == job_id).values(**values))
        s.commit()


def run_job(session: Session, job: Job) -> None:
    """Run one claimed job to completion, recording success or failure in its row."""
    fn = HANDLERS.get(job.kind)
    engine = session.get_bind()
    job_id = job.id
    if fn is None:
        _finish(engine, job_id, "failed", error=f"No handler for job kind {job.kind!r}.", message="Failed")
        return
    try:
        result = fn(session, job, lambda f, m: set_progress(engine, job_id, f, m))
    except (JobFailed, ServiceError) as e:
        session.rollback()
        _finish(engine, job_id, "failed", error=str(e), message="Failed")
    except Exception as e:  # noqa: BLE001 - a worker must survive any handler bug and say so
        session.rollback()
        log.error("job %s (%s) crashed: %s", job_id, job.kind, traceback.format_exc())
        _finish(engine, job_id, "failed", error=f"Internal error ({type(e).__name__}); it has been logged.",
                message="Failed")
    else:
        _finish(engine, job_id, "done", result=result, message="Done")


def run_pending(session: Session, limit: int | None = None) -> int:
    """Run queued jobs in this thread until none are left (CLI ``--once`` and tests)."""
    _load_handlers()
    done = 0
    while limit is None or done < limit:
        job = claim(session)
        if job is None:
            break
        run_job(session, job)
        done += 1
    return done


def requeue_stale(session: Session, older_than_seconds: int = 3600) -> int:
    """Jobs left 'running' by a worker that died are put back in the queue."""
    from datetime import timedelta
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    n = cast(CursorResult[Any], session.execute(
        update(Job).where(Job.status == "running", Job.started_at < cutoff)
        .values(status="queued", message="Requeued after a worker stopped"))).rowcount
    session.commit()
    return int(n or 0)


def _load_handlers() -> None:
    from . import lottery  # noqa: F401  (registers the lottery handlers)


def work(app: Flask, stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Worker loop: claim and run jobs until ``stop`` is set."""
    _load_handlers()
    from ..extensions import db

    while not stop.is_set():
        ran = 0
        try:
            with app.app_context():
                ran = run_pending(db.session, limit=1)
                db.session.remove()
        except Exception:  # noqa: BLE001 - e.g. database briefly unreachable: wait and retry
            log.error("job worker error: %s", traceback.format_exc())
        if not ran:
            stop.wait(poll_seconds)


def start_worker_thread(app: Flask, poll_seconds: float = 1.0) -> threading.Event:
    """Start (once per app) a daemon worker thread; returns the event that stops it."""
    return background.start_once("pnyx-jobs", app, work, poll_seconds)


def init_app(app: Flask) -> None:
    """Register ``flask jobs work``; serving processes start a worker thread on their first request."""
    import click
    from flask.cli import AppGroup

    cli = AppGroup("jobs", help="Background jobs (lottery draws).")

    @cli.command("work")
    @click.option("--once", is_flag=True, help="Run the queued jobs, then exit.")
    @click.option("--poll", default=1.0, show_default=True, help="Seconds between looks at the queue.")
    def work_command(once: bool, poll: float) -> None:
        """Run queued jobs (in the foreground)."""
        from ..extensions import db

        requeue_stale(db.session)
        if once:
            click.echo(ngettext("ran %(num)d job", "ran %(num)d jobs", run_pending(db.session)))
            return
        stop = threading.Event()
        try:
            work(app, stop, poll)
        except KeyboardInterrupt:
            stop.set()

    app.cli.add_command(cli)

    if app.config.get("JOBS_WORKER_THREAD", not app.config.get("TESTING")):
        @app.before_request
        def _ensure_worker() -> None:
            start_worker_thread(app)
