"""Poll set-up, life cycle, audit, and a published count that anyone can recompute with the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from panel.errors import Conflict, PermissionDenied, ValidationFailed
from panel.models import AuditEvent
from panel.models.base import utcnow
from panel.services import ballots, polls, proposals, tally_engine
from tests.conftest import ROOT
from tests.panel.decision_helpers import add_citizen, add_features, make_poll


@pytest.mark.parametrize("fields,field", [
    ({"title": " "}, "title"),
    ({"ballot_type": "lottery"}, "ballot_type"),
    ({"method": "dictator"}, "method"),
    ({"method": "approval"}, "method"),  # approval cannot count ranked ballots
    ({"method": ""}, "method"),
    ({"candidates": ["water"]}, "candidates"),
    ({"candidates": ["water", "water"]}, "candidates"),
    ({"candidates": ["water, sanitation", "schools"]}, "candidates"),
    ({"candidates": "one"}, "candidates"),
    ({"seats": 2}, "seats"),
    ({"ballot_type": "approval", "method": "pav", "seats": 3}, "seats"),
    ({"ballot_type": "approval", "method": "pav", "seats": "x"}, "seats"),
    ({"ballot_type": "score", "method": "score", "score_min": 5, "score_max": 5}, "score_max"),
    ({"ballot_type": "grades", "method": "majority-judgment", "grade_scale": ["ok"]}, "grade_scale"),
    ({"opens_at": utcnow(), "closes_at": utcnow() - timedelta(hours=1)}, "closes_at"),
    ({"closes_at": "tomorrow"}, "closes_at"),
    ({"proposal_id": 999}, "proposal_id"),
    ({"method": "kemeny", "candidates": [f"c{i}" for i in range(20)]}, "method"),  # above Kemeny's limit
])
def test_bad_poll_settings_name_the_field(db, users, fields, field):
    with pytest.raises(ValidationFailed) as e:
        make_poll(db.session, users["organizer"], users["panel"], open_it=False, **fields)
    assert e.value.field == field, e.value.message


def test_poll_settings_kept(db, users):
    prop = proposals.create_proposal(db.session, users["citizen"], users["panel"].id, title="Water", body="Wells")
    poll = make_poll(db.session, users["organizer"], users["panel"], open_it=False, ballot_type="approval",
                     method="pav", seats=2, candidates="water\n schools \n\nclinics", proposal_id=prop.id)
    assert poll.candidates == ["water", "schools", "clinics"] and poll.seats == 2 and poll.secret
    yesno = make_poll(db.session, users["organizer"], users["panel"], open_it=False, ballot_type="yesno",
                      method="plurality", candidates=[])
    assert yesno.candidates == ["yes", "no", "abstain"]
    grades = make_poll(db.session, users["organizer"], users["panel"], open_it=False, ballot_type="grades",
                       method="majority-judgment")
    assert grades.grade_scale == list(tally_engine.DEFAULT_GRADE_SCALE)


def test_method_choices_come_from_the_library_registry():
    ids = {m.id for m in tally_engine.methods()}
    assert {"schulze", "irv", "borda", "approval", "pav", "score", "majority-judgment", "plurality"} <= ids
    ranked = {m.id for m in tally_engine.methods() if "ranked" in m.ballot_types}
    assert "schulze" in ranked and "pav" not in ranked


@pytest.mark.parametrize("who", ["citizen", "observer", "mission", "other_organizer", "other_facilitator"])
def test_only_panel_staff_manage_polls(db, users, who):
    with pytest.raises(PermissionDenied):
        make_poll(db.session, users[who], users["panel"], open_it=False)
    poll = make_poll(db.session, users["organizer"], users["panel"], open_it=False)
    for action in (polls.open_poll, polls.close_poll, polls.publish):
        with pytest.raises(PermissionDenied):
            action(db.session, users[who], poll.id)


def test_facilitator_and_admin_manage_polls(db, users):
    for who in ("facilitator", "admin"):
        poll = make_poll(db.session, users[who], users["panel"])
        assert poll.status == "open"


def test_update_only_in_draft(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"], open_it=False)
    polls.update_poll(db.session, users["organizer"], poll.id, title="Renamed", ballot_type="ranked",
                      method="irv", candidates=["a", "b"])
    assert poll.title == "Renamed" and poll.method == "irv"
    polls.open_poll(db.session, users["organizer"], poll.id)
    with pytest.raises(Conflict):
        polls.update_poll(db.session, users["organizer"], poll.id, title="Again", ballot_type="ranked",
                          method="irv", candidates=["a", "b"])
    with pytest.raises(Conflict):
        polls.open_poll(db.session, users["organizer"], poll.id)


def test_life_cycle_is_audited_without_voters(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["water", "clinics"]})
    with pytest.raises(Conflict):
        polls.publish(db.session, users["organizer"], poll.id)  # still open
    polls.close_poll(db.session, users["organizer"], poll.id)
    with pytest.raises(Conflict):
        polls.close_poll(db.session, users["organizer"], poll.id)
    polls.publish(db.session, users["organizer"], poll.id)
    with pytest.raises(Conflict):
        polls.publish(db.session, users["organizer"], poll.id)
    events = db.session.execute(select(AuditEvent).where(AuditEvent.subject_type == "poll")
                                .order_by(AuditEvent.id)).scalars().all()
    assert [e.action for e in events] == ["poll.created", "poll.opened", "poll.closed", "poll.tally_published"]
    assert all(e.actor_id == users["organizer"].id for e in events)
    keys = {k for e in events for k in e.payload}
    assert not keys & {"user_id", "voter_id", "voter", "receipt", "ballot", "strata"}
    # Casting itself leaves no trace in the audit log.
    assert not db.session.execute(select(AuditEvent).where(AuditEvent.actor_id == users["citizen"].id)).first()
    assert events[-1].payload["winners"] == ["water"]
    assert events[-1].payload["ballots_sha256"] == poll.result["ballots_sha256"]


def test_publish_after_closing_time_closes_first(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["schools"]})
    poll.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    polls.publish(db.session, users["organizer"], poll.id)
    assert poll.status == "published" and poll.result["winners"] == ["schools"]


def test_publish_without_ballots_is_refused(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    polls.close_poll(db.session, users["organizer"], poll.id)
    with pytest.raises(Conflict) as e:
        polls.publish(db.session, users["organizer"], poll.id)
    assert e.value.field == "ballots"
    assert poll.status == "closed"


def _run_cli(tmp_path, poll, export):
    path = tmp_path / "ballots.jsonl"
    path.write_text(export, encoding="utf-8")
    args = poll.result["cli"][3:]  # drop "python -m voting"
    proc = subprocess.run([sys.executable, "-m", "voting", *args, "--ballots", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


BALLOTS = {
    "ranked": [{"ranking": ["water", "schools"]}, {"ranking": [["schools", "clinics"], "water"]},
               {"ranking": ["clinics"]}, {"ranking": ["water", "clinics", "schools"]},
               {"ranking": ["schools", "water"]}, {"ranking": ["clinics", "water"]}],
    "approval": [{"approve": ["water", "schools"]}, {"approve": ["schools"]}, {"approve": ["clinics"]},
                 {"approve": ["water"]}, {"approve": ["water", "clinics"]}, {"approve": ["schools", "clinics"]}],
    "score": [{"scores": {"water": 10, "schools": 3}}, {"scores": {"clinics": 7}}, {"scores": {"schools": 9}},
              {"scores": {"water": 0, "clinics": 10}}, {"scores": {"water": 6}}, {"scores": {"schools": 1}}],
    "grades": [{"grades": {"water": "good", "schools": "poor"}}, {"grades": {"clinics": "excellent"}},
               {"grades": {"water": "acceptable"}}, {"grades": {"schools": "very good", "water": "reject"}},
               {"grades": {"clinics": "good"}}, {"grades": {"water": "excellent"}}],
    "yesno": [{"choice": "yes"}, {"choice": "no"}, {"choice": "yes"}, {"choice": "abstain"},
              {"choice": "yes"}, {"choice": "no"}],
}


@pytest.mark.parametrize("ballot_type,method,extra", [
    ("ranked", "schulze", {}), ("ranked", "irv", {}), ("ranked", "borda", {}), ("ranked", "copeland", {}),
    ("ranked", "ranked-pairs", {}), ("approval", "approval", {}), ("approval", "pav", {"seats": 2}),
    ("approval", "seq-phragmen", {"seats": 2}), ("score", "score", {"score_min": 0, "score_max": 10}),
    ("score", "star", {"score_min": 0, "score_max": 10}), ("grades", "majority-judgment", {}),
    ("yesno", "plurality", {}),
])
def test_published_count_equals_cli_on_export(db, users, tmp_path, ballot_type, method, extra):
    poll = make_poll(db.session, users["organizer"], users["panel"], ballot_type=ballot_type, method=method,
                     **extra)
    receipts = []
    for content in BALLOTS[ballot_type]:
        voter = add_citizen(db.session, users["panel"])
        receipts.append(ballots.cast(db.session, voter, poll.id, content).receipt)
    polls.close_poll(db.session, users["organizer"], poll.id)
    export = polls.export_jsonl(db.session, poll)
    polls.publish(db.session, users["organizer"], poll.id)
    cli = _run_cli(tmp_path, poll, export)
    for key in ("method", "winners", "ranking", "scores", "committees", "tied"):
        assert cli.get(key) == poll.result.get(key), key
    lines = export.splitlines()
    assert len(lines) == len(BALLOTS[ballot_type])
    # Every voter finds their receipt hash in the export; the lines are sorted by it, not by time.
    hashes = [json.loads(line)["receipt"] for line in lines]
    assert hashes == sorted(hashes)
    assert {ballots.receipt_hash(poll.id, r) for r in receipts} == set(hashes)


def test_groups_smaller_than_five_are_suppressed(db, users):
    add_features(db.session, users["panel"])
    poll = make_poll(db.session, users["organizer"], users["panel"], ballot_type="approval", method="approval")
    for i in range(8):
        region = "Asia" if i < 6 else "Europe"
        voter = add_citizen(db.session, users["panel"], {"region": region, "gender": "female" if i % 2 else "male"})
        ballots.cast(db.session, voter, poll.id, {"approve": ["water"] if i < 5 else ["schools"]})
    polls.close_poll(db.session, users["organizer"], poll.id)
    polls.publish(db.session, users["organizer"], poll.id)
    groups = poll.result["groups"]
    assert groups["region"]["Europe"] == {"ballots": None, "suppressed": True}
    assert groups["region"]["Asia"]["ballots"] == 6 and not groups["region"]["Asia"]["suppressed"]
    assert poll.result["ballots"] == 8 and poll.result["voters"] == 8


def test_weighted_support_and_bridging(db, users):
    add_features(db.session, users["panel"])  # region shares Africa .2, Asia .6, Europe .2
    poll = make_poll(db.session, users["organizer"], users["panel"], ballot_type="yesno", method="plurality",
                     candidates=[])
    # Africa: 5 voters, all yes. Asia: 5 voters, 1 yes. Europe: 5 voters, 3 yes. One abstention (Europe).
    plan = [("Africa", "yes")] * 5 + [("Asia", "yes")] + [("Asia", "no")] * 4 + [("Europe", "yes")] * 3 + \
        [("Europe", "no")] * 2 + [("Europe", "abstain")]
    for region, choice in plan:
        voter = add_citizen(db.session, users["panel"], {"region": region})
        ballots.cast(db.session, voter, poll.id, {"choice": choice})
    polls.close_poll(db.session, users["organizer"], poll.id)
    polls.publish(db.session, users["organizer"], poll.id)
    r = poll.result
    assert r["winners"] == ["yes"] and r["ballots"] == 16
    assert r["support"] == {"yes": pytest.approx(9 / 15)}  # abstentions are left out of support
    w = r["weighted"]
    assert w["feature"] == "region" and w["level"] == 0.95 and w["seed"] == poll.id
    est = w["support"]["yes"]
    assert est["estimate"] == pytest.approx(0.2 * 1 + 0.6 * 0.2 + 0.2 * 0.6)  # population, not panel, mix
    assert est["low"] <= est["estimate"] <= est["high"]
    assert est["raw"] == pytest.approx(9 / 15)
    group = r["groups"]["region"]
    assert group["Africa"]["support"] == {"yes": 1.0} and group["Asia"]["support"] == {"yes": pytest.approx(0.2)}
    cons = r["bridging"]["consensus"]["yes"]
    assert cons == pytest.approx((6 / 7) * (2 / 7) * (4 / 7))  # Π (1 + agree_g) / (2 + votes_g)
    assert "yes" in r["bridging"]["matrix_factorisation"]
    assert r["eligible"] == 17  # the world's citizen + 16 voters
    t = r["thresholds"]
    assert t["passed"] and t["yes"] == 9 and t["no"] == 6 and t["abstain"] == 1 and t["eligible"] == 17


def test_minority_positions(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"], ballot_type="approval", method="approval")
    for i in range(15):
        region = "Europe" if i < 5 else "Asia"
        voter = add_citizen(db.session, users["panel"], {"region": region})
        ballots.cast(db.session, voter, poll.id, {"approve": ["clinics"] if region == "Europe" else ["water"]})
    polls.close_poll(db.session, users["organizer"], poll.id)
    polls.publish(db.session, users["organizer"], poll.id)
    minority = poll.result["minority"]
    assert minority == [{"option": "clinics", "feature": "region", "group": "Europe", "group_support": 1.0,
                         "overall_support": pytest.approx(1 / 3), "group_size": 5}]
    assert "thresholds" not in poll.result  # only yes/no polls have a quorum and majority


def test_ballot_support_definitions():
    spec = tally_engine.PollSpec("ranked", "borda", ("a", "b", "c", "d"))
    assert tally_engine.ballot_support(spec, {"ranking": ["b", ["a", "c"]]}) == [1 / 3, 1.0, 1 / 3, 0.0]
    spec = tally_engine.PollSpec("score", "score", ("a", "b"), score_min=-2, score_max=2)
    assert tally_engine.ballot_support(spec, {"scores": {"a": 2, "b": 0}}) == [1.0, 0.5]
    spec = tally_engine.PollSpec("grades", "majority-judgment", ("a", "b"), grade_scale=("bad", "ok", "good"))
    assert tally_engine.ballot_support(spec, {"grades": {"b": "ok"}}) == [0.0, 0.5]
    spec = tally_engine.PollSpec("yesno", "plurality", ("yes", "no", "abstain"))
    assert tally_engine.ballot_support(spec, {"choice": "abstain"}) is None


def test_demo_has_an_open_poll_a_demo_citizen_can_vote_in(db):
    from panel import demo
    from panel.models import Poll, User

    demo.seed(db.session)
    demo.seed(db.session)  # idempotent: still one poll
    poll = db.session.execute(select(Poll)).scalar_one()
    citizen = db.session.execute(select(User).where(User.email == "citizen1@pnyx.example")).scalar_one()
    out = ballots.cast(db.session, citizen, poll.id, {"ranking": [poll.candidates[1], poll.candidates[0]]})
    assert out.receipt and poll.proposal_id is not None
