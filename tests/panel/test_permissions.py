"""The permission table, row by row: every (action, role, scope) has an allowed and a forbidden case."""

from __future__ import annotations

import pytest

from panel.errors import PermissionDenied
from panel.models import ROLES, PanelMember
from panel.services import accounts
from panel.services.permissions import PERMISSIONS, authorize, can

ROWS = [(action, role, scope) for action, row in PERMISSIONS.items() for role, scope in row.items()]
# Roles a row does not mention: one forbidden case each.
MISSING = [(action, role) for action, row in PERMISSIONS.items() for role in ROLES if role not in row]


def _ids(rows):
    return [":".join(r) for r in rows]


def test_table_only_names_known_roles_and_scopes():
    for action, row in PERMISSIONS.items():
        assert row, action
        for role, scope in row.items():
            assert role in ROLES, (action, role)
            assert scope in ("any", "member"), (action, role, scope)


@pytest.mark.parametrize(("action", "role", "scope"), ROWS, ids=_ids(ROWS))
def test_row_allows_the_role(db, users, action, role, scope):
    user, panel = users[role], users["panel"]
    assert can(db.session, user, action, panel.id)
    authorize(db.session, user, action, panel.id)  # does not raise
    if scope == "any":
        assert can(db.session, user, action, None)


@pytest.mark.parametrize(("action", "role", "scope"), ROWS, ids=_ids(ROWS))
def test_row_forbids_outsiders_and_inactive(db, users, action, role, scope):
    panel = users["panel"]
    if scope == "member":
        outsider = users[f"other_{role}"]
        assert not can(db.session, outsider, action, panel.id)
        with pytest.raises(PermissionDenied):
            authorize(db.session, outsider, action, panel.id)
        # Membership is needed for *this* panel: no panel id means no right.
        assert not can(db.session, users[role], action, None)
    user = users[role]
    accounts.update_user(db.session, user, actor_id=None, active=False)
    assert not can(db.session, user, action, panel.id)
    with pytest.raises(PermissionDenied):
        authorize(db.session, user, action, panel.id)


@pytest.mark.parametrize(("action", "role"), MISSING, ids=_ids(MISSING))
def test_roles_not_in_row_are_forbidden(db, users, action, role):
    user = users[role]
    assert not can(db.session, user, action, users["panel"].id)
    with pytest.raises(PermissionDenied) as e:
        authorize(db.session, user, action, users["panel"].id)
    assert e.value.status == 403


@pytest.mark.parametrize("status", ["invited", "declined", "replaced"])
def test_membership_without_rights_is_not_enough(db, users, status):
    member = db.session.query(PanelMember).filter_by(user_id=users["citizen"].id).one()
    member.status = status
    db.session.commit()
    assert not can(db.session, users["citizen"], "room.join", users["panel"].id)


def test_anonymous_and_unknown_action(db, users):
    from flask_login import AnonymousUserMixin

    assert not can(db.session, None, "panel.list")
    assert not can(db.session, AnonymousUserMixin(), "panel.list")
    with pytest.raises(KeyError):
        can(db.session, users["admin"], "no.such.action")
