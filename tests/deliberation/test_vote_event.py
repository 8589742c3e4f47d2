"""The room's ``vote`` event casts through the same service as the web page (panel.services.ballots)."""

from __future__ import annotations

from sqlalchemy import func, select

from deliberation.rooms import NAMESPACE
from panel.models import Ballot, PollVoter
from tests.panel.decision_helpers import make_poll


def _vote(c, data):
    return c.emit("vote", data, namespace=NAMESPACE, callback=True)


def _counts(db, poll_id):
    return tuple(db.session.execute(select(func.count(m.id)).where(m.poll_id == poll_id)).scalar_one()
                 for m in (PollVoter, Ballot))


def test_citizen_votes_from_the_room(db, users, room, sio):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    c = sio(users["citizen"])
    c.emit("join", {"room": room.id, "last_seq": 0}, namespace=NAMESPACE, callback=True)
    c.get_received(NAMESPACE)
    ack = _vote(c, {"room": room.id, "poll": poll.id, "ballot": {"ranking": ["water", "schools"]}})
    assert ack["changed"] is False and ack["receipt"]
    again = _vote(c, {"room": room.id, "poll": poll.id, "ballot": {"ranking": ["schools"]}})
    assert again["error"]["field"] == "receipt"
    changed = _vote(c, {"room": room.id, "poll": poll.id, "ballot": {"ranking": ["schools"]},
                        "receipt": ack["receipt"]})
    assert changed == {"poll": poll.id, "changed": True, "receipt": None}
    bad = _vote(c, {"room": room.id, "poll": poll.id, "ballot": {"ranking": ["mars"]}, "receipt": ack["receipt"]})
    assert bad["error"]["field"] == "ballot.ranking"
    assert _counts(db, poll.id) == (1, 1)
    # The ballot is never broadcast to the room.
    assert not [m for m in c.get_received(NAMESPACE) if "ballot" in str(m.get("args"))]


def test_room_vote_forbidden(db, users, room, sio):
    poll = make_poll(db.session, users["organizer"], users["panel"])
    fac = sio(users["facilitator"])  # facilitators join rooms but do not vote
    fac.emit("join", {"room": room.id, "last_seq": 0}, namespace=NAMESPACE, callback=True)
    ack = _vote(fac, {"room": room.id, "poll": poll.id, "ballot": {"ranking": ["water"]}})
    assert ack["error"]["code"] == "forbidden"
    outsider = sio(users["other_citizen"])
    ack = _vote(outsider, {"room": room.id, "poll": poll.id, "ballot": {"ranking": ["water"]}})
    assert "error" in ack  # not joined / not a member
    malformed = _vote(fac, "not an object")
    assert malformed["error"]["field"] == "payload"
    assert _counts(db, poll.id) == (0, 0)
