"""The Decide pages: every endpoint allowed and forbidden, voting through the page, results and exports."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select

from panel.models import Ballot, PollVoter
from panel.services import ballots, polls
from tests import helpers
from tests.panel.decision_helpers import add_citizen, add_features, make_poll

RECEIPT_RE = re.compile(r'class="receipt-code mono">([A-Z0-9-]+)<')


def post(client, path, data=None, token_page="/dashboard"):
    data = dict(data or {})
    data["csrf_token"] = helpers.csrf_token(client, token_page)
    return client.post(path, data=data)


def _counts(db, poll_id):
    return tuple(db.session.execute(select(func.count(m.id)).where(m.poll_id == poll_id)).scalar_one()
                 for m in (PollVoter, Ballot))


@pytest.fixture
def poll(db, users):
    return make_poll(db.session, users["organizer"], users["panel"])


def test_decisions_index(client, auth, users):
    auth.as_user(users["citizen"])
    r = client.get(f"/panels/{users['panel'].id}/decisions")
    assert r.status_code == 200 and "Proposals and polls" in r.get_data(as_text=True)
    auth.signout()
    auth.as_user(users["other_citizen"])
    assert client.get(f"/panels/{users['panel'].id}/decisions").status_code == 403


def test_proposal_pages(client, auth, db, users):
    pid = users["panel"].id
    auth.as_user(users["citizen"])
    assert client.get(f"/panels/{pid}/proposals/new").status_code == 200
    bad = post(client, f"/panels/{pid}/proposals/new", {"title": "", "body": "x"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    r = post(client, f"/panels/{pid}/proposals/new", {"title": "Water", "body": "Wells first."})
    assert r.status_code == 302
    prop_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/proposals/{prop_id}").status_code == 200
    assert post(client, f"/proposals/{prop_id}/revise", {"body": "Wells and pipes."}).status_code == 302
    same = post(client, f"/proposals/{prop_id}/revise", {"body": "Wells and pipes."})
    assert same.status_code == 422
    amend = post(client, f"/proposals/{prop_id}/amend", {"title": "Water + tanks", "body": "Wells, tanks."})
    assert amend.status_code == 302
    assert post(client, f"/proposals/{prop_id}/status", {"status": "adopted"}).status_code == 403
    page = client.get(f"/proposals/{prop_id}").get_data(as_text=True)
    assert "Water + tanks" in page and "Version 2" in page and "Wells first." in page
    auth.signout()
    auth.as_user(users["organizer"])
    assert post(client, f"/proposals/{prop_id}/status", {"status": "open"}).status_code == 302
    assert post(client, f"/proposals/{prop_id}/status", {"status": "nonsense"}).status_code == 422
    form = client.get(f"/panels/{pid}/polls/new?proposal_id={prop_id}").get_data(as_text=True)
    assert "Water + tanks" in form  # amendments prefill the options
    auth.signout()
    auth.as_user(users["observer"])
    assert client.get(f"/panels/{pid}/proposals/new").status_code == 403
    assert post(client, f"/proposals/{prop_id}/amend", {"title": "x", "body": "y"}).status_code == 403


def test_poll_new_allowed_and_forbidden(client, auth, db, users):
    pid = users["panel"].id
    auth.as_user(users["organizer"])
    assert client.get(f"/panels/{pid}/polls/new").status_code == 200
    bad = post(client, f"/panels/{pid}/polls/new", {"title": "Q", "ballot_type": "ranked", "method": "approval",
                                                    "candidates": "a\nb"})
    assert bad.status_code == 422 and "cannot count ranked ballots" in bad.get_data(as_text=True)
    bad_time = post(client, f"/panels/{pid}/polls/new", {"title": "Q", "ballot_type": "ranked", "method": "irv",
                                                         "candidates": "a\nb", "closes_at": "soon"})
    assert bad_time.status_code == 422 and "closes_at" in bad_time.get_data(as_text=True)
    ok = post(client, f"/panels/{pid}/polls/new", {"title": "Q", "ballot_type": "ranked", "method": "irv",
                                                   "candidates": "a\nb", "secret": "on",
                                                   "closes_at": "2099-01-01T10:00"})
    assert ok.status_code == 302
    poll_id = int(ok.headers["Location"].rsplit("/", 1)[1])
    assert post(client, f"/polls/{poll_id}/open").status_code == 302
    assert polls.get_poll(db.session, poll_id).status == "open"
    auth.signout()
    auth.as_user(users["citizen"])
    assert client.get(f"/panels/{pid}/polls/new").status_code == 403
    assert post(client, f"/panels/{pid}/polls/new", {"title": "Q"}).status_code == 403


@pytest.mark.parametrize("action", ["open", "close", "publish"])
def test_poll_actions_forbidden_to_citizens(client, auth, db, users, action):
    draft = make_poll(db.session, users["organizer"], users["panel"], open_it=False)
    auth.as_user(users["citizen"])
    assert post(client, f"/polls/{draft.id}/{action}").status_code == 403


def test_poll_page_visibility(client, auth, db, users, poll):
    auth.as_user(users["citizen"])
    page = client.get(f"/polls/{poll.id}")
    assert page.status_code == 200 and "Cast your ballot" in page.get_data(as_text=True)
    auth.signout()
    auth.as_user(users["other_citizen"])
    assert client.get(f"/polls/{poll.id}").status_code == 403
    assert client.get("/polls/9999").status_code == 404
    auth.signout()
    draft = make_poll(db.session, users["organizer"], users["panel"], open_it=False)
    auth.as_user(users["citizen"])
    assert client.get(f"/polls/{draft.id}").status_code == 403  # drafts are for poll managers only


def test_vote_through_the_page(client, auth, db, users, poll):
    auth.as_user(users["citizen"])
    path = f"/polls/{poll.id}"
    r = post(client, f"{path}/vote", {"c0": "1", "c1": "2", "c2": "2"}, token_page=path)
    assert r.status_code == 201
    receipt = RECEIPT_RE.search(r.get_data(as_text=True)).group(1)
    assert db.session.execute(select(Ballot.content)).scalar_one() == {"ranking": ["water", ["schools", "clinics"]]}
    again = post(client, f"{path}/vote", {"c0": "2", "c1": "1"}, token_page=path)
    assert again.status_code == 409 and "receipt code" in again.get_data(as_text=True)
    bad = post(client, f"{path}/vote", {"c0": "first"}, token_page=path)
    assert bad.status_code == 422 and "ballot.ranking" in bad.get_data(as_text=True)
    empty = post(client, f"{path}/vote", {"receipt": receipt}, token_page=path)
    assert empty.status_code == 422 and "empty ballot" in empty.get_data(as_text=True).lower()
    changed = post(client, f"{path}/vote", {"c0": "2", "c1": "1", "receipt": receipt}, token_page=path)
    assert changed.status_code == 200 and "was changed" in changed.get_data(as_text=True)
    assert _counts(db, poll.id) == (1, 1)
    assert db.session.execute(select(Ballot.content)).scalar_one() == {"ranking": ["schools", "water"]}


@pytest.mark.parametrize("ballot_type,method,form,expected", [
    ("yesno", "plurality", {"choice": "yes"}, {"choice": "yes"}),
    ("approval", "approval", {"approve": ["water", "clinics"]}, {"approve": ["water", "clinics"]}),
    ("score", "score", {"c0": "5", "c2": "1"}, {"scores": {"water": 5, "clinics": 1}}),
    ("grades", "majority-judgment", {"c1": "good"}, {"grades": {"schools": "good"}}),
])
def test_every_ballot_type_through_the_page(client, auth, db, users, ballot_type, method, form, expected):
    poll = make_poll(db.session, users["organizer"], users["panel"], ballot_type=ballot_type, method=method)
    auth.as_user(users["citizen"])
    assert "Cast my ballot" in client.get(f"/polls/{poll.id}").get_data(as_text=True)
    r = post(client, f"/polls/{poll.id}/vote", form, token_page=f"/polls/{poll.id}")
    assert r.status_code == 201, r.get_data(as_text=True)
    assert db.session.execute(select(Ballot.content)).scalar_one() == expected


def test_score_out_of_range_on_the_page(client, auth, db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"], ballot_type="score", method="score")
    auth.as_user(users["citizen"])
    r = post(client, f"/polls/{poll.id}/vote", {"c0": "9"}, token_page=f"/polls/{poll.id}")
    assert r.status_code == 422 and "ballot.scores.water" in r.get_data(as_text=True)
    r = post(client, f"/polls/{poll.id}/vote", {"c0": "x"}, token_page=f"/polls/{poll.id}")
    assert r.status_code == 422
    assert _counts(db, poll.id) == (0, 0)


def test_vote_as_json(client, auth, db, users, poll):
    auth.as_user(users["citizen"])
    token = helpers.csrf_token(client, f"/polls/{poll.id}")
    headers = {"X-CSRFToken": token}
    path = f"/polls/{poll.id}/vote"
    bad = client.post(path, data="{not json", content_type="application/json", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "body"
    unknown = client.post(path, json={"ballot": {"ranking": ["mars"]}}, headers=headers)
    assert unknown.status_code == 422 and unknown.get_json()["error"]["field"] == "ballot.ranking"
    assert "mars" in unknown.get_json()["error"]["message"]
    ok = client.post(path, json={"ballot": {"ranking": ["clinics"]}}, headers=headers)
    assert ok.status_code == 201 and ok.get_json()["receipt"]
    second = client.post(path, json={"ballot": {"ranking": ["water"]}}, headers=headers)
    assert second.status_code == 409 and second.get_json()["error"]["field"] == "receipt"
    changed = client.post(path, json={"ballot": {"ranking": ["water"]}, "receipt": ok.get_json()["receipt"]},
                          headers=headers)
    assert changed.status_code == 200 and changed.get_json()["changed"] is True
    assert _counts(db, poll.id) == (1, 1)


def test_vote_forbidden_and_after_close(client, auth, db, users, poll):
    auth.as_user(users["other_citizen"])
    assert post(client, f"/polls/{poll.id}/vote", {"c0": "1"}).status_code == 403
    auth.signout()
    polls.close_poll(db.session, users["organizer"], poll.id)
    auth.as_user(users["citizen"])
    r = post(client, f"/polls/{poll.id}/vote", {"c0": "1"}, token_page=f"/polls/{poll.id}")
    assert r.status_code == 409 and "closed" in r.get_data(as_text=True)
    assert _counts(db, poll.id) == (0, 0)


def _published_poll(db, users, n=12):
    add_features(db.session, users["panel"])
    poll = make_poll(db.session, users["organizer"], users["panel"], ballot_type="approval", method="approval")
    receipts = []
    for i in range(n):
        region = ["Africa", "Asia", "Europe"][0 if i < 5 else 1 if i < 10 else 2]
        voter = add_citizen(db.session, users["panel"], {"region": region, "gender": "female" if i % 2 else "male"})
        choice = ["water"] if i % 3 else ["schools", "clinics"]
        receipts.append(ballots.cast(db.session, voter, poll.id, {"approve": choice}).receipt)
    polls.close_poll(db.session, users["organizer"], poll.id)
    return poll, receipts


def test_exports_before_and_after_publishing(client, auth, db, users):
    poll, receipts = _published_poll(db, users)
    assert client.get(f"/polls/{poll.id}/ballots.jsonl").status_code == 403  # closed: organizers only
    assert client.get(f"/polls/{poll.id}/results").status_code == 403
    auth.as_user(users["organizer"])
    assert client.get(f"/polls/{poll.id}/ballots.jsonl").status_code == 200
    assert client.get(f"/polls/{poll.id}/results.json").status_code == 409
    assert post(client, f"/polls/{poll.id}/publish").status_code == 302
    auth.signout()
    # Published: anyone can read, check and recount.
    page = client.get(f"/polls/{poll.id}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "water" in html
    assert " style=" not in html and "<script" not in html
    assert "python -m voting tally" in html
    data = client.get(f"/polls/{poll.id}/results.json").get_json()
    assert data["winners"] == ["water"] and data["ballots"] == 12
    assert data["groups"]["region"]["Europe"]["suppressed"] is True
    rows = list(csv.reader(io.StringIO(client.get(f"/polls/{poll.id}/results.csv").get_data(as_text=True))))
    assert rows[0][:4] == ["poll_id", "feature", "group", "ballots"]
    europe = [r for r in rows if r[2] == "Europe"]
    assert europe and all(r[5] == "suppressed" and r[6] == "" for r in europe)
    lines = client.get(f"/polls/{poll.id}/ballots.jsonl").get_data(as_text=True).splitlines()
    assert len(lines) == 12 and all(set(json.loads(x)) == {"approve", "receipt"} for x in lines)
    results_page = f"/polls/{poll.id}/results"
    check = post(client, f"/polls/{poll.id}/receipt", {"receipt": receipts[3]}, token_page=results_page)
    assert check.status_code == 200 and "Your ballot is in the list" in check.get_data(as_text=True)
    wrong = post(client, f"/polls/{poll.id}/receipt", {"receipt": "NOPE-NOPE"}, token_page=results_page)
    assert wrong.status_code == 404


def test_unpublished_exports_are_hidden(client, auth, db, users, poll):
    auth.as_user(users["citizen"])
    assert client.get(f"/polls/{poll.id}/ballots.jsonl").status_code == 404
    assert client.get(f"/polls/{poll.id}/results.csv").status_code == 409
