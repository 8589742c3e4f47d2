"""The background job runner: queue, claim, progress, failure, worker thread, CLI, JSON endpoint."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from panel.models import Job
from panel.models.base import utcnow
from panel.services import jobs


@jobs.handler("test.steps")
def _steps(session, job, progress):
    for i in range(1, 4):
        progress(i / 4, f"step {i}")
        seen = session.get(Job, job.id)
        session.refresh(seen)
        assert seen.progress == pytest.approx(i / 4)  # visible to other sessions straight away
    return {"echo": job.payload.get("value")}


@jobs.handler("test.refuses")
def _refuses(session, job, progress):
    raise jobs.JobFailed("the quotas cannot be met")


@jobs.handler("test.crashes")
def _crashes(session, job, progress):
    raise ValueError("bug")


def test_job_runs_with_progress_and_result(db):
    job = jobs.enqueue(db.session, "test.steps", {"value": 7})
    db.session.commit()
    assert job.status == "queued"
    assert jobs.run_pending(db.session) == 1
    db.session.refresh(job)
    assert (job.status, job.progress, job.result, job.message) == ("done", 1.0, {"echo": 7}, "Done")
    assert job.started_at is not None and job.finished_at is not None


@pytest.mark.parametrize("kind,error", [("test.refuses", "the quotas cannot be met"),
                                        ("test.crashes", "Internal error (ValueError); it has been logged.")])
def test_failures_are_recorded_not_raised(db, kind, error):
    job = jobs.enqueue(db.session, kind, {})
    db.session.commit()
    jobs.run_pending(db.session)
    db.session.refresh(job)
    assert job.status == "failed" and job.error == error


def test_unknown_kind_cannot_be_queued(db):
    with pytest.raises(KeyError):
        jobs.enqueue(db.session, "nope", {})


def test_claim_takes_each_job_once(db):
    jobs.enqueue(db.session, "test.steps", {})
    db.session.commit()
    first = jobs.claim(db.session)
    assert first is not None and first.status == "running"
    assert jobs.claim(db.session) is None


def test_stale_running_jobs_are_requeued(db):
    job = jobs.enqueue(db.session, "test.steps", {})
    db.session.commit()
    db.session.execute(update(Job).where(Job.id == job.id)
                       .values(status="running", started_at=utcnow() - timedelta(hours=3)))
    db.session.commit()
    assert jobs.requeue_stale(db.session) == 1
    db.session.refresh(job)
    assert job.status == "queued"


def test_worker_thread_picks_up_jobs(app, db):
    job = jobs.enqueue(db.session, "test.steps", {"value": "thread"})
    db.session.commit()
    job_id = job.id
    stop = jobs.start_worker_thread(app, poll_seconds=0.05)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            db.session.expire_all()
            if db.session.get(Job, job_id).status == "done":
                break
            time.sleep(0.05)
        assert db.session.get(Job, job_id).result == {"echo": "thread"}
    finally:
        stop.set()


def test_cli_runs_queued_jobs(db, runner):
    jobs.enqueue(db.session, "test.steps", {"value": 1})
    db.session.commit()
    result = runner.invoke(args=["jobs", "work", "--once"])
    assert result.exit_code == 0 and "ran 1 job\n" in result.output


def _job_for_panel(db, panel_id):
    job = jobs.enqueue(db.session, "test.steps", {"panel_id": panel_id})
    db.session.commit()
    return job.id


@pytest.mark.parametrize("role,status", [("organizer", 200), ("admin", 200), ("other_organizer", 403),
                                         ("observer", 403), ("citizen", 403), ("facilitator", 403)])
def test_progress_endpoint_access(db, client, auth, users, role, status):
    job_id = _job_for_panel(db, users["panel"].id)
    auth.as_user(users[role])
    resp = client.get(f"/jobs/{job_id}.json")
    assert resp.status_code == status
    if status == 200:
        assert resp.get_json() == {"id": job_id, "kind": "test.steps", "status": "queued", "progress": 0.0,
                                   "message": "Waiting for a worker…", "error": None}
    else:
        assert resp.get_json()["error"]["code"] == "forbidden"


def test_progress_endpoint_unknown_and_anonymous(db, client, auth, users):
    job_id = _job_for_panel(db, users["panel"].id)
    assert client.get(f"/jobs/{job_id}.json").status_code in (302, 401)
    auth.as_user(users["organizer"])
    assert client.get("/jobs/999999.json").status_code == 404
