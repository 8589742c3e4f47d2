"""Factories and small test utilities (no mocks: everything goes through real services)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from panel.models import Mission, Panel, User
from panel.services import accounts, panels

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(session: Session, role: str, email: str | None = None, *, mission: Mission | None = None,
              name: str | None = None) -> User:
    email = email or f"{role}{accounts.count_users(session) + 1}@test.example"
    password = None if role in ("citizen", "mission") else PASSWORD
    if role == "mission" and mission is None:
        mission = make_mission(session)
    return accounts.create_user(session, email=email, name=name or role.title(), role=role, password=password,
                                mission_id=mission.id if mission else None)


def make_mission(session: Session, code: str = "KEN", name: str = "Mission of Kenya",
                 region: str = "Africa") -> Mission:
    m = Mission(country_code=code, name=name, region=region)
    session.add(m)
    session.commit()
    return m


def make_panel(session: Session, organizer: User, title: str = "Test panel", size: int = 10) -> Panel:
    return panels.create_panel(session, organizer, title=title, question="What should we do?", size=size)


def make_world(session: Session) -> dict[str, Any]:
    """A user per role and one panel with organizer, facilitator and citizen as members."""
    world: dict[str, Any] = {role: make_user(session, role) for role in
                             ("admin", "organizer", "facilitator", "citizen", "mission", "observer")}
    panel = make_panel(session, world["organizer"])
    panels.add_member(session, None, panel.id, world["facilitator"], "facilitator")
    panels.add_member(session, None, panel.id, world["citizen"], "citizen")
    world["panel"] = panel
    # An outsider of each member-scoped role, belonging to no panel.
    world["other_organizer"] = make_user(session, "organizer")
    world["other_facilitator"] = make_user(session, "facilitator")
    world["other_citizen"] = make_user(session, "citizen")
    return world


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table: compare before/after a rejected request to prove nothing was written."""
    from sqlalchemy import func, select

    from panel.extensions import db

    session.rollback()
    return {t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
            for t in db.metadata.sorted_tables}


def csrf_token(client: FlaskClient, path: str = "/auth/signin") -> str:
    html = client.get(path).get_data(as_text=True)
    m = CSRF_RE.search(html)
    assert m, f"no csrf token on {path}"
    return m.group(1)


class Auth:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def signin(self, email: str, password: str = PASSWORD) -> Any:
        token = csrf_token(self.client)
        return self.client.post("/auth/signin", data={"email": email, "password": password, "csrf_token": token})

    def as_user(self, user: User) -> Any:
        """Sign in however the role signs in: password for staff, magic link otherwise."""
        if user.role in ("citizen", "mission"):
            from panel.extensions import db

            token = accounts.issue_magic_link(db.session, user)
            csrf = csrf_token(self.client, f"/auth/link/{token}")
            return self.client.post(f"/auth/link/{token}", data={"csrf_token": csrf})
        return self.signin(user.email)

    def signout(self) -> Any:
        token = csrf_token(self.client, "/dashboard")
        return self.client.post("/auth/signout", data={"csrf_token": token})


def wait_until(cond: Callable[[], Any], timeout: float = 20.0, step: float = 0.05) -> bool:
    """Poll ``cond`` every ``step`` seconds until it is true or ``timeout`` passes; its last verdict."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())
