"""Missions' answers to recommendations: versioned (never overwritten), with commitments.

A mission answers only for itself. A response after the due date, or after the panel closed, is
accepted and marked ``late`` — accountability means recording the answer, not refusing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import PermissionDenied, ValidationFailed
from ..models import Commitment, Delivery, Mission, Panel, Recommendation, Response, User
from ..models.base import utcnow
from ..models.followup import STANCES
from . import audit, notifications
from .lookup import get_or_404
from .permissions import authorize

NEEDS_EXPLANATION = ("partly", "reject")
MAX_COMMITMENTS = 20


def get_delivery(session: Session, delivery_id: int) -> Delivery:
    return get_or_404(session, Delivery, delivery_id, field="delivery_id", label="delivery")


def _date(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        d = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed("Give dates as YYYY-MM-DD.", field=field) from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _commitments(items: Any) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list) or len(items) > MAX_COMMITMENTS:
        raise ValidationFailed(f"Commitments must be a list of at most {MAX_COMMITMENTS}.", field="commitments")
    out = []
    for i, c in enumerate(items):
        where = f"commitments[{i}]"
        if not isinstance(c, dict):
            raise ValidationFailed("Each commitment needs a text and optional dates.", field=where)
        text = (c.get("text") or "").strip() if isinstance(c.get("text"), str) else ""
        if not text:
            if c.get("due_at") or c.get("met_at"):
                raise ValidationFailed("A milestone date needs a commitment text.", field=f"{where}.text")
            continue  # an empty row of the form
        if len(text) > 2000:
            raise ValidationFailed("A commitment is at most 2000 characters.", field=f"{where}.text")
        out.append({"text": text, "due_at": _date(c.get("due_at"), f"{where}.due_at"),
                    "met_at": _date(c.get("met_at"), f"{where}.met_at")})
    return out


def submit(session: Session, user: User, delivery_id: int, *, stance: str, explanation: str = "",
           commitments: list[dict[str, Any]] | None = None) -> Response:
    """Record a mission's answer as a new version; earlier versions stay as they were."""
    delivery = get_delivery(session, delivery_id)
    authorize(session, user, "response.write")
    if user.mission_id != delivery.mission_id:
        raise PermissionDenied("You can only answer for your own mission.", code="forbidden")
    if stance not in STANCES:
        raise ValidationFailed(f"Stance must be one of: {', '.join(STANCES)}.", field="stance")
    explanation = (explanation or "").replace("\r\n", "\n").strip()
    if stance in NEEDS_EXPLANATION and not explanation:
        raise ValidationFailed("Explain your answer: 'partly' and 'reject' need a stated reason.",
                               field="explanation")
    if len(explanation) > 20000:
        raise ValidationFailed("The explanation is at most 20000 characters.", field="explanation")
    items = _commitments(commitments)
    rec = session.get(Recommendation, delivery.recommendation_id)
    panel = session.get(Panel, rec.panel_id) if rec else None
    now = utcnow()
    late = now > delivery.due_at or (panel is not None and panel.status == "closed")
    last = session.execute(select(func.max(Response.version)).where(Response.delivery_id == delivery.id)
                           ).scalar() or 0
    resp = Response(delivery_id=delivery.id, version=last + 1, stance=stance, explanation=explanation,
                    late=late, author_id=user.id, created_at=now)
    session.add(resp)
    session.flush()
    for c in items:
        session.add(Commitment(response_id=resp.id, text=c["text"], due_at=c["due_at"], met_at=c["met_at"]))
    mission = session.get(Mission, delivery.mission_id)
    audit.record(session, "response.submitted", actor_id=user.id, panel_id=rec.panel_id if rec else None,
                 subject_type="delivery", subject_id=delivery.id,
                 payload={"version": resp.version, "stance": stance, "late": late, "commitments": len(items)})
    notifications.enqueue_webhooks(session, "response.created", {
        "recommendation_id": delivery.recommendation_id, "mission": mission.country_code if mission else None,
        "version": resp.version, "stance": stance, "explanation": explanation, "late": late,
        "commitments": [{"text": c["text"], "due_at": c["due_at"], "met_at": c["met_at"]} for c in items],
        "created_at": now})
    session.commit()
    return resp


def history(session: Session, delivery_id: int) -> list[tuple[Response, list[Commitment]]]:
    rows = session.execute(select(Response).where(Response.delivery_id == delivery_id)
                           .order_by(Response.version.desc())).scalars().all()
    out = []
    for r in rows:
        cs = session.execute(select(Commitment).where(Commitment.response_id == r.id).order_by(Commitment.id)
                             ).scalars().all()
        out.append((r, list(cs)))
    return out


def histories(session: Session, delivery_ids: list[int]) -> dict[int, list[tuple[Response, list[Commitment]]]]:
    """``history`` for many deliveries in two queries per 500 ids (public pages list hundreds)."""
    out: dict[int, list[tuple[Response, list[Commitment]]]] = {i: [] for i in delivery_ids}
    for start in range(0, len(delivery_ids), 500):
        chunk = delivery_ids[start:start + 500]
        rows = session.execute(select(Response).where(Response.delivery_id.in_(chunk))
                               .order_by(Response.delivery_id, Response.version.desc())).scalars().all()
        cs: dict[int, list[Commitment]] = {}
        ids = [r.id for r in rows]
        for i in range(0, len(ids), 500):
            for c in session.execute(select(Commitment).where(Commitment.response_id.in_(ids[i:i + 500]))
                                     .order_by(Commitment.id)).scalars():
                cs.setdefault(c.response_id, []).append(c)
        for r in rows:
            out[r.delivery_id].append((r, cs.get(r.id, [])))
    return out


def latest(session: Session, delivery_id: int) -> Response | None:
    return session.execute(select(Response).where(Response.delivery_id == delivery_id)
                           .order_by(Response.version.desc()).limit(1)).scalar_one_or_none()


def first(session: Session, delivery_id: int) -> Response | None:
    return session.execute(select(Response).where(Response.delivery_id == delivery_id)
                           .order_by(Response.version).limit(1)).scalar_one_or_none()


def delivery_state(delivery: Delivery, first_response: Response | None, now: datetime | None = None) -> str:
    """answered | answered_late | overdue | awaiting — judged on the first answer's time."""
    now = now or utcnow()
    if first_response is not None:
        return "answered_late" if first_response.late else "answered"
    return "overdue" if now > delivery.due_at else "awaiting"


@dataclass
class MissionDelivery:
    delivery: Delivery
    recommendation: Recommendation
    latest: Response | None
    state: str


def for_mission(session: Session, mission_id: int) -> list[MissionDelivery]:
    rows = session.execute(select(Delivery, Recommendation).join(
        Recommendation, Recommendation.id == Delivery.recommendation_id).where(Delivery.mission_id == mission_id)
        .order_by(Delivery.due_at, Delivery.id)).tuples().all()
    now = utcnow()
    return [MissionDelivery(d, r, latest(session, d.id), delivery_state(d, first(session, d.id), now))
            for d, r in rows]


def my_deliveries(session: Session, user: User) -> list[MissionDelivery]:
    authorize(session, user, "response.write")
    return for_mission(session, user.mission_id) if user.mission_id else []


def view_delivery(session: Session, user: User, delivery_id: int) -> Delivery:
    d = get_delivery(session, delivery_id)
    authorize(session, user, "response.write")
    if user.mission_id != d.mission_id:
        raise PermissionDenied("This recommendation was addressed to another mission.", code="forbidden")
    return d
