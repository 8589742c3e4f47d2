"""Factories for proposals, polls and voting members (real services, real database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from panel.models import Feature, FeatureValue, Panel, Poll, User, Volunteer
from panel.services import panels, polls
from tests import helpers

REGIONS = {"Africa": 0.2, "Asia": 0.6, "Europe": 0.2}


def add_features(session: Session, panel: Panel, shares: dict[str, dict[str, float]] | None = None) -> None:
    shares = shares or {"region": REGIONS, "gender": {"female": 0.5, "male": 0.5}}
    for pos, (name, values) in enumerate(shares.items()):
        feature = Feature(panel_id=panel.id, name=name, position=pos)
        session.add(feature)
        session.flush()
        for vpos, (value, share) in enumerate(values.items()):
            session.add(FeatureValue(feature_id=feature.id, value=value, min_count=0, max_count=100,
                                     share=share, position=vpos))
    session.commit()


def add_citizen(session: Session, panel: Panel, features: dict[str, str] | None = None,
                name: str | None = None) -> User:
    user = helpers.make_user(session, "citizen", name=name)
    vol = Volunteer(panel_id=panel.id, external_id=f"v{user.id}", name=user.name, features=features or {},
                    status="accepted", user_id=user.id, consent=True)
    session.add(vol)
    session.flush()
    panels.add_member(session, None, panel.id, user, "citizen", volunteer_id=vol.id)
    return user


def make_poll(session: Session, organizer: User, panel: Panel, *, open_it: bool = True, **fields: Any) -> Poll:
    values: dict[str, Any] = {"title": "Which priority first?", "ballot_type": "ranked", "method": "schulze",
                              "candidates": ["water", "schools", "clinics"]}
    values.update(fields)
    poll = polls.create_poll(session, organizer, panel.id, **values)
    if open_it:
        polls.open_poll(session, organizer, poll.id)
    return poll
