"""``/api/v1/polls``: each endpoint allowed and forbidden; bad bodies name the field; OpenAPI lists them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from panel.models import Ballot, PollVoter
from panel.services import accounts, ballots, polls
from tests.panel.decision_helpers import make_poll


def bearer(db, user):
    return {"Authorization": f"Bearer {accounts.create_api_token(db.session, user, name='test')}"}


def counts(db, poll_id):
    return tuple(db.session.execute(select(func.count(m.id)).where(m.poll_id == poll_id)).scalar_one()
                 for m in (PollVoter, Ballot))


def test_get_poll(client, db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    r = client.get(f"/api/v1/polls/{poll.id}", headers=bearer(db, users["citizen"]))
    assert r.status_code == 200 and r.get_json()["state"] == "open" and r.get_json()["candidates"][0] == "water"
    assert client.get(f"/api/v1/polls/{poll.id}", headers=bearer(db, users["other_citizen"])).status_code == 403
    assert client.get(f"/api/v1/polls/{poll.id}").status_code == 401


def test_cast_and_change_by_api(client, db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    h = bearer(db, users["citizen"])
    path = f"/api/v1/polls/{poll.id}/ballots"
    r = client.post(path, json={"ballot": {"ranking": ["water", ["schools", "clinics"]]}}, headers=h)
    assert r.status_code == 201 and r.get_json()["receipt"]
    second = client.post(path, json={"ballot": {"ranking": ["clinics"]}}, headers=h)
    assert second.status_code == 409 and second.get_json()["error"]["field"] == "receipt"
    changed = client.post(path, json={"ballot": {"ranking": ["clinics"]}, "receipt": r.get_json()["receipt"]},
                          headers=h)
    assert changed.status_code == 200 and changed.get_json() == {"poll_id": poll.id, "changed": True,
                                                                 "receipt": None}
    assert counts(db, poll.id) == (1, 1)


@pytest.mark.parametrize("body,status,field", [
    ('{"ballot": ', 400, "body"),
    ("[1, 2]", 400, "body"),
    ('{"ballot": ["water"]}', 422, "ballot"),
    ('{"ballot": {"ranking": ["water"]}, "extra": 1}', 422, "extra"),
    ('{"ballot": {"ranking": ["water", "water"]}}', 422, "ballot.ranking"),
    ('{"ballot": {"ranking": ["pluto"]}}', 422, "ballot.ranking"),
    ('{"ballot": {"ranking": []}}', 422, "ballot.ranking"),
    ('{"ballot": {"ranking": ["water"]}, "receipt": "ABCD"}', 422, "receipt"),
])
def test_bad_bodies(client, db, users, body, status, field):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    r = client.post(f"/api/v1/polls/{poll.id}/ballots", data=body, content_type="application/json",
                    headers=bearer(db, users["citizen"]))
    assert r.status_code == status and r.get_json()["error"]["field"] == field, r.get_json()
    assert counts(db, poll.id) == (0, 0)


def test_cast_forbidden_and_closed(client, db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    for who in ("other_citizen", "organizer", "observer"):
        r = client.post(f"/api/v1/polls/{poll.id}/ballots", json={"ballot": {"ranking": ["water"]}},
                        headers=bearer(db, users[who]))
        assert r.status_code == 403
    polls.close_poll(db.session, users["organizer"], poll.id)
    r = client.post(f"/api/v1/polls/{poll.id}/ballots", json={"ballot": {"ranking": ["water"]}},
                    headers=bearer(db, users["citizen"]))
    assert r.status_code == 409 and r.get_json()["error"]["field"] == "poll"
    assert counts(db, poll.id) == (0, 0)


def test_results_by_api(client, db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["schools"]})
    h = bearer(db, users["facilitator"])
    assert client.get(f"/api/v1/polls/{poll.id}/results", headers=h).status_code == 409
    polls.close_poll(db.session, users["organizer"], poll.id)
    polls.publish(db.session, users["organizer"], poll.id)
    r = client.get(f"/api/v1/polls/{poll.id}/results", headers=h)
    assert r.status_code == 200 and r.get_json()["winners"] == ["schools"]
    assert client.get(f"/api/v1/polls/{poll.id}/results").status_code == 401


def test_openapi_lists_poll_operations(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert {"/polls/{poll_id}", "/polls/{poll_id}/ballots", "/polls/{poll_id}/results"} <= set(doc["paths"])
    assert "BallotIn" in doc["components"]["schemas"]
