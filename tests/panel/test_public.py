"""Public accountability pages (no sign-in): dashboard, filters, per recommendation, scorecards, Atom feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from panel.models import Delivery
from panel.models.base import utcnow
from panel.services import accountability, responses
from tests.panel import followup_helpers as fh

ATOM = "{http://www.w3.org/2005/Atom}"


def _answer(db, users, ms, code="KEN", stance="partly", **kw):
    d = db.session.execute(select(Delivery).where(Delivery.mission_id == ms[code].id)).scalar_one()
    return responses.submit(db.session, users["mission"], d.id, stance=stance,
                            explanation=kw.pop("explanation", "Budget limits."), **kw)


def test_dashboard_empty_state(client, users):
    html = client.get("/public/").get_data(as_text=True)
    assert "No recommendation has been published yet" in html


def test_dashboard_shows_stances_without_sign_in(client, db, users):
    rec, ms = fh.delivered(db.session, users)
    _answer(db, users, ms, commitments=[{"text": "Pilot in 3 counties", "due_at": "2027-01-01",
                                         "met_at": "2026-11-01"}])
    r = client.get("/public/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert rec.title in html and "<svg" in html and 'style="' not in html
    page = client.get(f"/public/recommendations/{rec.id}").get_data(as_text=True)
    assert "Mission of Kenya" in page and "Budget limits." in page and "Pilot in 3 counties" in page
    assert "awaiting answer" in page  # Brazil and Germany have not answered
    assert users["mission"].email not in page


def test_filters_by_region_and_status(client, db, users):
    rec, ms = fh.delivered(db.session, users)
    _answer(db, users, ms)
    page = client.get(f"/public/recommendations/{rec.id}?region=African States").get_data(as_text=True)
    assert "Mission of Kenya" in page and "Mission of Brazil" not in page
    page = client.get(f"/public/recommendations/{rec.id}?status=awaiting").get_data(as_text=True)
    assert "Mission of Kenya" not in page and "Mission of Brazil" in page
    page = client.get("/public/missions?status=partly").get_data(as_text=True)
    assert "Mission of Kenya" in page and "Mission of Germany" not in page
    r = client.get("/public/?region=Atlantis")
    assert r.status_code == 422 and b"Atlantis" in r.data
    assert client.get("/public/?status=happy").status_code == 422


def test_scorecards_on_time_late_overdue_and_milestones(db, users):
    rec, ms = fh.delivered(db.session, users)
    _answer(db, users, ms, stance="accept", explanation="",
            commitments=[{"text": "Done", "due_at": "2026-01-01", "met_at": "2025-12-01"},
                         {"text": "Missed", "due_at": "2026-01-01"},
                         {"text": "Future", "due_at": "2099-01-01"}])
    d_deu = db.session.execute(select(Delivery).where(Delivery.mission_id == ms["DEU"].id)).scalar_one()
    d_deu.due_at = utcnow() - timedelta(days=2)
    db.session.commit()
    cards = {c.mission.country_code: c for c in accountability.scorecards(db.session)}
    ken, deu, bra = cards["KEN"], cards["DEU"], cards["BRA"]
    assert (ken.on_time, ken.stances["accept"], ken.milestones, ken.milestones_met, ken.milestones_missed) == \
        (1, 1, 3, 1, 1)
    assert deu.overdue == 1 and deu.on_time_rate == 0.0
    assert bra.awaiting == 1 and bra.on_time_rate is None


def test_mission_page_and_unknown_code(client, db, users):
    _rec, ms = fh.delivered(db.session, users)
    _answer(db, users, ms)
    html = client.get("/public/missions/ken").get_data(as_text=True)
    assert "Mission of Kenya" in html and "answered on time" in html
    assert client.get("/public/missions/XXX").status_code == 404
    assert client.get("/public/missions").status_code == 200


def test_unpublished_recommendation_is_not_public(client, db, users):
    rec = fh.draft(db.session, users)
    assert client.get(f"/public/recommendations/{rec.id}").status_code == 404


def test_atom_feed(client, db, users):
    rec, ms = fh.delivered(db.session, users)
    r = client.get("/public/feed.atom")
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    assert ET.fromstring(r.data).findall(f"{ATOM}entry") == []
    _answer(db, users, ms, explanation="Budget <limits> & more.")
    root = ET.fromstring(client.get("/public/feed.atom").data)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert "Mission of Kenya: partly" in entries[0].find(f"{ATOM}title").text
    assert entries[0].find(f"{ATOM}summary").text == "Budget <limits> & more."
    assert f"/public/recommendations/{rec.id}#mission-KEN" in entries[0].find(f"{ATOM}link").get("href")


@pytest.mark.parametrize("path", ["/public/", "/public/missions", "/public/feed.atom", "/open-data/",
                                  "/open-data/index.json"])
def test_public_pages_need_no_sign_in(client, path):
    assert client.get(path).status_code == 200


def test_demo_follow_up_data_fills_the_public_pages(client, db):
    from markupsafe import escape

    from panel import demo
    from panel.demo_followup import DEMO_SLUG, RECS
    from panel.models import Panel, Response

    demo.seed(db.session)
    n = db.session.query(Response).count()
    demo.seed(db.session)
    assert db.session.query(Response).count() == n > 50  # idempotent
    panel = db.session.execute(select(Panel).where(Panel.slug == DEMO_SLUG)).scalar_one()
    html = client.get("/public/").get_data(as_text=True)
    assert all(str(escape(title)) in html for title, *_ in RECS)
    assert "overdue" in client.get("/public/missions").get_data(as_text=True)
    assert client.get(f"/public/panels/{panel.id}/report.pdf").status_code == 200
    assert len(client.get("/open-data/responses.json").get_json()["rows"]) == n
