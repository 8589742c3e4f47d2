"""Adding staff to a panel from the panel page (member.manage)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from panel.models import AuditEvent, PanelMember
from tests.helpers import csrf_token


def _add(client, panel_id, email, role):
    token = csrf_token(client, f"/panels/{panel_id}")
    return client.post(f"/panels/{panel_id}/members", data={"email": email, "role": role, "csrf_token": token})


def _count(db):
    return db.session.execute(select(func.count(PanelMember.id))).scalar_one()


def test_organizer_adds_a_facilitator(client, auth, users, db):
    auth.as_user(users["organizer"])
    r = _add(client, users["panel"].id, users["other_facilitator"].email, "facilitator")
    assert r.status_code == 302
    row = db.session.execute(select(PanelMember).where(
        PanelMember.panel_id == users["panel"].id, PanelMember.user_id == users["other_facilitator"].id)
    ).scalar_one()
    assert row.role == "facilitator"
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "panel.member_added",
                                                       AuditEvent.subject_id == str(row.user_id))).first()
    page = client.get(f"/panels/{users['panel'].id}").get_data(as_text=True)
    assert "joined the panel as facilitator" in page


@pytest.mark.parametrize("role", ["other_organizer", "citizen", "facilitator", "observer"])
def test_forbidden_without_member_manage(client, auth, users, db, role):
    auth.as_user(users[role])
    before = _count(db)
    r = client.post(f"/panels/{users['panel'].id}/members",
                    data={"email": users["other_facilitator"].email, "role": "facilitator",
                          "csrf_token": csrf_token(client, "/dashboard")})
    assert r.status_code == 403
    assert _count(db) == before


def test_bad_inputs_name_the_problem_and_write_nothing(client, auth, users, db):
    auth.as_user(users["organizer"])
    pid = users["panel"].id
    before = _count(db)
    cases = [
        ("nobody@test.example", "facilitator", "No user with this email"),
        (users["other_facilitator"].email, "citizen", "Choose organizer, facilitator or observer"),
        (users["other_citizen"].email, "facilitator", "cannot join as facilitator"),
        (users["facilitator"].email, "facilitator", "already a member"),
    ]
    for email, role, message in cases:
        r = _add(client, pid, email, role)
        assert r.status_code in (302, 303)
        assert message in client.get(f"/panels/{pid}").get_data(as_text=True), message
    assert _count(db) == before


def test_missing_csrf_is_refused(client, auth, users, db):
    auth.as_user(users["organizer"])
    before = _count(db)
    r = client.post(f"/panels/{users['panel'].id}/members",
                    data={"email": users["other_facilitator"].email, "role": "facilitator"})
    assert r.status_code == 400
    assert _count(db) == before
