"""Public accountability figures: who answered what, on time or not, and which milestones were met.

Everything here is public (no sign-in): only published recommendations, missions (institutions,
not people) and their answers appear. No user names or emails are ever returned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationFailed
from ..models import Commitment, Delivery, Mission, Panel, Recommendation, Response
from ..models.base import utcnow
from ..models.followup import STANCES
from . import responses

STATES = ("answered", "answered_late", "overdue", "awaiting")
FILTER_STATUSES = STATES + STANCES


def check_filters(region: str | None, status: str | None, regions: list[str]) -> None:
    if region and region not in regions:
        raise ValidationFailed(f"Unknown region {region!r}; choose one of: {', '.join(regions)}.", field="region")
    if status and status not in FILTER_STATUSES:
        raise ValidationFailed(f"Unknown status {status!r}; choose one of: {', '.join(FILTER_STATUSES)}.",
                               field="status")


@dataclass
class Row:
    """One mission's situation on one recommendation."""

    mission: Mission
    delivery: Delivery
    state: str
    versions: list[tuple[Response, list[Commitment]]]

    @property
    def latest(self) -> Response | None:
        return self.versions[0][0] if self.versions else None

    @property
    def stance(self) -> str | None:
        return self.latest.stance if self.latest else None

    def matches(self, status: str | None) -> bool:
        if not status:
            return True
        return self.state == status or self.stance == status


@dataclass
class RecSummary:
    recommendation: Recommendation
    panel: Panel
    rows: list[Row] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        c: Counter[str] = Counter()
        for r in self.rows:
            c[r.stance or ("overdue" if r.state == "overdue" else "awaiting")] += 1
        return c


def published(session: Session) -> list[tuple[Recommendation, Panel]]:
    return [(r, p) for r, p in session.execute(
        select(Recommendation, Panel).join(Panel, Panel.id == Recommendation.panel_id)
        .where(Recommendation.status == "published").order_by(Recommendation.published_at.desc(),
                                                              Recommendation.id.desc())).tuples()]


def _rows(session: Session, rec_id: int, now: datetime, region: str | None) -> list[Row]:
    stmt = (select(Delivery, Mission).join(Mission, Mission.id == Delivery.mission_id)
            .where(Delivery.recommendation_id == rec_id).order_by(Mission.name))
    if region:
        stmt = stmt.where(Mission.region == region)
    pairs = session.execute(stmt).tuples().all()
    hists = responses.histories(session, [d.id for d, _m in pairs])
    out = []
    for d, m in pairs:
        hist = hists[d.id]
        out.append(Row(m, d, responses.delivery_state(d, hist[-1][0] if hist else None, now), hist))
    return out


def overview(session: Session, *, region: str | None = None, status: str | None = None) -> list[RecSummary]:
    now = utcnow()
    out = []
    for rec, panel in published(session):
        rows = [r for r in _rows(session, rec.id, now, region) if r.matches(status)]
        out.append(RecSummary(rec, panel, rows))
    return out


def recommendation(session: Session, rec_id: int, *, region: str | None = None,
                   status: str | None = None) -> RecSummary:
    rec = session.get(Recommendation, rec_id)
    if rec is None or rec.status != "published":
        raise NotFound(f"No published recommendation with id {rec_id}.", field="recommendation_id")
    panel = session.get(Panel, rec.panel_id)
    rows = [r for r in _rows(session, rec.id, utcnow(), region) if r.matches(status)]
    return RecSummary(rec, panel, rows)  # type: ignore[arg-type]


@dataclass
class Scorecard:
    mission: Mission
    delivered: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    awaiting: int = 0
    stances: Counter[str] = field(default_factory=Counter)
    milestones: int = 0
    milestones_met: int = 0
    milestones_missed: int = 0
    items: list[tuple[Recommendation, Row]] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        due = self.on_time + self.late + self.overdue
        return self.on_time / due if due else None


def _score(mission: Mission, items: list[tuple[Recommendation, Row]], now: datetime) -> Scorecard:
    card = Scorecard(mission)
    for rec, row in items:
        card.items.append((rec, row))
        card.delivered += 1
        if row.state == "answered":
            card.on_time += 1
        elif row.state == "answered_late":
            card.late += 1
        elif row.state == "overdue":
            card.overdue += 1
        else:
            card.awaiting += 1
        if row.stance:
            card.stances[row.stance] += 1
            for c in row.versions[0][1]:  # milestones of the current answer
                card.milestones += 1
                if c.met_at is not None:
                    card.milestones_met += 1
                elif c.due_at is not None and c.due_at < now:
                    card.milestones_missed += 1
    return card


def _cards(session: Session, missions: list[Mission], now: datetime) -> list[Scorecard]:
    by_mission: dict[int, list[tuple[Recommendation, Row]]] = {m.id: [] for m in missions}
    ids = list(by_mission)
    rows: list[tuple[Delivery, Recommendation]] = []
    for i in range(0, len(ids), 500):
        rows += session.execute(select(Delivery, Recommendation).join(
            Recommendation, Recommendation.id == Delivery.recommendation_id)
            .where(Delivery.mission_id.in_(ids[i:i + 500]), Recommendation.status == "published")
            .order_by(Delivery.due_at, Delivery.id)).tuples().all()
    hists = responses.histories(session, [d.id for d, _r in rows])
    mission_of = {m.id: m for m in missions}
    for d, rec in rows:
        hist = hists[d.id]
        row = Row(mission_of[d.mission_id], d,
                  responses.delivery_state(d, hist[-1][0] if hist else None, now), hist)
        by_mission[d.mission_id].append((rec, row))
    return [_score(m, by_mission[m.id], now) for m in missions]


def scorecards(session: Session, *, region: str | None = None, status: str | None = None,
               only_addressed: bool = True) -> list[Scorecard]:
    now = utcnow()
    stmt = select(Mission).order_by(Mission.name)
    if region:
        stmt = stmt.where(Mission.region == region)
    if only_addressed:
        stmt = stmt.where(Mission.id.in_(select(Delivery.mission_id)))
    cards = _cards(session, list(session.execute(stmt).scalars()), now)
    if status:
        cards = [c for c in cards if any(row.matches(status) for _, row in c.items)]
    return cards


def scorecard(session: Session, code: str) -> Scorecard:
    m = session.execute(select(Mission).where(Mission.country_code == code.upper())).scalar_one_or_none() \
        if len(code) == 3 else None
    if m is None:
        raise NotFound(f"No mission with country code {code!r}.", field="country_code")
    return _cards(session, [m], utcnow())[0]


def recent_responses(session: Session, limit: int = 50) -> list[tuple[Response, Delivery, Mission, Recommendation]]:
    return [t for t in session.execute(
        select(Response, Delivery, Mission, Recommendation)
        .join(Delivery, Delivery.id == Response.delivery_id).join(Mission, Mission.id == Delivery.mission_id)
        .join(Recommendation, Recommendation.id == Delivery.recommendation_id)
        .where(Recommendation.status == "published")
        .order_by(Response.created_at.desc(), Response.id.desc()).limit(limit)).tuples()]
