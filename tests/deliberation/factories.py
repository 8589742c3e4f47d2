"""Factories for deliberation tests (through the real services)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from deliberation.rooms import create_room
from panel.models import PanelMember, Room, User, Volunteer
from panel.services import accounts


def make_plenary(session: Session, facilitator: User, panel_id: int, name: str = "Plenary") -> Room:
    return create_room(session, facilitator, panel_id, name=name)


def add_citizens(session: Session, panel_id: int, n: int, *, seed: int = 1) -> list[User]:
    """``n`` citizen members with region/gender/age features (deterministic)."""
    import random

    rng = random.Random(seed)
    out = []
    for i in range(n):
        user = accounts.create_user(session, email=f"c{seed}-{i}@test.example", name=f"Citizen {i}",
                                    role="citizen", commit=False)
        vol = Volunteer(panel_id=panel_id, external_id=f"v{seed}-{i}", name=user.name, status="accepted",
                        features={"region": rng.choice(["Africa", "Asia", "Europe", "Americas"]),
                                  "gender": rng.choice(["female", "male"]),
                                  "age_band": rng.choice(["18-29", "30-44", "45-59", "60+"])}, user_id=None)
        session.add(vol)
        session.flush()
        session.add(PanelMember(panel_id=panel_id, user_id=user.id, role="citizen", status="active",
                                volunteer_id=vol.id))
        out.append(user)
    session.commit()
    return out


def received(client: Any, name: str, namespace: str = "/rooms") -> list[Any]:
    # flask_socketio's test client passes the payload of the event named "message" unwrapped.
    return [e["args"][0] if isinstance(e["args"], list) else e["args"]
            for e in client.get_received(namespace) if e["name"] == name]
