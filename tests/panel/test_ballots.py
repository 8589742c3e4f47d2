"""Casting and changing ballots: one per member, secret ballots unlinkable, bad input refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from panel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from panel.models import AuditEvent, Ballot, PollVoter
from panel.models.base import utcnow
from panel.services import ballots, polls
from tests.panel.decision_helpers import add_citizen, make_poll


def _count(db, model, poll_id):
    return db.session.execute(select(func.count(model.id)).where(model.poll_id == poll_id)).scalar_one()


def test_first_secret_ballot_gets_receipt_and_is_not_linked(db, users):
    voter = add_citizen(db.session, users["panel"], {"region": "Africa", "gender": "female"})
    poll = make_poll(db.session, users["organizer"], users["panel"])
    out = ballots.cast(db.session, voter, poll.id, {"ranking": ["water", ["schools", "clinics"]]})
    assert out.receipt and not out.changed
    stored = db.session.execute(select(Ballot).where(Ballot.poll_id == poll.id)).scalar_one()
    assert stored.voter_id is None
    assert stored.receipt_hash == ballots.receipt_hash(poll.id, out.receipt)
    assert out.receipt not in str(stored.content)
    assert stored.strata == {"region": "Africa", "gender": "female"}
    # Timestamps are coarsened to the day so they cannot be matched against PollVoter rows.
    assert (stored.updated_at.hour, stored.updated_at.minute, stored.updated_at.second) == (0, 0, 0)
    voter_row = db.session.execute(select(PollVoter).where(PollVoter.poll_id == poll.id)).scalar_one()
    assert voter_row.user_id == voter.id and voter_row.first_cast_at == stored.updated_at


def test_second_secret_ballot_needs_receipt_and_replaces(db, users):
    voter = users["citizen"]
    poll = make_poll(db.session, users["organizer"], users["panel"])
    first = ballots.cast(db.session, voter, poll.id, {"ranking": ["water"]})
    with pytest.raises(Conflict) as e:
        ballots.cast(db.session, voter, poll.id, {"ranking": ["clinics"]})
    assert e.value.field == "receipt" and e.value.status == 409
    with pytest.raises(ValidationFailed) as e:
        ballots.cast(db.session, voter, poll.id, {"ranking": ["clinics"]}, receipt="AAAA-BBBB")
    assert e.value.field == "receipt"
    # Receipt codes are forgiving about case, spaces and dashes.
    messy = first.receipt.lower().replace("-", " ")
    again = ballots.cast(db.session, voter, poll.id, {"ranking": ["clinics"]}, receipt=messy)
    assert again.changed and again.receipt is None
    assert _count(db, Ballot, poll.id) == 1 and _count(db, PollVoter, poll.id) == 1
    assert db.session.execute(select(Ballot.content)).scalar_one() == {"ranking": ["clinics"]}


def test_open_poll_ballot_changes_without_receipt(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"], secret=False)
    ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["water"]})
    out = ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["schools", "water"]})
    assert out.changed
    stored = db.session.execute(select(Ballot)).scalar_one()
    assert stored.voter_id == users["citizen"].id and stored.content == {"ranking": ["schools", "water"]}
    assert ballots.open_ballot_of(db.session, users["citizen"], poll) == {"ranking": ["schools", "water"]}


def test_first_ballot_with_receipt_is_refused(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    with pytest.raises(ValidationFailed) as e:
        ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["water"]}, receipt="ABCD")
    assert e.value.field == "receipt"
    assert _count(db, PollVoter, poll.id) == 0


@pytest.mark.parametrize("fields,content,field", [
    ({}, {"ranking": ["water", "mars"]}, "ballot.ranking"),
    ({}, {"ranking": ["water", "water"]}, "ballot.ranking"),
    ({}, {"ranking": []}, "ballot.ranking"),
    ({}, {"ranking": "water"}, "ballot.ranking"),
    ({}, {"approve": ["water"]}, "ballot.approve"),
    ({}, {"ranking": ["water"], "extra": 1}, "ballot.extra"),
    ({}, {}, "ballot.ranking"),
    ({}, ["water"], "ballot"),
    ({}, "not json", "ballot"),
    ({"ballot_type": "score", "method": "score", "score_max": 10}, {"scores": {"water": 11}}, "ballot.scores.water"),
    ({"ballot_type": "score", "method": "score"}, {"scores": {"water": 2.5}}, "ballot.scores.water"),
    ({"ballot_type": "score", "method": "score"}, {"scores": {}}, "ballot.scores"),
    ({"ballot_type": "approval", "method": "approval"}, {"approve": []}, "ballot.approve"),
    ({"ballot_type": "approval", "method": "approval"}, {"approve": ["water", "water"]}, "ballot.approve"),
    ({"ballot_type": "yesno", "method": "plurality"}, {"choice": "maybe"}, "ballot.choice"),
    ({"ballot_type": "grades", "method": "majority-judgment"}, {"grades": {"water": "superb"}}, "ballot.grades.water"),
])
def test_bad_ballots_are_refused_naming_the_field(db, users, fields, content, field):
    poll = make_poll(db.session, users["organizer"], users["panel"], **fields)
    with pytest.raises(ValidationFailed) as e:
        ballots.cast(db.session, users["citizen"], poll.id, content)
    assert e.value.field == field, e.value.message
    assert e.value.status == 422 and e.value.message
    assert _count(db, Ballot, poll.id) == 0 and _count(db, PollVoter, poll.id) == 0


def test_bad_change_keeps_the_earlier_ballot(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    first = ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["water"]})
    with pytest.raises(ValidationFailed):
        ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["pluto"]}, receipt=first.receipt)
    assert db.session.execute(select(Ballot.content)).scalar_one() == {"ranking": ["water"]}


def test_vote_after_close_and_before_open(db, users):
    draft = make_poll(db.session, users["organizer"], users["panel"], open_it=False)
    with pytest.raises(Conflict) as e:
        ballots.cast(db.session, users["citizen"], draft.id, {"ranking": ["water"]})
    assert e.value.code == "poll_draft"
    later = make_poll(db.session, users["organizer"], users["panel"], opens_at=utcnow() + timedelta(hours=1))
    with pytest.raises(Conflict) as e:
        ballots.cast(db.session, users["citizen"], later.id, {"ranking": ["water"]})
    assert e.value.code == "poll_scheduled"
    poll = make_poll(db.session, users["organizer"], users["panel"])
    first = ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["water"]})
    polls.close_poll(db.session, users["organizer"], poll.id)
    with pytest.raises(Conflict) as e:
        ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["clinics"]}, receipt=first.receipt)
    assert e.value.code == "poll_closed" and e.value.field == "poll"
    assert db.session.execute(select(Ballot.content)).scalar_one() == {"ranking": ["water"]}


def test_closing_time_passed_refuses_votes(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    poll.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(Conflict):
        ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["water"]})


@pytest.mark.parametrize("who", ["other_citizen", "organizer", "facilitator", "observer", "admin", "mission"])
def test_only_citizen_members_vote(db, users, who):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    with pytest.raises(PermissionDenied):
        ballots.cast(db.session, users[who], poll.id, {"ranking": ["water"]})
    assert _count(db, PollVoter, poll.id) == 0


def test_unknown_poll(db, users):
    with pytest.raises(NotFound):
        ballots.cast(db.session, users["citizen"], 999, {"ranking": ["water"]})


def test_database_refuses_a_second_voter_row(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["water"]})
    db.session.add(PollVoter(poll_id=poll.id, user_id=users["citizen"].id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_casting_writes_no_audit_event(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    before = db.session.execute(select(func.count(AuditEvent.id))).scalar_one()
    first = ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["water"]})
    ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["schools"]}, receipt=first.receipt)
    assert db.session.execute(select(func.count(AuditEvent.id))).scalar_one() == before


def test_receipt_check_after_close(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    out = ballots.cast(db.session, users["citizen"], poll.id, {"ranking": ["schools"]})
    with pytest.raises(Conflict):
        ballots.check_receipt(db.session, poll, out.receipt)
    polls.close_poll(db.session, users["organizer"], poll.id)
    digest, content = ballots.check_receipt(db.session, poll, out.receipt)
    assert content == {"ranking": ["schools"]}
    assert (digest, content) in polls.anonymised_ballots(db.session, poll)
    with pytest.raises(NotFound):
        ballots.check_receipt(db.session, poll, "WRONG-CODE")
    with pytest.raises(ValidationFailed):
        ballots.check_receipt(db.session, poll, " - ")


def test_cast_in_room_payloads(db, users):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    panel_id = users["panel"].id
    for data, field in [({"poll": "1", "ballot": {}}, "poll"), ({"poll": True, "ballot": {}}, "poll"),
                        ({"poll": poll.id}, "ballot"), ({"poll": poll.id, "ballot": {}, "receipt": 5}, "receipt"),
                        ({"poll": poll.id, "ballot": "x"}, "ballot")]:
        with pytest.raises(ValidationFailed) as e:
            ballots.cast_in_room(db.session, users["citizen"], panel_id, data)
        assert e.value.field == field
    with pytest.raises(ValidationFailed) as e:
        ballots.cast_in_room(db.session, users["citizen"], panel_id + 1, {"poll": poll.id, "ballot": {}})
    assert e.value.field == "poll"
    ack = ballots.cast_in_room(db.session, users["citizen"], panel_id, {"poll": poll.id, "ballot": {"ranking": ["water"]}})
    assert ack["changed"] is False and ack["receipt"]
    ack2 = ballots.cast_in_room(db.session, users["citizen"], panel_id,
                                {"poll": poll.id, "ballot": {"ranking": ["clinics"]}, "receipt": ack["receipt"]})
    assert ack2 == {"poll": poll.id, "changed": True, "receipt": None}
    assert _count(db, Ballot, poll.id) == 1
