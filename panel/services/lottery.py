"""The panel's lottery: seed announced first, draw in a background job, public transcript,
replacement draws after declines.

Order of events that makes the draw checkable by anyone:
1. ``announce_seed`` freezes the inputs (the people and categories files exactly as the library will
   read them, and their digest) together with the public seed string and its timestamp; all of it
   is public from that moment.
2. ``start_draw`` queues the job; the handler replays the frozen files, so what is published is what
   was drawn from.
3. ``publish`` makes the result (probabilities, ticket, panel) public.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import Invitation, Job, Lottery, Panel, User, Volunteer
from ..models.base import utcnow
from ..models.lottery import ALGORITHMS
from . import audit, jobs
from . import lottery_engine as engine
from . import pool as pool_service
from .lookup import get_or_404
from .panels import get_panel
from .permissions import authorize

MAX_SEED = 200
# Volunteers who hold or are offered a seat.
SEATED = ("selected", "invited", "accepted")
# What the ids of a lottery's people file are (``inputs.people_ids`` and the public transcript's ``people_ids``).
PSEUDONYMS = "per-lottery pseudonyms"
POOL_IDS = "pool ids as uploaded"


def get_lottery(session: Session, lottery_id: int) -> Lottery:
    return get_or_404(session, Lottery, lottery_id, field="lottery_id", label="lottery")


def lotteries(session: Session, panel_id: int) -> list[Lottery]:
    return list(session.execute(select(Lottery).where(Lottery.panel_id == panel_id).order_by(Lottery.id))
                .scalars())


def current_initial(session: Session, panel_id: int) -> Lottery | None:
    """The panel's initial lottery that counts (the latest one that did not fail)."""
    return session.execute(
        select(Lottery).where(Lottery.panel_id == panel_id, Lottery.kind == "initial", Lottery.status != "failed")
        .order_by(Lottery.id.desc()).limit(1)
    ).scalar_one_or_none()


def _inputs(files: pool_service.PoolFiles, size: int, *, pseudonymised: bool) -> dict[str, Any]:
    return {"people_csv": files.people_csv, "categories_csv": files.categories_csv,
            "address_columns": list(files.address_columns), "size": size,
            "people_ids": PSEUDONYMS if pseudonymised else POOL_IDS}


def pool_id(root: Lottery, external_id: str) -> str:
    """The id a volunteer has in the published files of ``root`` (an initial lottery) and its replacements:
    the per-lottery pseudonym, or the pool id as uploaded for lotteries announced before pseudonyms."""
    if root.pseudonym_key is None:
        return external_id
    return pool_service.pseudonym(root.pseudonym_key, "person", external_id)


def volunteers_by_pool_id(session: Session, root: Lottery) -> dict[str, Volunteer]:
    """Map the ids of the published files back to the panel's volunteers (only the app holds the key)."""
    vols = session.execute(select(Volunteer).where(Volunteer.panel_id == root.panel_id)).scalars()
    return {pool_id(root, v.external_id): v for v in vols}


def _files(lot: Lottery) -> pool_service.PoolFiles:
    inputs = (lot.transcript or {})["inputs"]
    return pool_service.PoolFiles(inputs["people_csv"], inputs["categories_csv"], tuple(inputs["address_columns"]))


def announce_seed(session: Session, user: User, panel_id: int, *, seed: str, algorithm: str = "leximin") -> Lottery:
    """Fix the inputs and the public seed string before anything is drawn."""
    panel = get_panel(session, panel_id)
    authorize(session, user, "lottery.run", panel.id)
    seed = (seed or "").strip()
    if not seed:
        raise ValidationFailed("Enter the public seed string to announce (for example tomorrow's national "
                               "lottery numbers, or a phrase agreed in public).", field="seed")
    if len(seed) > MAX_SEED or any(ord(c) < 32 for c in seed):
        raise ValidationFailed(f"The seed must be one line of at most {MAX_SEED} characters.", field="seed")
    if algorithm not in ALGORITHMS:
        raise ValidationFailed(f"Algorithm must be one of: {', '.join(ALGORITHMS)}.", field="algorithm")
    if current_initial(session, panel.id) is not None:
        raise Conflict("A seed has already been announced for this panel's lottery.", field="seed",
                       code="seed_already_announced")
    if not panel.features:
        raise ValidationFailed("Upload the pool and quotas first.", field="seed", code="no_pool")
    # The frozen files are the published ones: per-lottery pseudonyms, quota features, household pseudonyms.
    key = pool_service.new_pseudonym_key()
    files = pool_service.pool_files(session, panel, key=key)
    pool = pool_service.load_pool(files)
    if len(pool.people) < panel.size:
        raise ValidationFailed(pool_service.too_small(len(pool.people), panel.size), field="seed",
                               code="pool_too_small")
    now = utcnow()
    lot = Lottery(panel_id=panel.id, kind="initial", algorithm=algorithm, algorithm_version=engine.ALGORITHM_VERSION,
                  seed=seed, seed_announced_at=now, input_digest=engine.input_digest(pool, panel.size),
                  status="pending", created_by_id=user.id, pseudonym_key=key,
                  transcript={"inputs": _inputs(files, panel.size, pseudonymised=True)})
    session.add(lot)
    session.flush()
    audit.record(session, "lottery.seed_announced", actor_id=user.id, panel_id=panel.id, subject_type="lottery",
                 subject_id=lot.id, payload={"seed": seed, "algorithm": algorithm, "input_digest": lot.input_digest,
                                             "announced_at": now.isoformat(), "pool": len(pool.people),
                                             "size": panel.size})
    session.commit()
    return lot


def job_for(session: Session, lot: Lottery) -> Job | None:
    job_id = (lot.transcript or {}).get("job_id")
    return session.get(Job, job_id) if job_id else None


def _set_transcript(lot: Lottery, **items: Any) -> None:
    data = dict(lot.transcript or {})
    data.update(items)
    lot.transcript = data  # reassign: JSON columns do not track in-place changes


def start_draw(session: Session, user: User, lottery_id: int) -> Job:
    lot = get_lottery(session, lottery_id)
    authorize(session, user, "lottery.run", lot.panel_id)
    if lot.status != "pending":
        raise Conflict(f"This lottery is {lot.status}; only an announced, not yet drawn lottery can be drawn.",
                       code="lottery_not_pending")
    job = jobs.enqueue(session, "lottery.draw", {"lottery_id": lot.id, "panel_id": lot.panel_id})
    lot.status = "running"
    _set_transcript(lot, job_id=job.id)
    audit.record(session, "lottery.draw_started", actor_id=user.id, panel_id=lot.panel_id, subject_type="lottery",
                 subject_id=lot.id, payload={"job_id": job.id, "seed": lot.seed})
    session.commit()
    return job


def _fail(session: Session, lot_id: int, message: str, diagnosis: dict[str, Any] | None) -> None:
    session.rollback()
    lot = get_lottery(session, lot_id)
    lot.status = "failed"
    lot.error = message
    lot.finished_at = utcnow()
    if diagnosis:
        _set_transcript(lot, diagnosis=diagnosis)
    audit.record(session, "lottery.failed", actor_id=lot.created_by_id, panel_id=lot.panel_id,
                 subject_type="lottery", subject_id=lot.id, payload={"error": message[:500]})
    session.commit()


def _store_result(lot: Lottery, result: Any) -> None:
    lot.algorithm_version = result.algorithm_version
    lot.probabilities = {k: float(v) for k, v in result.probabilities.items()}
    lot.selected = list(result.panel)
    lot.min_probability = float(result.min_probability)
    lot.ticket = int(result.ticket)
    lot.lottery_size = int(result.lottery.size)
    lot.finished_at = utcnow()
    published = result.transcript()
    published.pop("probabilities", None)  # stored in its own column
    _set_transcript(lot, result=published)


@contextmanager
def _failing_on_engine_error(session: Session, lot_id: int, infeasible: str) -> Iterator[None]:
    """Both draw jobs fail the same way: mark the lottery failed (with the quota diagnosis when the
    quotas are infeasible) and end the job with a message the organizer can act on."""
    try:
        yield
    except engine.InfeasibleQuotasError as e:
        _fail(session, lot_id, e.diagnosis.describe() or e.message, engine.diagnosis_dict(e.diagnosis))
        raise jobs.JobFailed(f"{infeasible}: {e.message}") from None
    except engine.SortitionError as e:
        _fail(session, lot_id, str(e), None)
        raise jobs.JobFailed(str(e)) from None


@contextmanager
def _ticking(progress: jobs.Progress, fraction: float, message: str) -> Iterator[None]:
    """While the solver runs (it reports nothing itself), show the elapsed time every second."""
    stop = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not stop.wait(1.0):
            progress(fraction, f"{message} ({time.monotonic() - started:.0f} s)")

    progress(fraction, message)
    thread = threading.Thread(target=tick, name="pnyx-job-ticker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@jobs.handler("lottery.draw")
def _draw(session: Session, job: Job, progress: jobs.Progress) -> dict[str, Any]:
    lot_id = int(job.payload["lottery_id"])
    lot = get_lottery(session, lot_id)
    size = int((lot.transcript or {})["inputs"]["size"])
    files, algorithm, seed, digest = _files(lot), lot.algorithm, lot.seed, lot.input_digest
    session.commit()  # hold no transaction while the solver runs
    progress(0.02, "Reading the frozen pool and quotas")
    pool = pool_service.load_pool(files)
    if engine.input_digest(pool, size) != digest:
        _fail(session, lot_id, "The inputs no longer match the digest announced with the seed.", None)
        raise jobs.JobFailed("The inputs no longer match the digest announced with the seed.")
    with _failing_on_engine_error(session, lot_id, "The quotas cannot be met"):
        progress(0.05, "Checking that the quotas can be met")
        diagnosis = engine.check_feasibility(pool, size)
        if diagnosis is not None:
            raise engine.InfeasibleQuotasError("no panel of this size meets every quota", diagnosis)
        with _ticking(progress, 0.15, f"Computing the {algorithm} distribution and the 1000-ticket lottery"):
            result = engine.select(pool, size, algorithm=algorithm, seed=seed)
    progress(0.98, "Saving the result")
    lot = get_lottery(session, lot_id)
    _store_result(lot, result)
    lot.status = "done"
    chosen = set(result.panel)
    by_id = volunteers_by_pool_id(session, lot)
    for pid in sorted(chosen):
        vol = by_id.get(pid)
        if vol is not None and vol.status == "pool":
            vol.status = "selected"
    panel = session.get(Panel, lot.panel_id)
    if panel is not None and panel.status in ("draft", "recruiting"):
        panel.status = "selected"
    audit.record(session, "lottery.drawn", actor_id=lot.created_by_id, panel_id=lot.panel_id,
                 subject_type="lottery", subject_id=lot.id,
                 payload={"seed": seed, "input_digest": digest, "algorithm": algorithm,
                          "algorithm_version": lot.algorithm_version, "ticket": lot.ticket,
                          "lottery_size": lot.lottery_size, "min_probability": lot.min_probability,
                          "selected": sorted(chosen)})
    session.commit()
    return {"lottery_id": lot_id, "ticket": lot.ticket, "selected": len(chosen)}


def publish(session: Session, user: User, lottery_id: int) -> Lottery:
    lot = get_lottery(session, lottery_id)
    authorize(session, user, "lottery.run", lot.panel_id)
    if lot.status == "published":
        return lot
    if lot.status != "done":
        raise Conflict("Only a finished draw can be published.", code="lottery_not_done")
    now = utcnow()
    lot.status, lot.published_at = "published", now
    for child in session.execute(select(Lottery).where(Lottery.parent_id == lot.id, Lottery.status == "done")
                                 ).scalars():
        child.status, child.published_at = "published", now
    audit.record(session, "lottery.published", actor_id=user.id, panel_id=lot.panel_id, subject_type="lottery",
                 subject_id=lot.id, payload={"ticket": lot.ticket, "input_digest": lot.input_digest})
    session.commit()
    return lot


def public_lottery(session: Session, lottery_id: int) -> Lottery:
    """What anyone may see: an announced seed (before the draw), and published results."""
    lot = get_lottery(session, lottery_id)
    root = lot if lot.parent_id is None else get_lottery(session, lot.parent_id)
    if root.status in ("pending", "running", "published") or lot.status == "published":
        return lot
    raise NotFound(f"No public lottery with id {lottery_id}.", field="lottery_id")


def replacements(session: Session, lot: Lottery) -> list[Lottery]:
    return list(session.execute(select(Lottery).where(Lottery.parent_id == lot.id).order_by(Lottery.id)).scalars())


# --- replacements ---------------------------------------------------------------------------

def replacement_seed(root: Lottery, n: int) -> str:
    """Announced with the initial seed: replacement draw n uses '<seed>/replacement-<n>'."""
    return f"{root.seed}/replacement-{n}"


def request_replacement(session: Session, panel_id: int, declined_external_id: str, actor_id: int | None) -> Lottery:
    """Queue a replacement draw in the caller's transaction (called when a selected person declines)."""
    root = current_initial(session, panel_id)
    if root is None or root.status not in ("done", "published"):
        raise Conflict("There is no finished lottery to draw replacements for.", code="no_lottery")
    n = int(session.execute(select(func.count(Lottery.id)).where(Lottery.parent_id == root.id)).scalar_one()) + 1
    lot = Lottery(panel_id=panel_id, kind="replacement", parent_id=root.id, algorithm=root.algorithm,
                  algorithm_version=engine.ALGORITHM_VERSION, seed=replacement_seed(root, n), seed_announced_at=utcnow(),
                  status="running", created_by_id=actor_id,
                  transcript={"declined": [pool_id(root, declined_external_id)]})
    session.add(lot)
    session.flush()
    job = jobs.enqueue(session, "lottery.replace", {"lottery_id": lot.id, "panel_id": panel_id})
    _set_transcript(lot, job_id=job.id)
    audit.record(session, "lottery.replacement_requested", actor_id=actor_id, panel_id=panel_id,
                 subject_type="lottery", subject_id=lot.id,
                 payload={"parent": root.id, "seed": lot.seed, "declined": declined_external_id})
    return lot


@jobs.handler("lottery.replace")
def _replace(session: Session, job: Job, progress: jobs.Progress) -> dict[str, Any]:
    from . import invitations

    lot_id = int(job.payload["lottery_id"])
    lot = get_lottery(session, lot_id)
    panel = get_panel(session, lot.panel_id)
    if lot.parent_id is None:
        raise jobs.JobFailed("A replacement draw needs the original lottery.")
    root = get_lottery(session, lot.parent_id)
    # The state of the panel is read when the draw starts (not when it was requested), so that
    # declines arriving close together are each drawn against the panel as it then stands.
    earlier = session.execute(select(Lottery).where(Lottery.parent_id == root.id, Lottery.id != lot.id,
                                                    Lottery.status.in_(("done", "published")))).scalars().all()
    chain = set(root.selected or [])
    for e in earlier:
        chain.update((e.transcript or {}).get("drawn", []))
    by_id = volunteers_by_pool_id(session, root)
    status = {pid: vol.status for pid, vol in by_id.items()}
    current = sorted(pid for pid in chain if status.get(pid) in (*SEATED, "declined"))
    declined = sorted(pid for pid in current if status.get(pid) == "declined")
    excluded = sorted(pid for pid, st in status.items() if st in ("replaced", "withdrawn", "declined")
                      and pid not in current)
    base = pool_service.load_pool(_files(root))
    size = int(_files_size(root))
    if not declined:
        # An earlier replacement draw already filled every open seat (declines close together).
        lot.status = "published" if root.status == "published" else "done"
        lot.finished_at = utcnow()
        _set_transcript(lot, drawn=[], note="No seat was open: an earlier replacement draw filled it.")
        audit.record(session, "lottery.replacement_drawn", actor_id=lot.created_by_id, panel_id=panel.id,
                     subject_type="lottery", subject_id=lot.id, payload={"seed": lot.seed, "drawn": []})
        session.commit()
        return {"lottery_id": lot_id, "drawn": [], "invited": 0}
    with _failing_on_engine_error(session, lot_id, "No replacement keeps the quotas"):
        sub, seats = engine.replacement_pool(base, current, declined, excluded)
        sub_files = pool_service.PoolFiles(engine.people_csv(sub), engine.categories_csv(sub.categories.quota_list()),
                                           tuple(sub.address_columns))
        lot.input_digest = engine.input_digest(sub, seats)
        _set_transcript(lot, inputs=_inputs(sub_files, seats, pseudonymised=root.pseudonym_key is not None),
                        selected_before=current, declined_now=declined,
                        excluded=excluded, base_lottery=root.id, panel_size=size)
        session.commit()
        with _ticking(progress, 0.1, f"Drawing {seats} replacement(s) with {lot.algorithm}"):
            result = engine.replace(base, selected=current, declined=declined, exclude=excluded,
                                    algorithm=lot.algorithm, seed=lot.seed)
    lot = get_lottery(session, lot_id)
    if result.input_digest != lot.input_digest:
        _fail(session, lot_id, "The replacement inputs do not match their published digest.", None)
        raise jobs.JobFailed("The replacement inputs do not match their published digest.")
    _store_result(lot, result)
    new_ids = sorted(result.panel)
    _set_transcript(lot, drawn=new_ids)
    lot.status = "published" if root.status == "published" else "done"
    if lot.status == "published":
        lot.published_at = utcnow()
    for pid in declined:
        by_id[pid].status = "replaced"
    new_vols = [by_id[pid] for pid in new_ids if pid in by_id]
    for vol in new_vols:
        vol.status = "selected"
    audit.record(session, "lottery.replacement_drawn", actor_id=lot.created_by_id, panel_id=panel.id,
                 subject_type="lottery", subject_id=lot.id,
                 payload={"seed": lot.seed, "input_digest": lot.input_digest, "ticket": lot.ticket,
                          "lottery_size": lot.lottery_size, "kept": len(current) - len(declined),
                          "drawn": new_ids, "replaced": declined})
    session.flush()
    invited = 0
    if session.execute(select(func.count(Invitation.id)).where(Invitation.panel_id == panel.id)).scalar_one():
        invited = invitations.invite_volunteers(session, panel, new_vols, lot, actor_id=lot.created_by_id)
    session.commit()
    return {"lottery_id": lot_id, "drawn": new_ids, "invited": invited}


def _files_size(lot: Lottery) -> int:
    return int((lot.transcript or {})["inputs"]["size"])


# --- what the pages show ---------------------------------------------------------------------

@dataclass
class GroupProbability:
    feature: str
    value: str
    people: int
    mean: float
    low: float
    high: float
    expected_seats: float
    min: int
    max: int
    selected: int


def _people_features(lot: Lottery) -> tuple[list[str], dict[str, list[str]]]:
    text = (lot.transcript or {}).get("inputs", {}).get("people_csv", "")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    return header, {row[0]: row for row in reader if row}


def group_probabilities(lot: Lottery) -> list[GroupProbability]:
    """Per feature value: how likely a member of the group was to be selected, and expected seats."""
    if not lot.probabilities:
        return []
    header, people = _people_features(lot)
    cats = engine.parse_categories((lot.transcript or {})["inputs"]["categories_csv"], "categories.csv")
    chosen = set(lot.selected or [])
    rows = []
    for feature in cats.features:
        col = header.index(feature)
        for value in cats.values[feature]:
            ids = [pid for pid, row in people.items() if row[col] == value]
            probs = [lot.probabilities.get(pid, 0.0) for pid in ids]
            q = cats.quotas[(feature, value)]
            rows.append(GroupProbability(
                feature, value, len(ids), sum(probs) / len(probs) if probs else 0.0,
                min(probs, default=0.0), max(probs, default=0.0), sum(probs), q.min, q.max,
                sum(1 for pid in ids if pid in chosen)))
    return rows


def public_transcript(lot: Lottery, panel: Panel) -> dict[str, Any]:
    """The downloadable transcript (everything but the input files, which are separate downloads)."""
    data: dict[str, Any] = dict((lot.transcript or {}).get("result") or {})
    data.update({
        "pnyx_lottery_id": lot.id, "panel_slug": panel.slug, "kind": lot.kind, "parent_id": lot.parent_id,
        "seed": lot.seed, "seed_announced_at": lot.seed_announced_at.isoformat(),
        "algorithm": lot.algorithm, "algorithm_version": lot.algorithm_version,
        "input_digest": lot.input_digest, "size": (lot.transcript or {}).get("inputs", {}).get("size"),
        "address_columns": (lot.transcript or {}).get("inputs", {}).get("address_columns", []),
        "people_ids": ((lot.transcript or {}).get("inputs") or {}).get(
            "people_ids", POOL_IDS if (lot.transcript or {}).get("inputs") else None),
        "status": lot.status,
    })
    if lot.probabilities is not None:
        data.update({"probabilities": lot.probabilities, "panel_ids": lot.selected, "ticket": lot.ticket,
                     "lottery_size": lot.lottery_size, "min_probability": lot.min_probability,
                     "published_at": lot.published_at.isoformat() if lot.published_at else None})
    for key in ("selected_before", "declined_now", "excluded", "drawn", "declined", "base_lottery", "panel_size",
                "note"):
        if key in (lot.transcript or {}):
            data[key] = lot.transcript[key]  # type: ignore[index]
    return data
