"""Recommendation documents: versions, diffs, sign-off, support figures, publication, delivery."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from panel.errors import Conflict, PermissionDenied, ValidationFailed
from panel.models import AuditEvent, Delivery, OutboxMessage, Poll, RecommendationVersion, SignOff
from panel.models.base import utcnow
from panel.services import recommendations
from tests import helpers
from tests.panel import followup_helpers as fh


def test_versions_are_never_overwritten_and_diff_is_escaped(db, users):
    rec = fh.draft(db.session, users)
    recommendations.revise(db.session, users["facilitator"], rec.id, text="Every state publishes a <b>yearly</b> "
                           "citizens' scorecard.", rationale="People trust what they can check.", base_version=1)
    rows = db.session.execute(select(RecommendationVersion).where(RecommendationVersion.recommendation_id == rec.id)
                              ).scalars().all()
    assert [v.version for v in rows] == [1, 2]
    assert rows[0].text == "Every member state publishes a citizens' scorecard."
    d = {f.field: f for f in recommendations.diff(db.session, rec.id, 1, 2)}
    assert d["text"].changed and not d["rationale"].changed
    assert ("insert", "<b>yearly</b>") in d["text"].segments or any(
        tag == "insert" and "<b>yearly</b>" in t for tag, t in d["text"].segments)


def test_stale_edit_is_refused(db, users):
    rec = fh.draft(db.session, users)
    recommendations.revise(db.session, users["facilitator"], rec.id, text="v2", base_version=1)
    with pytest.raises(Conflict) as e:
        recommendations.revise(db.session, users["organizer"], rec.id, text="v2 other", base_version=1)
    assert e.value.field == "base_version"


def test_sign_off_per_member_and_version(db, users):
    rec = fh.draft(db.session, users)
    with pytest.raises(Conflict):  # not in review yet
        recommendations.sign_off(db.session, users["citizen"], rec.id)
    recommendations.open_review(db.session, users["facilitator"], rec.id)
    asked = db.session.execute(select(OutboxMessage).where(OutboxMessage.user_id == users["citizen"].id)
                               ).scalar_one()
    assert asked.subject.startswith("Please review and sign off")
    recommendations.sign_off(db.session, users["citizen"], rec.id)
    with pytest.raises(Conflict):
        recommendations.sign_off(db.session, users["citizen"], rec.id)
    with pytest.raises(PermissionDenied):
        recommendations.sign_off(db.session, users["other_citizen"], rec.id)
    assert [u.id for _s, u in recommendations.sign_offs(db.session, rec)] == [users["citizen"].id]
    recommendations.revise(db.session, users["facilitator"], rec.id, text="changed words")
    assert recommendations.sign_offs(db.session, rec) == []  # a sign-off covers one version only
    assert db.session.execute(select(SignOff)).scalars().all()  # …and the old one is still recorded


def test_support_validation_names_the_field(db, users):
    rec = fh.draft(db.session, users)
    bad = json.loads(json.dumps(fh.SUPPORT))
    bad["population_weighted"]["ci_low"] = 0.9
    with pytest.raises(ValidationFailed) as e:
        recommendations.set_support(db.session, users["facilitator"], rec.id, bad)
    assert e.value.field == "support.population_weighted"
    bad = json.loads(json.dumps(fh.SUPPORT))
    bad["groups"]["region"]["Africa"]["yes"] = 1.5
    with pytest.raises(ValidationFailed) as e:
        recommendations.set_support(db.session, users["facilitator"], rec.id, bad)
    assert e.value.field == "support.groups.region.Africa.yes"
    recommendations.set_support(db.session, users["facilitator"], rec.id, fh.SUPPORT)
    groups = recommendations.public_groups(rec.support)
    assert set(groups["region"]) == {"Africa", "other (merged small groups)"}  # 2 + 4 merged into 6
    assert groups["region"]["other (merged small groups)"]["n"] == 6


def test_create_from_proposal_takes_poll_result(db, users):
    p = fh.proposal(db.session, users["panel"].id)
    poll = Poll(panel_id=users["panel"].id, proposal_id=p.id, title="Adopt?", ballot_type="yesno",
                method="majority", candidates=["yes", "no", "abstain"], status="published",
                result={"ballots": 20, "scores": {"yes": 14, "no": 4, "abstain": 2},
                        "groups": {"region": {"Africa": {"ballots": 8, "suppressed": False,
                                                         "scores": {"yes": 6, "no": 2, "abstain": 0}},
                                              "Oceania": {"ballots": None, "suppressed": True}}}})
    db.session.add(poll)
    db.session.commit()
    rec = recommendations.create_from_proposal(db.session, users["organizer"], p.id)
    assert rec.proposal_id == p.id and rec.poll_id == poll.id
    assert rec.support["overall"] == {"yes": 0.7, "no": 0.2, "abstain": 0.1}
    assert rec.support["groups"]["region"]["Africa"]["n"] == 8
    assert "Oceania" not in rec.support["groups"]["region"]
    assert recommendations.current(db.session, rec).text.startswith("Every member state")


def test_create_from_proposal_without_poll_has_no_support(db, users):
    p = fh.proposal(db.session, users["panel"].id)
    rec = recommendations.create_from_proposal(db.session, users["facilitator"], p.id)
    assert rec.support is None


def test_publish_audited_and_frozen(db, users):
    rec = fh.published(db.session, users)
    assert rec.status == "published" and rec.published_at
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "recommendation.published")).scalar()
    with pytest.raises(Conflict):
        recommendations.revise(db.session, users["facilitator"], rec.id, text="too late")
    with pytest.raises(PermissionDenied):
        recommendations.publish(db.session, users["other_facilitator"], fh.draft(db.session, users).id)


def test_deliver_all_region_chosen_and_past_due(db, users):
    ms = fh.missions3(db.session)
    helpers.make_user(db.session, "mission", "desk-bra@test.example", mission=ms["BRA"])
    rec = fh.published(db.session, users)
    with pytest.raises(ValidationFailed) as e:
        recommendations.deliver(db.session, users["facilitator"], rec.id, due_at="2020-01-01")
    assert e.value.field == "due_at" and e.value.status == 422
    assert db.session.execute(select(Delivery)).first() is None  # nothing half-written
    got = recommendations.deliver(db.session, users["facilitator"], rec.id,
                                  due_at=utcnow() + timedelta(days=60), region="African States")
    assert [d.mission_id for d in got] == [ms["KEN"].id]
    got = recommendations.deliver(db.session, users["facilitator"], rec.id, due_at=utcnow() + timedelta(days=60),
                                  mission_ids=[ms["BRA"].id])
    assert [d.mission_id for d in got] == [ms["BRA"].id]
    got = recommendations.deliver(db.session, users["facilitator"], rec.id, due_at=utcnow() + timedelta(days=90))
    assert [d.mission_id for d in got] == [ms["DEU"].id]  # the others keep their original due date
    mails = db.session.execute(select(OutboxMessage)).scalars().all()
    assert {m.to_address for m in mails} == {users["mission"].email, "desk-bra@test.example"}
    with pytest.raises(ValidationFailed) as e:
        recommendations.deliver(db.session, users["facilitator"], rec.id, due_at=utcnow() + timedelta(days=9),
                                mission_ids=[99999])
    assert e.value.field == "mission_ids"
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "recommendation.delivered")).all()
    assert len(events) == 3


def test_deliver_requires_published(db, users):
    fh.missions3(db.session)
    rec = fh.draft(db.session, users)
    with pytest.raises(Conflict):
        recommendations.deliver(db.session, users["facilitator"], rec.id, due_at=utcnow() + timedelta(days=9))


# --- web --------------------------------------------------------------------------------------

def _post(client, path, data, page):
    data = {**data, "csrf_token": helpers.csrf_token(client, page)}
    return client.post(path, data=data)


def test_panel_page_create_and_detail_allowed(client, auth, db, users):
    auth.as_user(users["facilitator"])
    page = f"/panels/{users['panel'].id}/recommendations"
    assert client.get(page).status_code == 200
    r = _post(client, page, {"title": "T", "text": "Do it."}, page)
    assert r.status_code == 302
    rec_url = r.headers["Location"]
    html = client.get(rec_url).get_data(as_text=True)
    assert "Do it." in html and "Publish version 1" in html
    r = _post(client, page, {"title": "", "text": "x"}, page)
    assert r.status_code == 422 and b"title" in r.data


@pytest.mark.parametrize("role", ["other_facilitator", "mission", "other_citizen"])
def test_panel_page_forbidden(client, auth, users, role):
    auth.as_user(users[role])
    assert client.get(f"/panels/{users['panel'].id}/recommendations").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, db, users):
    rec = fh.draft(db.session, users)
    assert client.get(f"/recommendations/{rec.id}").status_code == 302


def test_actions_through_the_page(client, auth, db, users):
    fh.missions3(db.session)
    rec = fh.draft(db.session, users)
    page = f"/recommendations/{rec.id}"
    auth.as_user(users["facilitator"])
    r = _post(client, f"{page}/revise", {"text": "New <script>x</script> words", "base_version": "1"}, page)
    assert r.status_code == 302
    diff = client.get(f"{page}/diff?a=1&b=2").get_data(as_text=True)
    assert "&lt;script&gt;" in diff and "<script>x" not in diff
    r = _post(client, f"{page}/support", {"support_json": "{not json"}, page)
    assert r.status_code == 422 and b"not valid JSON" in r.data
    r = _post(client, f"{page}/support", {"support_json": json.dumps(fh.SUPPORT)}, page)
    assert r.status_code == 302
    assert _post(client, f"{page}/review", {}, page).status_code == 302
    auth.signout()
    auth.as_user(users["citizen"])
    assert _post(client, f"{page}/sign", {}, page).status_code == 302
    assert _post(client, f"{page}/publish", {}, page).status_code == 403  # citizens do not publish
    auth.signout()
    auth.as_user(users["facilitator"])
    assert _post(client, f"{page}/publish", {}, page).status_code == 302
    r = _post(client, f"{page}/deliver", {"scope": "all", "due_at": "2001-01-01"}, page)
    assert r.status_code == 422 and b"in the past" in r.data
    r = _post(client, f"{page}/deliver", {"scope": "all", "due_at": (utcnow() + timedelta(days=30)).date()
                                          .isoformat()}, page)
    assert r.status_code == 302
    assert "Delivered to 3 missions" in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize("action", ["revise", "support", "review", "publish", "deliver"])
def test_actions_forbidden_for_outsiders(client, auth, db, users, action):
    rec = fh.draft(db.session, users)
    auth.as_user(users["other_organizer"])
    r = _post(client, f"/recommendations/{rec.id}/{action}", {"text": "x", "due_at": "2099-01-01"}, "/dashboard")
    assert r.status_code == 403


def test_sign_forbidden_for_staff(client, auth, db, users):
    rec = fh.draft(db.session, users)
    recommendations.open_review(db.session, users["facilitator"], rec.id)
    auth.as_user(users["facilitator"])
    assert _post(client, f"/recommendations/{rec.id}/sign", {}, "/dashboard").status_code == 403


def test_diff_forbidden_and_bad_input(client, auth, db, users):
    rec = fh.draft(db.session, users)
    auth.as_user(users["other_citizen"])
    assert client.get(f"/recommendations/{rec.id}/diff").status_code == 403
    auth.signout()
    auth.as_user(users["citizen"])
    assert client.get(f"/recommendations/{rec.id}/diff?a=1&b=1").status_code == 200
    assert client.get(f"/recommendations/{rec.id}/diff?a=x").status_code == 422
    assert client.get(f"/recommendations/{rec.id}/diff?a=1&b=7").status_code == 404


def test_support_from_the_voting_apps_result_shape(db, users):
    """The shape the voting app stores in Poll.result: counts, groups, weighted and bridging blocks."""
    p = fh.proposal(db.session, users["panel"].id)
    result = {"ballots": 10, "scores": {"yes": 6, "no": 3, "abstain": 1}, "support": {"yes": 0.667},
              "groups": {"region": {"Asia": {"ballots": 6, "suppressed": False,
                                             "scores": {"yes": 4, "no": 2, "abstain": 0}}}},
              "weighted": {"feature": "region", "level": 0.95,
                           "support": {"yes": {"estimate": 0.62, "low": 0.41, "high": 0.8, "raw": 0.667}}},
              "bridging": {"feature": "region", "consensus": {"yes": 0.44}, "by_feature": {}}}
    poll = Poll(panel_id=users["panel"].id, proposal_id=p.id, title="Adopt?", ballot_type="yesno",
                method="plurality", candidates=["yes", "no", "abstain"], status="published", result=result)
    db.session.add(poll)
    db.session.commit()
    s = recommendations.support_from_poll(poll)
    assert s["overall"] == {"yes": 0.6, "no": 0.3, "abstain": 0.1}
    assert s["bridging"] == 0.44
    assert s["population_weighted"] == {"yes": 0.62, "ci_low": 0.41, "ci_high": 0.8, "level": 0.95}
    assert s["groups"]["region"]["Asia"]["n"] == 6
    poll.result = {**result, "weighted": {"support": {"yes": {"estimate": 0.9, "low": 0.1, "high": 0.5}}}}
    s = recommendations.support_from_poll(poll)  # an inconsistent interval is dropped, not fatal
    assert "population_weighted" not in s and s["overall"]["yes"] == 0.6
    poll.result = {"winners": ["a"], "scores": {"a": 3, "b": 1}}  # not a yes/no poll
    assert recommendations.support_from_poll(poll) is None


def test_support_from_a_real_published_yes_no_poll(db, users):
    """End to end with the voting app: cast, close and publish a yes/no poll, then draft from its proposal."""
    from panel.services import ballots, polls
    from tests.panel import decision_helpers as dh

    panel = users["panel"]
    dh.add_features(db.session, panel)
    p = fh.proposal(db.session, panel.id)
    poll = dh.make_poll(db.session, users["organizer"], panel, ballot_type="yesno", method="plurality",
                        proposal_id=p.id)
    votes = ["yes"] * 7 + ["no"] * 3 + ["abstain"] * 2
    for i, choice in enumerate(votes):
        region = ("Africa", "Asia", "Europe")[i % 3]
        voter = dh.add_citizen(db.session, panel, {"region": region, "gender": ("female", "male")[i % 2]})
        ballots.cast(db.session, voter, poll.id, {"choice": choice})
    polls.close_poll(db.session, users["organizer"], poll.id)
    polls.publish(db.session, users["organizer"], poll.id)
    rec = recommendations.create_from_proposal(db.session, users["facilitator"], p.id)
    s = rec.support
    assert rec.poll_id == poll.id and s["poll_id"] == poll.id
    assert abs(s["overall"]["yes"] - 7 / 12) < 1e-9 and abs(s["overall"]["abstain"] - 2 / 12) < 1e-9
    assert s["voters"] == 12
    assert all(fig["n"] >= 5 for values in s["groups"].values() for fig in values.values())
    if "population_weighted" in s:
        pw = s["population_weighted"]
        assert pw["ci_low"] <= pw["yes"] <= pw["ci_high"]
