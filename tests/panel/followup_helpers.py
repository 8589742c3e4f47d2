"""Factories for the follow-up tests: missions, a published and delivered recommendation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from panel.models import Mission, Proposal, ProposalVersion, Recommendation
from panel.models.base import utcnow
from panel.services import recommendations
from tests import helpers

SUPPORT = {
    "voters": 40,
    "overall": {"yes": 0.7, "no": 0.2, "abstain": 0.1},
    "groups": {"region": {"Africa": {"yes": 0.8, "no": 0.1, "abstain": 0.1, "n": 12},
                          "Oceania": {"yes": 0.5, "no": 0.5, "abstain": 0.0, "n": 2},
                          "Europe": {"yes": 0.6, "no": 0.3, "abstain": 0.1, "n": 4}}},
    "bridging": 0.62,
    "population_weighted": {"yes": 0.68, "ci_low": 0.6, "ci_high": 0.76, "level": 0.95},
}


def missions3(session: Session) -> dict[str, Mission]:
    """Kenya (the ``users`` fixture's mission), Brazil and Germany."""
    from sqlalchemy import select

    out = {}
    for code, name, region in (("KEN", "Mission of Kenya", "African States"),
                               ("BRA", "Mission of Brazil", "Latin American and Caribbean States"),
                               ("DEU", "Mission of Germany", "Western European and other States")):
        m = session.execute(select(Mission).where(Mission.country_code == code)).scalar_one_or_none()
        if m is None:
            m = helpers.make_mission(session, code, name, region)
        else:
            m.region = region
            session.commit()
        out[code] = m
    return out


def proposal(session: Session, panel_id: int, title: str = "Citizen SDG scorecards",
             body: str = "Every member state publishes a citizens' SDG scorecard each year.") -> Proposal:
    p = Proposal(panel_id=panel_id, title=title, status="adopted", current_version=1)
    session.add(p)
    session.flush()
    session.add(ProposalVersion(proposal_id=p.id, version=1, body=body))
    session.commit()
    return p


def draft(session: Session, world: dict[str, Any], **kw: Any) -> Recommendation:
    args = {"title": "Citizen SDG scorecards", "text": "Every member state publishes a citizens' scorecard.",
            "rationale": "People trust what they can check.", "minority_opinions": "Some prefer a UN-wide index.",
            "evidence": "UN75 dialogues report"}
    args.update(kw)
    return recommendations.create(session, world["facilitator"], world["panel"].id, **args)


def published(session: Session, world: dict[str, Any], *, support: dict[str, Any] | None = None) -> Recommendation:
    rec = draft(session, world, support=support or SUPPORT)
    return recommendations.publish(session, world["facilitator"], rec.id)


def delivered(session: Session, world: dict[str, Any], *, days: int = 30) -> tuple[Recommendation, dict[str, Mission]]:
    ms = missions3(session)
    rec = published(session, world)
    recommendations.deliver(session, world["facilitator"], rec.id, due_at=utcnow() + timedelta(days=days))
    return rec, ms
