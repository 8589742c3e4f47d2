"""Polls: set-up by the organizer, opening, closing, and publishing the count.

Life cycle: ``draft`` (editable) → ``open`` (ballots accepted between ``opens_at`` and
``closes_at``) → ``closed`` (no more ballots; the anonymised ballot list can be checked) →
``published`` (the tally is stored in ``Poll.result`` and shown). Opening, closing and
publishing are audited; casting is not (the audit log never says who voted for what).
"""

from __future__ import annotations

import hashlib
import shlex
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Conflict, ValidationFailed
from ..models import Ballot, Feature, Panel, PanelMember, Poll, PollVoter, Proposal, User
from ..models.base import utcnow
from ..models.decisions import BALLOT_TYPES
from . import audit, tally_engine
from .lookup import get_or_404
from .panels import get_panel
from .permissions import MEMBER_STATUSES_WITH_RIGHTS, authorize, can

NAME_MAX = 80
MAX_CANDIDATES = 50
RESULT_VERSION = 1


def get_poll(session: Session, poll_id: int) -> Poll:
    return get_or_404(session, Poll, poll_id, field="poll_id", label="poll")


def view_poll(session: Session, user: User | None, poll_id: int) -> Poll:
    """Members and staff see their panel's polls (drafts: only poll managers); anyone sees a published one."""
    poll = get_poll(session, poll_id)
    if poll.status == "draft":  # a draft is still being set up: only those who manage polls see it
        authorize(session, user, "poll.manage", poll.panel_id)
    elif poll.status != "published":
        authorize(session, user, "panel.view", poll.panel_id)
    return poll


def list_polls(session: Session, user: User, panel_id: int) -> list[Poll]:
    get_panel(session, panel_id)
    authorize(session, user, "panel.view", panel_id)
    stmt = select(Poll).where(Poll.panel_id == panel_id).order_by(Poll.id.desc())
    if not can(session, user, "poll.manage", panel_id):
        stmt = stmt.where(Poll.status != "draft")
    return list(session.execute(stmt).scalars())


def voting_state(poll: Poll, now: datetime | None = None) -> str:
    """``draft`` | ``scheduled`` (open, not yet started) | ``open`` | ``closed`` (status or time)."""
    now = now or utcnow()
    if poll.status == "draft":
        return "draft"
    if poll.status != "open":
        return "closed"
    if poll.closes_at is not None and now >= poll.closes_at:
        return "closed"
    if poll.opens_at is not None and now < poll.opens_at:
        return "scheduled"
    return "open"


def _names(value: object, field: str, *, low: int, high: int) -> list[str]:
    if isinstance(value, str):
        value = [x for x in value.splitlines()]
    if not isinstance(value, list):
        raise ValidationFailed("Give a list of names, one per line.", field=field)
    names: list[str] = []
    for i, raw in enumerate(value, 1):
        if not isinstance(raw, str):
            raise ValidationFailed(f"Entry {i} is not text.", field=field)
        name = raw.strip()
        if not name:
            continue
        if len(name) > NAME_MAX or "," in name:
            raise ValidationFailed(f"{name[:40]!r}: names have at most {NAME_MAX} characters and no commas "
                                   "(commas separate names on the command line).", field=field)
        if name in names:
            raise ValidationFailed(f"{name!r} is listed twice.", field=field)
        names.append(name)
    if not low <= len(names) <= high:
        raise ValidationFailed(f"List between {low} and {high} names (one per line); you gave {len(names)}.",
                               field=field)
    return names


def _int(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(f"Must be a whole number between {low} and {high}.", field=field)
    return value


def _clean(session: Session, panel_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    """Validate every poll setting; return the column values."""
    title = fields.get("title")
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > 200:
        raise ValidationFailed("Title is required (at most 200 characters).", field="title")
    ballot_type = fields.get("ballot_type")
    if ballot_type not in BALLOT_TYPES:
        raise ValidationFailed(f"Ballot type must be one of: {', '.join(BALLOT_TYPES)}.", field="ballot_type")
    if ballot_type == "yesno":
        candidates = list(tally_engine.YESNO_CANDIDATES)
    else:
        candidates = _names(fields.get("candidates"), "candidates", low=2, high=MAX_CANDIDATES)
    seats = _int(fields.get("seats", 1) or 1, "seats", 1, MAX_CANDIDATES)
    score_min = _int(fields.get("score_min", 0), "score_min", -100, 100)
    score_max = _int(fields.get("score_max", 5), "score_max", -100, 100)
    if ballot_type == "score" and score_min >= score_max:
        raise ValidationFailed("The lowest score must be below the highest.", field="score_max")
    if ballot_type != "score":
        score_min, score_max = 0, 5
    grade_scale = None
    if ballot_type == "grades":
        raw = fields.get("grade_scale") or list(tally_engine.DEFAULT_GRADE_SCALE)
        grade_scale = _names(raw, "grade_scale", low=2, high=10)
    method = fields.get("method")
    if not isinstance(method, str) or not method:
        raise ValidationFailed("Choose a counting method.", field="method")
    tally_engine.check_method(ballot_type, method, seats, len(candidates))
    tally_engine.dry_run(tally_engine.PollSpec(ballot_type, method, tuple(candidates), seats, score_min, score_max,
                                               tuple(grade_scale or tally_engine.DEFAULT_GRADE_SCALE)))
    opens_at, closes_at = fields.get("opens_at"), fields.get("closes_at")
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value is not None and not isinstance(value, datetime):
            raise ValidationFailed("Give a date and time.", field=name)
    if opens_at and closes_at and closes_at <= opens_at:
        raise ValidationFailed("The poll must close after it opens.", field="closes_at")
    proposal_id = fields.get("proposal_id")
    if proposal_id is not None:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None or proposal.panel_id != panel_id:
            raise ValidationFailed("The proposal does not exist in this panel.", field="proposal_id")
    return {"title": title.strip(), "ballot_type": ballot_type, "method": method, "candidates": candidates,
            "seats": seats, "score_min": score_min, "score_max": score_max, "grade_scale": grade_scale,
            "secret": bool(fields.get("secret", True)), "opens_at": opens_at, "closes_at": closes_at,
            "proposal_id": proposal_id}


def create_poll(session: Session, user: User, panel_id: int, **fields: Any) -> Poll:
    get_panel(session, panel_id)
    authorize(session, user, "poll.manage", panel_id)
    values = _clean(session, panel_id, fields)
    poll = Poll(panel_id=panel_id, status="draft", **values)
    session.add(poll)
    session.flush()
    audit.record(session, "poll.created", actor_id=user.id, panel_id=panel_id, subject_type="poll",
                 subject_id=poll.id, payload={"title": poll.title, "ballot_type": poll.ballot_type,
                                              "method": poll.method, "secret": poll.secret})
    session.commit()
    return poll


def update_poll(session: Session, user: User, poll_id: int, **fields: Any) -> Poll:
    poll = get_poll(session, poll_id)
    authorize(session, user, "poll.manage", poll.panel_id)
    if poll.status != "draft":
        raise Conflict("Only a draft poll can be changed; this one is already open.", field="status")
    for key, value in _clean(session, poll.panel_id, fields).items():
        setattr(poll, key, value)
    session.commit()
    return poll


def _spec_payload(poll: Poll) -> dict[str, Any]:
    return {"ballot_type": poll.ballot_type, "method": poll.method, "candidates": list(poll.candidates),
            "seats": poll.seats, "secret": poll.secret,
            "opens_at": poll.opens_at.isoformat() if poll.opens_at else None,
            "closes_at": poll.closes_at.isoformat() if poll.closes_at else None}


def open_poll(session: Session, user: User, poll_id: int) -> Poll:
    poll = get_poll(session, poll_id)
    authorize(session, user, "poll.manage", poll.panel_id)
    if poll.status != "draft":
        raise Conflict(f"The poll is already {poll.status}.", field="status")
    if poll.closes_at is not None and poll.closes_at <= utcnow():
        raise ValidationFailed("The closing time is in the past; change it before opening.", field="closes_at")
    poll.status = "open"
    audit.record(session, "poll.opened", actor_id=user.id, panel_id=poll.panel_id, subject_type="poll",
                 subject_id=poll.id, payload=_spec_payload(poll))
    session.commit()
    return poll


def ballot_count(session: Session, poll_id: int) -> int:
    return int(session.execute(select(func.count(Ballot.id)).where(Ballot.poll_id == poll_id)).scalar_one())


def voter_count(session: Session, poll_id: int) -> int:
    return int(session.execute(select(func.count(PollVoter.id)).where(PollVoter.poll_id == poll_id))
               .scalar_one())


def close_poll(session: Session, user: User, poll_id: int) -> Poll:
    poll = get_poll(session, poll_id)
    authorize(session, user, "poll.manage", poll.panel_id)
    if poll.status != "open":
        raise Conflict(f"Only an open poll can be closed; this one is {poll.status}.", field="status")
    _close(session, poll, user.id)
    session.commit()
    return poll


def _close(session: Session, poll: Poll, actor_id: int | None) -> None:
    poll.status = "closed"
    if poll.closes_at is None or poll.closes_at > utcnow():
        poll.closes_at = utcnow()
    audit.record(session, "poll.closed", actor_id=actor_id, panel_id=poll.panel_id, subject_type="poll",
                 subject_id=poll.id, payload={"ballots": ballot_count(session, poll.id),
                                              "voters": voter_count(session, poll.id)})


def anonymised_ballots(session: Session, poll: Poll) -> list[tuple[str, dict[str, Any]]]:
    """(receipt hash, ballot) pairs sorted by receipt hash, so the order says nothing about who or when."""
    rows = session.execute(select(Ballot.receipt_hash, Ballot.content).where(Ballot.poll_id == poll.id)
                           .order_by(Ballot.receipt_hash)).all()
    return [(r[0], dict(r[1])) for r in rows]


def export_jsonl(session: Session, poll: Poll) -> str:
    return tally_engine.export_lines(anonymised_ballots(session, poll))


def eligible_count(session: Session, panel_id: int) -> int:
    """Members entitled to vote: the panel's citizen members with rights (the quorum base)."""
    return int(session.execute(select(func.count(PanelMember.id)).where(
        PanelMember.panel_id == panel_id, PanelMember.role == "citizen",
        PanelMember.status.in_(MEMBER_STATUSES_WITH_RIGHTS))).scalar_one())


def population_shares(session: Session, panel_id: int) -> dict[str, dict[str, float]]:
    """Feature → value → population share, for the features whose shares are all known."""
    out: dict[str, dict[str, float]] = {}
    for feature in session.execute(select(Feature).where(Feature.panel_id == panel_id)).scalars():
        shares = {v.value: float(v.share) for v in feature.values if v.share is not None}
        if shares and len(shares) == len(feature.values):
            out[feature.name] = shares
    return out


def publish(session: Session, user: User, poll_id: int) -> Poll:
    """Count the ballots, store the result, and audit the digest of exactly what was counted.

    An open poll whose closing time has passed is closed first; an open poll still running must be
    closed explicitly (so nobody publishes by accident while members are voting).
    """
    poll = get_poll(session, poll_id)
    authorize(session, user, "poll.manage", poll.panel_id)
    if poll.status == "open" and voting_state(poll) == "closed":
        _close(session, poll, user.id)
    if poll.status != "closed":
        raise Conflict("Close the poll before publishing its count." if poll.status == "open"
                       else f"The poll is {poll.status}; only a closed poll can be published.", field="status")
    from .ballots import stratified_ballots

    export = export_jsonl(session, poll)
    spec = tally_engine.PollSpec.of(poll)
    rows = stratified_ballots(session, poll)
    result = tally_engine.full_result(spec, rows, population_shares(session, poll.panel_id), seed=poll.id,
                                      eligible=eligible_count(session, poll.panel_id))
    result.update({
        "version": RESULT_VERSION,
        "poll_id": poll.id,
        "ballot_type": poll.ballot_type,
        "candidates": list(poll.candidates),
        "seats": poll.seats,
        "ballots": len(rows),
        "voters": voter_count(session, poll.id),
        "eligible": eligible_count(session, poll.panel_id),
        "ballots_sha256": hashlib.sha256(export.encode()).hexdigest(),
        "cli": ["python", "-m", "voting", *tally_engine.cli_args(spec)],
        "cli_command": shlex.join(["python", "-m", "voting", *tally_engine.cli_args(spec),
                                   "--ballots", f"poll-{poll.id}-ballots.jsonl"]),
        "published_at": utcnow().isoformat(),
    })
    poll.result = result
    poll.status = "published"
    audit.record(session, "poll.tally_published", actor_id=user.id, panel_id=poll.panel_id,
                 subject_type="poll", subject_id=poll.id,
                 payload={"method": poll.method, "winners": result["winners"], "tied": result["tied"],
                          "ballots": result["ballots"], "ballots_sha256": result["ballots_sha256"]})
    session.commit()
    return poll


def panel_of(session: Session, poll: Poll) -> Panel:
    return get_panel(session, poll.panel_id)
