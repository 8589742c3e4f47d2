"""Demo follow-up data: a closed demo panel whose published recommendations went to every mission,
with a mix of (clearly labelled, invented) answers — so the public dashboard, scorecards, report and
open data have something to show on ``make run``. Idempotent."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import (
    Commitment,
    Delivery,
    Mission,
    Panel,
    Recommendation,
    RecommendationVersion,
    Response,
    User,
)
from .models.base import utcnow
from .services import audit

DEMO_SLUG = "demo-2026-digital-public-goods"
RECS = [
    ("Open data on SDG progress in every official language",
     "Every member state publishes its SDG indicator data as open data, in at least one official UN language and "
     "its national languages, within a year of collection.",
     "Panel members could not check progress claims without the underlying data.",
     "A minority preferred a regional data hub over national publication.", 0.78),
    ("Citizens' scorecards reviewed at the High-level Political Forum",
     "Each Voluntary National Review includes a scorecard written by a national citizens' panel, discussed at the "
     "High-level Political Forum alongside the government's own report.",
     "Independent voices make national reviews more credible.",
     "Some members worried that panels could be captured by organised interests.", 0.64),
    ("A standing UN citizens' panel with a public answer duty",
     "The General Assembly establishes a standing citizens' panel whose recommendations every mission answers "
     "publicly within 90 days.",
     "A duty to answer in public is what turns advice into accountability.",
     "A sizeable minority wanted answers within 60 days.", 0.71),
]
STANCES = ["accept", "accept", "partly", "partly", "reject", "under_review"]


def seed_followup(session: Session, organizer: User | None = None) -> Panel | None:
    if session.execute(select(Panel.id).where(Panel.slug == DEMO_SLUG)).first():
        return None
    missions = list(session.execute(select(Mission).order_by(Mission.country_code)).scalars())
    if not missions:
        return None
    rng = random.Random(75)
    now = utcnow()
    panel = Panel(slug=DEMO_SLUG, title="Demo: UN Citizens' Panel on digital public goods (closed)",
                  question="How can citizens check the world's progress on the SDGs?", size=60,
                  mandate="Demo data for trying the public follow-up pages. All answers below are invented.",
                  languages=["en", "fr", "es", "ar", "zh", "ru"], status="closed",
                  created_by_id=organizer.id if organizer else None)
    session.add(panel)
    session.flush()
    for i, (title, text, rationale, minority, yes) in enumerate(RECS):
        published = now - timedelta(days=120 - 30 * i)
        rec = Recommendation(panel_id=panel.id, title=title, status="published", current_version=1,
                             published_at=published, support={
                                 "schema": 1, "poll_id": None, "voters": 58,
                                 "overall": {"yes": yes, "no": round(0.9 - yes, 2), "abstain": 0.1},
                                 "groups": {}, "bridging": round(yes - 0.12, 2),
                                 "population_weighted": {"yes": round(yes - 0.03, 2), "ci_low": round(yes - 0.1, 2),
                                                         "ci_high": round(yes + 0.04, 2), "level": 0.95}})
        session.add(rec)
        session.flush()
        session.add(RecommendationVersion(recommendation_id=rec.id, version=1, text=text, rationale=rationale,
                                          minority_opinions=minority, evidence="Demo evidence list"))
        due = published + timedelta(days=90)
        for m in missions:
            d = Delivery(recommendation_id=rec.id, mission_id=m.id, due_at=due, delivered_at=published)
            session.add(d)
            session.flush()
            # The demo desk officers (KEN, BRA, DEU) keep something to answer themselves.
            if m.country_code in ("KEN", "BRA", "DEU") or rng.random() > 0.55:
                continue
            stance = rng.choice(STANCES)
            at = published + timedelta(days=rng.randint(5, 110))
            r = Response(delivery_id=d.id, version=1, stance=stance, late=at > due, created_at=min(at, now),
                         explanation="" if stance == "accept" else "Demo answer (invented for the demo).")
            session.add(r)
            session.flush()
            if stance in ("accept", "partly") and rng.random() < 0.6:
                c_due = published + timedelta(days=rng.randint(60, 400))
                session.add(Commitment(response_id=r.id, text="Demo milestone: publish a first dataset",
                                       due_at=c_due, met_at=c_due - timedelta(days=5) if c_due < now and
                                       rng.random() < 0.6 else None))
    audit.record(session, "demo.followup_seeded", panel_id=panel.id, subject_type="panel", subject_id=panel.id,
                 payload={"recommendations": len(RECS), "missions": len(missions)})
    session.commit()
    return panel
