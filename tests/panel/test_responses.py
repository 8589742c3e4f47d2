"""Missions' responses: stances, explanations, commitments, history, own mission only, late answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from panel.errors import PermissionDenied, ValidationFailed
from panel.models import AuditEvent, Commitment, Delivery, OutboxMessage, Response
from panel.models.base import utcnow
from panel.services import notifications, panels, responses
from tests import helpers
from tests.panel import followup_helpers as fh


def _delivery(db, mission_id):
    return db.session.execute(select(Delivery).where(Delivery.mission_id == mission_id)).scalar_one()


def test_explanation_required_for_partly_and_reject(db, users):
    _rec, ms = fh.delivered(db.session, users)
    d = _delivery(db, ms["KEN"].id)
    for stance in ("partly", "reject"):
        with pytest.raises(ValidationFailed) as e:
            responses.submit(db.session, users["mission"], d.id, stance=stance, explanation="  ")
        assert e.value.field == "explanation"
    with pytest.raises(ValidationFailed) as e:
        responses.submit(db.session, users["mission"], d.id, stance="maybe")
    assert e.value.field == "stance"
    assert db.session.execute(select(Response)).first() is None
    r = responses.submit(db.session, users["mission"], d.id, stance="accept")
    assert r.version == 1 and not r.late


def test_history_is_kept_with_commitments(db, users):
    _rec, ms = fh.delivered(db.session, users)
    d = _delivery(db, ms["KEN"].id)
    responses.submit(db.session, users["mission"], d.id, stance="under_review")
    responses.submit(db.session, users["mission"], d.id, stance="partly", explanation="Budget limits.",
                     commitments=[{"text": "Pilot scorecard in 3 counties", "due_at": "2027-06-30"},
                                  {"text": "", "due_at": ""}])
    hist = responses.history(db.session, d.id)
    assert [(r.version, r.stance) for r, _ in hist] == [(2, "partly"), (1, "under_review")]
    assert [c.text for c in hist[0][1]] == ["Pilot scorecard in 3 counties"]
    assert hist[0][1][0].due_at.year == 2027
    with pytest.raises(ValidationFailed) as e:
        responses.submit(db.session, users["mission"], d.id, stance="accept",
                         commitments=[{"text": "x", "due_at": "next year"}])
    assert e.value.field == "commitments[0].due_at"
    with pytest.raises(ValidationFailed) as e:
        responses.submit(db.session, users["mission"], d.id, stance="accept", commitments=[{"due_at": "2027-01-01"}])
    assert e.value.field == "commitments[0].text"
    assert len(db.session.execute(select(Commitment)).all()) == 1
    events = db.session.execute(select(AuditEvent.payload).where(AuditEvent.action == "response.submitted")
                                ).scalars().all()
    assert [e["version"] for e in events] == [1, 2]


def test_database_refuses_reject_without_explanation(db, users):
    _rec, ms = fh.delivered(db.session, users)
    d = _delivery(db, ms["KEN"].id)
    db.session.add(Response(delivery_id=d.id, version=1, stance="reject", explanation=""))
    with pytest.raises(Exception):  # noqa: B017 - the CHECK constraint, whichever driver error it is
        db.session.commit()
    db.session.rollback()


def test_only_own_mission_answers(db, users):
    _rec, ms = fh.delivered(db.session, users)
    d_bra = _delivery(db, ms["BRA"].id)
    with pytest.raises(PermissionDenied):
        responses.submit(db.session, users["mission"], d_bra.id, stance="accept")
    with pytest.raises(PermissionDenied):
        responses.submit(db.session, users["organizer"], d_bra.id, stance="accept")


def test_late_after_due_date_or_closed_panel(db, users):
    _rec, ms = fh.delivered(db.session, users)
    d = _delivery(db, ms["KEN"].id)
    d.due_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert responses.delivery_state(d, None) == "overdue"
    r = responses.submit(db.session, users["mission"], d.id, stance="accept")
    assert r.late and responses.delivery_state(d, r) == "answered_late"

    bra_user = helpers.make_user(db.session, "mission", "bra@test.example", mission=ms["BRA"])
    panel = users["panel"]
    for status in ("recruiting", "selected", "deliberating", "voting", "reporting", "closed"):
        panels.update_panel(db.session, users["organizer"], panel.id, status=status)
    r = responses.submit(db.session, bra_user, _delivery(db, ms["BRA"].id).id, stance="accept")
    assert r.late  # allowed after the panel closed, and marked


def test_response_fires_webhook_through_outbox(db, users):
    notifications.subscribe(db.session, users["admin"], "http://127.0.0.1:9/hook", "s" * 20)
    _rec, ms = fh.delivered(db.session, users)
    responses.submit(db.session, users["mission"], _delivery(db, ms["KEN"].id).id, stance="accept")
    hooks = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "webhook",
                                                           OutboxMessage.subject == "response.created")).scalars().all()
    assert len(hooks) == 1 and hooks[0].headers["X-Pnyx-Signature"].startswith("sha256=")


# --- web --------------------------------------------------------------------------------------

def test_mission_answers_through_the_page(client, auth, db, users):
    _rec, ms = fh.delivered(db.session, users)
    d = _delivery(db, ms["KEN"].id)
    auth.as_user(users["mission"])
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Citizen SDG scorecards" in inbox and f"/deliveries/{d.id}" in inbox
    page = f"/deliveries/{d.id}"
    token = helpers.csrf_token(client, page)
    r = client.post(page, data={"csrf_token": token, "stance": "reject", "explanation": ""})
    assert r.status_code == 422 and b"stated reason" in r.data
    r = client.post(page, data={"csrf_token": token, "stance": "partly", "explanation": "Budget <limits>.",
                                "c0_text": "Pilot in 3 counties", "c0_due": "2027-06-30"})
    assert r.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Budget &lt;limits&gt;." in html and "Pilot in 3 counties" in html and "Version 1" in html
    r = client.post(page, data={"csrf_token": token, "stance": "partly", "explanation": "x",
                                "c0_text": "y", "c0_due": "June"})
    assert r.status_code == 422 and b"YYYY-MM-DD" in r.data


def test_other_mission_gets_403(client, auth, db, users):
    _rec, ms = fh.delivered(db.session, users)
    d_bra = _delivery(db, ms["BRA"].id)
    auth.as_user(users["mission"])
    assert client.get(f"/deliveries/{d_bra.id}").status_code == 403
    token = helpers.csrf_token(client, "/inbox")
    assert client.post(f"/deliveries/{d_bra.id}", data={"csrf_token": token, "stance": "accept"}).status_code == 403
    assert client.get("/deliveries/99999").status_code == 404


@pytest.mark.parametrize("role", ["organizer", "citizen", "admin"])
def test_delivery_page_is_for_missions_only(client, auth, db, users, role):
    _rec, ms = fh.delivered(db.session, users)
    auth.as_user(users[role])
    assert client.get(f"/deliveries/{_delivery(db, ms['KEN'].id).id}").status_code == 403


def test_inbox_requires_sign_in(client):
    assert client.get("/inbox").status_code == 302
