"""Casting, changing and checking ballots — the one path used by the web page and the room socket.

Secret ballots keep eligibility and content apart:

* ``PollVoter(poll_id, user_id)`` (unique in the schema) records *that* a member voted;
* ``Ballot`` records *what* was voted, keyed by ``receipt_hash`` = SHA-256 of a random receipt
  code shown once to the voter; ``voter_id`` stays NULL and both timestamps are coarsened to the day.

To change a secret ballot the voter presents the receipt code: the server hashes it and updates the
matching ballot, without ever having stored which ballot is theirs. Losing the code means the ballot
can no longer be changed (it still counts, once). For open polls ``Ballot.voter_id`` is set and no code is
needed to change. See docs/voting-app.md for the limits of this design.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import Ballot, PanelMember, Poll, PollVoter, User, Volunteer
from ..models.base import utcnow
from . import polls, tally_engine
from .permissions import authorize

RECEIPT_BYTES = 15  # 120 bits → 24 base32 characters


@dataclass(frozen=True)
class CastOutcome:
    """``receipt`` is the code to keep (only on a first secret ballot); ``changed`` if it replaced one."""

    poll_id: int
    changed: bool
    receipt: str | None


def new_receipt() -> str:
    raw = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def normalise_receipt(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def receipt_hash(poll_id: int, code: str) -> str:
    return hashlib.sha256(f"pnyx-receipt:{poll_id}:{normalise_receipt(code)}".encode()).hexdigest()


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def strata_for(session: Session, user: User, panel_id: int) -> dict[str, str]:
    """The voter's panel features (region, gender…) from their Volunteer record, as strings."""
    vol_id = session.execute(select(PanelMember.volunteer_id).where(
        PanelMember.panel_id == panel_id, PanelMember.user_id == user.id)).scalar()
    volunteer = session.get(Volunteer, vol_id) if vol_id else session.execute(select(Volunteer).where(
        Volunteer.panel_id == panel_id, Volunteer.user_id == user.id)).scalars().first()
    if volunteer is None:
        return {}
    return {str(k): str(v) for k, v in (volunteer.features or {}).items() if v is not None and v != ""}


def has_voted(session: Session, user: User, poll_id: int) -> bool:
    return session.execute(select(PollVoter.id).where(PollVoter.poll_id == poll_id,
                                                      PollVoter.user_id == user.id)).first() is not None


def open_ballot_of(session: Session, user: User, poll: Poll) -> dict[str, Any] | None:
    """The member's own ballot in an open (non-secret) poll, to prefill the form; None for secret polls."""
    if poll.secret:
        return None
    row = session.execute(select(Ballot.content).where(Ballot.poll_id == poll.id, Ballot.voter_id == user.id)
                          ).scalar()
    return dict(row) if row else None


def cast(session: Session, user: User, poll_id: int, content: object, receipt: str | None = None) -> CastOutcome:
    """Cast or change a ballot in one transaction; a member's ballot is never counted twice.

    Raises:
        NotFound (no poll), PermissionDenied (not a voting member), Conflict (not open; second ballot
        without the receipt), ValidationFailed (bad ballot, naming the field; wrong receipt).
    """
    poll = polls.get_poll(session, poll_id)
    authorize(session, user, "poll.vote", poll.panel_id)
    state = polls.voting_state(poll)
    if state != "open":
        reasons = {"draft": "This poll is not open yet.", "scheduled": "Voting has not started yet.",
                   "closed": "Voting has closed; ballots can no longer be cast or changed."}
        raise Conflict(reasons[state], field="poll", code="poll_" + state)
    clean = tally_engine.validate_ballot(tally_engine.PollSpec.of(poll), content)
    day = _day(utcnow())
    if has_voted(session, user, poll.id):
        ballot = _ballot_to_change(session, user, poll, receipt)
        ballot.content = clean
        ballot.updated_at = day if poll.secret else utcnow()
        session.commit()
        return CastOutcome(poll.id, True, None)
    if receipt:
        raise ValidationFailed("You have not voted in this poll yet, so there is no ballot to change; "
                               "send the ballot without a receipt.", field="receipt")
    code = new_receipt()
    session.add(PollVoter(poll_id=poll.id, user_id=user.id, first_cast_at=day if poll.secret else utcnow()))
    try:
        session.flush()
    except IntegrityError:  # the same member cast twice at once: the database keeps one
        session.rollback()
        raise Conflict("Your ballot was already recorded.", field="ballot", code="already_voted") from None
    session.add(Ballot(poll_id=poll.id, receipt_hash=receipt_hash(poll.id, code), content=clean,
                       strata=strata_for(session, user, poll.panel_id),
                       voter_id=None if poll.secret else user.id, updated_at=day if poll.secret else utcnow()))
    session.commit()
    return CastOutcome(poll.id, False, code)


def _ballot_to_change(session: Session, user: User, poll: Poll, receipt: str | None) -> Ballot:
    if not poll.secret:
        ballot = session.execute(select(Ballot).where(Ballot.poll_id == poll.id, Ballot.voter_id == user.id)
                                 ).scalar_one_or_none()
        if ballot is None:  # only if the ballot was detached from the account; never add a second one
            raise Conflict("Your earlier ballot can no longer be changed.", field="ballot", code="already_voted")
        return ballot
    if not receipt or not receipt.strip():
        raise Conflict("You have already voted. To change your secret ballot, enter the receipt code you were "
                       "given when you voted.", field="receipt", code="already_voted")
    ballot = session.execute(select(Ballot).where(Ballot.poll_id == poll.id,
                                                  Ballot.receipt_hash == receipt_hash(poll.id, receipt))
                             ).scalar_one_or_none()
    if ballot is None:
        raise ValidationFailed("This receipt code does not match any ballot in this poll. Check it for typos.",
                               field="receipt")
    return ballot


def check_receipt(session: Session, poll: Poll, code: str) -> tuple[str, dict[str, Any]]:
    """Find the ballot a receipt code points to in the closed poll's published list."""
    if poll.status not in ("closed", "published"):
        raise Conflict("Receipts can be checked once the poll has closed.", field="receipt")
    if not normalise_receipt(code or ""):
        raise ValidationFailed("Enter the receipt code you were given when you voted.", field="receipt")
    digest = receipt_hash(poll.id, code)
    row = session.execute(select(Ballot.content).where(Ballot.poll_id == poll.id,
                                                       Ballot.receipt_hash == digest)).scalar()
    if row is None:
        raise NotFound("No ballot in this poll has this receipt code. Check it for typos.", field="receipt")
    return digest, dict(row)


def stratified_ballots(session: Session, poll: Poll) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """(ballot, strata) for counting, in receipt-hash order (never in casting order)."""
    rows = session.execute(select(Ballot.content, Ballot.strata).where(Ballot.poll_id == poll.id)
                           .order_by(Ballot.receipt_hash)).all()
    return [(dict(r[0]), dict(r[1] or {})) for r in rows]


def cast_in_room(session: Session, user: User, room_panel_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The deliberation room's ``vote`` socket event: ``{"room", "poll", "ballot", "receipt"?}``.

    Same path as the web page (:func:`cast`); the poll must belong to the room's panel. Returns the
    acknowledgement ``{"poll", "changed", "receipt"}`` — sent only to the voter, never broadcast.
    """
    poll_id = data.get("poll")
    if not isinstance(poll_id, int) or isinstance(poll_id, bool):
        raise ValidationFailed("poll must be a poll id (integer).", field="poll")
    receipt = data.get("receipt")
    if receipt is not None and not isinstance(receipt, str):
        raise ValidationFailed("The receipt must be text.", field="receipt")
    if "ballot" not in data:
        raise ValidationFailed("Send the ballot as an object under 'ballot'.", field="ballot")
    poll = polls.get_poll(session, poll_id)
    if poll.panel_id != room_panel_id:
        raise ValidationFailed("This poll belongs to another panel than this room.", field="poll")
    out = cast(session, user, poll_id, data["ballot"], receipt=receipt)
    return {"poll": out.poll_id, "changed": out.changed, "receipt": out.receipt}
