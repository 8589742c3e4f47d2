"""Demo content for the Decide step: a proposal with an amendment and an open ranked poll on it,
so a demo citizen can vote (and change a secret ballot with its receipt) right away."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import Panel, User
from .services import polls, proposals

TEXT = ("Each member state publishes, every year, open and verifiable data on the SDG indicators it reports, "
        "and a standing citizens' panel reviews that data and publishes its findings.")
AMENDED = TEXT.replace("every year", "every two years") + " The review covers water and sanitation first."


def seed_decisions(session: Session, panel: Panel, organizer: User) -> None:
    """Runs once, inside the demo seed of a new demo panel (through the real services, audited)."""
    base = proposals.create_proposal(session, organizer, panel.id, title="Yearly open SDG data reviewed by citizens",
                                     body=TEXT)
    proposals.set_status(session, organizer, base.id, "open")
    amendment = proposals.create_proposal(session, organizer, panel.id,
                                          title="Every two years with water and sanitation first", body=AMENDED,
                                          parent_id=base.id)
    poll = polls.create_poll(session, organizer, panel.id, title="Which version should the panel recommend?",
                             ballot_type="ranked", method="schulze", proposal_id=base.id, secret=True,
                             candidates=[base.title, amendment.title, "Neither: keep current reporting"])
    polls.open_poll(session, organizer, poll.id)
