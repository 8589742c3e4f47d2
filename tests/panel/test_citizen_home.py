"""The citizen dashboard: own panels' rooms, polls and published recommendations — and nothing else."""

from __future__ import annotations

from datetime import timedelta

from deliberation.rooms import create_room
from panel.models import DeliberationSession, Room, RoomMember
from panel.models.base import utcnow
from panel.services import ballots, citizen_home, panels, recommendations
from tests.helpers import make_panel
from tests.panel import followup_helpers
from tests.panel.decision_helpers import make_poll


def _other_panel(db, users):
    """A second panel with its own room, open poll and published recommendation."""
    other = make_panel(db.session, users["other_organizer"], title="Other panel")
    panels.add_member(db.session, None, other.id, users["other_facilitator"], "facilitator")
    panels.add_member(db.session, None, other.id, users["other_citizen"], "citizen")
    room = create_room(db.session, users["other_facilitator"], other.id, name="Other plenary")
    poll = make_poll(db.session, users["other_organizer"], other, title="Other poll")
    rec = recommendations.create(db.session, users["other_facilitator"], other.id, title="Other recommendation",
                                 text="Something else entirely.")
    recommendations.publish(db.session, users["other_facilitator"], rec.id)
    return other, room, poll, rec


def _own_panel(db, users):
    panel = users["panel"]
    room = create_room(db.session, users["facilitator"], panel.id, name="Plenary on water")
    later = create_room(db.session, users["facilitator"], panel.id, name="Tomorrow's plenary")
    ds = db.session.get(DeliberationSession, later.session_id)
    ds.starts_at = utcnow() + timedelta(days=1)
    closed = create_room(db.session, users["facilitator"], panel.id, name="Closed plenary")
    closed.closed_at = utcnow()
    # Two breakouts: the citizen is assigned to group A only.
    group_a = Room(panel_id=panel.id, parent_id=room.id, kind="breakout", name="Group A", round=1)
    db.session.add_all([group_a, Room(panel_id=panel.id, parent_id=room.id, kind="breakout", name="Group B", round=1)])
    db.session.flush()
    db.session.add(RoomMember(room_id=group_a.id, user_id=users["citizen"].id))
    db.session.commit()
    voted = make_poll(db.session, users["organizer"], panel, title="Which priority first?",
                      secret=True, closes_at=utcnow() + timedelta(days=2))
    todo = make_poll(db.session, users["organizer"], panel, title="Adopt the water proposal?", ballot_type="yesno",
                     method="plurality", candidates=[])
    draft = make_poll(db.session, users["organizer"], panel, title="Draft poll", open_it=False)
    ballots.cast(db.session, users["citizen"], voted.id, {"ranking": ["clinics", "water", "schools"]})
    rec = followup_helpers.published(db.session, users)
    return room, later, voted, todo, draft, rec


def test_service_lists_own_items_only(db, users):
    other, other_room, other_poll, other_rec = _other_panel(db, users)
    room, later, voted, todo, draft, rec = _own_panel(db, users)
    homes = citizen_home.for_user(db.session, users["citizen"])
    assert [h.panel.id for h in homes] == [users["panel"].id]
    home = homes[0]
    assert [(r.name, r.kind, r.state) for r in home.rooms] == [
        ("Plenary on water", "plenary", "open"), ("Group A", "breakout", "open"),
        ("Tomorrow's plenary", "plenary", "upcoming")]
    assert {p.poll_id: p.voted for p in home.polls} == {voted.id: True, todo.id: False}
    assert [r.recommendation_id for r in home.recommendations] == [rec.id]
    # The outsider citizen sees only their own panel.
    (theirs,) = citizen_home.for_user(db.session, users["other_citizen"])
    assert theirs.panel.id == other.id
    assert [r.room_id for r in theirs.rooms] == [other_room.id]
    assert [(p.poll_id, p.voted) for p in theirs.polls] == [(other_poll.id, False)]
    assert [r.recommendation_id for r in theirs.recommendations] == [other_rec.id]


def test_dashboard_page_shows_own_panels_items(client, auth, db, users):
    other, other_room, other_poll, other_rec = _other_panel(db, users)
    room, later, voted, todo, draft, rec = _own_panel(db, users)
    auth.as_user(users["citizen"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert f'href="/rooms/{room.id}"' in html and f'href="/rooms/{room.id}/text"' in html
    assert "Tomorrow&#39;s plenary" in html and "upcoming" in html
    assert "Group A" in html and "your group" in html
    assert "Closed plenary" not in html and "Group B" not in html
    assert f'href="/polls/{todo.id}"' in html and f'href="/polls/{voted.id}"' in html
    assert "you have voted" in html and "not voted yet" in html
    assert "Draft poll" not in html
    assert f'href="/recommendations/{rec.id}"' in html
    # Never another panel's items, and never the content of the ballot.
    assert "Other panel" not in html and "Other plenary" not in html and "Other poll" not in html
    assert "Other recommendation" not in html and f'href="/rooms/{other_room.id}"' not in html
    assert "clinics" not in html


def test_dashboard_empty_states_say_what_happens_next(client, auth, users):
    auth.as_user(users["citizen"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Test panel" in html
    assert "No session is open right now" in html and "it will appear here with a link to join" in html
    assert "No vote is open" in html and "the poll appears here until it closes" in html
    assert "Nothing published yet" in html


def test_citizen_of_no_panel_sees_the_waiting_message(client, auth, users):
    auth.as_user(users["other_citizen"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "When you are added to a panel it will appear here." in html
    assert "Test panel" not in html
