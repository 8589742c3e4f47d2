"""Demo content for the Deliberate step: one open plenary room with an agenda item and a few messages,
so a demo citizen's dashboard has a room to join and the room is not empty. The agenda item is left
pending: starting it (and its countdown) from the facilitator console is part of the demo.

Everything goes through the services the app uses (room creation is audited, messages get their
per-room ``seq``, the agenda item gets its server-side deadline). ``seed-demo`` runs on every
``make run``, so each step looks for what an earlier run made before making it: the room by name,
the agenda item by title, each message by its fixed ``client_id`` (a resend is never stored twice).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AgendaItem, Panel, Room, User

ROOM_NAME = "Plenary: opening session"
AGENDA_TITLE = "Welcome and introductions: what does SDG monitoring mean where you live?"
AGENDA_SECONDS = 45 * 60
# (who, client_id, text): who is "facilitator" or the index of a demo citizen.
MESSAGES: list[tuple[str | int, str, str]] = [
    ("facilitator", "demo-welcome",
     "Welcome, everyone. Please say who you are, where you join from, and one thing you would like the "
     "UN to measure better. Raise your hand if you want to speak aloud."),
    (0, "demo-intro-1",
     "Hello from a small town. Our water point was marked 'improved' in a report, but it is dry half the year."),
    (1, "demo-intro-2",
     "Hi all. I would like to know who checks the numbers my government sends to New York, and how."),
    ("facilitator", "demo-next",
     "Thank you. Keep these examples in mind: in the next part we will look at the proposal on open SDG data."),
]


def seed_deliberation(session: Session, panel: Panel, facilitator: User, citizens: list[User]) -> Room:
    """The demo plenary, created on the first run and left as it is on later ones."""
    from deliberation import agenda, messages
    from deliberation.rooms import access, create_room, ensure_member

    room = session.execute(select(Room).where(Room.panel_id == panel.id, Room.kind == "plenary",
                                              Room.name == ROOM_NAME)).scalar_one_or_none()
    if room is None:
        room = create_room(session, facilitator, panel.id, name=ROOM_NAME, turn_limit_s=120,
                           session_title="Opening session")
    has_item = session.execute(select(AgendaItem.id).where(AgendaItem.room_id == room.id,
                                                           AgendaItem.title == AGENDA_TITLE)).first()
    if has_item is None:
        agenda.add_item(session, room, AGENDA_TITLE, AGENDA_SECONDS)
    for who, client_id, text in MESSAGES:
        if who != "facilitator" and int(who) >= len(citizens):
            continue
        author = facilitator if who == "facilitator" else citizens[int(who)]
        if not access(session, author, room).can_post:  # the same check the room applies
            continue
        ensure_member(session, room, author)
        messages.post(session, author, room, text, client_id)
    session.commit()
    return room
