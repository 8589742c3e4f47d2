"""What a citizen's dashboard shows for each of their panels: rooms to join, polls to vote in and
what the panel has published.

The dashboard promises "your sessions and votes below"; this module keeps that promise in one
query per kind of item, scoped to the panels the citizen is an active member of (membership is
checked with the same permission table as every other page, so a panel they left or were never
part of shows nothing). Whether the citizen voted comes from ``PollVoter`` only — never from the
ballot — so the dashboard cannot reveal how anyone voted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..models import DeliberationSession, Panel, Poll, PollVoter, Recommendation, Room, RoomMember, User
from ..models.base import utcnow
from . import panels as panel_service
from .permissions import can
from .polls import voting_state

RECENT_RECOMMENDATIONS = 3


@dataclass(frozen=True)
class RoomItem:
    room_id: int
    name: str
    kind: str  # plenary | breakout
    state: str  # open | upcoming
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True)
class PollItem:
    poll_id: int
    title: str
    state: str  # open | scheduled
    opens_at: datetime | None
    closes_at: datetime | None
    voted: bool  # that they voted, never what


@dataclass(frozen=True)
class RecommendationItem:
    recommendation_id: int
    title: str
    published_at: datetime | None


@dataclass(frozen=True)
class PanelHome:
    panel: Panel
    rooms: list[RoomItem]
    polls: list[PollItem]
    recommendations: list[RecommendationItem]


def _rooms(session: Session, user: User, panel_id: int, now: datetime) -> list[RoomItem]:
    """Open rooms the citizen may enter: the plenaries, and the breakouts they were assigned to.

    A room whose session has not started yet is ``upcoming``; one whose session has ended is left out.
    """
    assigned = select(RoomMember.room_id).where(RoomMember.user_id == user.id, RoomMember.removed_at.is_(None))
    removed = select(RoomMember.room_id).where(RoomMember.user_id == user.id, RoomMember.removed_at.is_not(None))
    rows = session.execute(
        select(Room, DeliberationSession.starts_at, DeliberationSession.ends_at)
        .outerjoin(DeliberationSession, DeliberationSession.id == Room.session_id)
        .where(Room.panel_id == panel_id, Room.closed_at.is_(None), Room.id.not_in(removed),
               or_(Room.kind == "plenary", and_(Room.kind == "breakout", Room.id.in_(assigned))),
               or_(DeliberationSession.ends_at.is_(None), DeliberationSession.ends_at > now))
        .order_by(Room.kind.desc(), Room.round, Room.id)
    ).all()
    items = [RoomItem(room.id, room.name, room.kind,
                      "upcoming" if starts is not None and starts > now else "open", starts, ends)
             for room, starts, ends in rows]
    # Open rooms first (they are the ones to join now), then upcoming ones by start time.
    return sorted(items, key=lambda r: (r.state != "open", r.starts_at or now))


def _polls(session: Session, user: User, panel_id: int, now: datetime) -> list[PollItem]:
    polls = session.execute(select(Poll).where(Poll.panel_id == panel_id, Poll.status == "open")
                            .order_by(Poll.closes_at.is_(None), Poll.closes_at, Poll.id)).scalars().all()
    voted = set(session.execute(select(PollVoter.poll_id).where(
        PollVoter.user_id == user.id, PollVoter.poll_id.in_([p.id for p in polls]))).scalars())
    items = []
    for p in polls:
        state = voting_state(p, now)
        if state in ("open", "scheduled"):
            items.append(PollItem(p.id, p.title, state, p.opens_at, p.closes_at, p.id in voted))
    return items


def _recommendations(session: Session, panel_id: int, limit: int) -> list[RecommendationItem]:
    rows = session.execute(select(Recommendation).where(
        Recommendation.panel_id == panel_id, Recommendation.status == "published")
        .order_by(Recommendation.published_at.desc(), Recommendation.id.desc()).limit(limit)).scalars()
    return [RecommendationItem(r.id, r.title, r.published_at) for r in rows]


def for_user(session: Session, user: User, *, now: datetime | None = None,
             recent: int = RECENT_RECOMMENDATIONS) -> list[PanelHome]:
    """One entry per panel the user takes part in as a member who may join rooms and vote."""
    now = now or utcnow()
    homes = []
    for panel in panel_service.list_panels(session, user):
        if not (can(session, user, "room.join", panel.id) and can(session, user, "panel.view", panel.id)):
            continue
        homes.append(PanelHome(panel, _rooms(session, user, panel.id, now),
                               _polls(session, user, panel.id, now) if can(session, user, "poll.vote", panel.id)
                               else [],
                               _recommendations(session, panel.id, recent)))
    return homes
