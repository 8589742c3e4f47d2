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


def test_table_only_names_known_roles_and_scopes():
    for action, row in PERMISSIONS.items():
        assert row, action
        for role, scope in row.items():
            assert role in ROLES, (action, role)
            assert scope in ("any", "member"), (action, role, scope)


@pytest.mark.parametrize("action", list(PERMISSIONS))
def test_row_allowed_and_forbidden_cases(db, users, subtests, action):
    """For each role of the row: allowed; a non-member of that role forbidden (member scope); every
    role not in the row forbidden. One world per action keeps the table test fast."""
    panel = users["panel"]
    for role, scope in PERMISSIONS[action].items():
        with subtests.test(role=role, scope=scope, case="allowed"):
            user = users[role]
            assert can(db.session, user, action, panel.id)
            authorize(db.session, user, action, panel.id)  # does not raise
            # "any" needs no panel; "member" needs membership of *this* panel.
            assert can(db.session, user, action, None) is (scope == "any")
        if scope == "member":
            with subtests.test(role=role, scope=scope, case="non-member"):
                outsider = users[f"other_{role}"]
                assert not can(db.session, outsider, action, panel.id)
                with pytest.raises(PermissionDenied):
                    authorize(db.session, outsider, action, panel.id)
    for role in ROLES:
        if role in PERMISSIONS[action]:
            continue
        with subtests.test(role=role, case="role not in row"):
            assert not can(db.session, users[role], action, panel.id)
            with pytest.raises(PermissionDenied) as e:
                authorize(db.session, users[role], action, panel.id)
            assert e.value.status == 403


def test_inactive_users_have_no_rights(db, users, subtests):
    for role in ROLES:
        accounts.update_user(db.session, users[role], actor_id=None, active=False)
    for action, role, _scope in ROWS:
        with subtests.test(action=action, role=role):
            assert not can(db.session, users[role], action, users["panel"].id)
            with pytest.raises(PermissionDenied):
                authorize(db.session, users[role], action, users["panel"].id)


def test_every_row_has_both_cases():
    """The table is exercised completely: each row lists at least one role and leaves at least one out,
    except panel.list which every role has."""
    assert len(ROWS) >= 50 and len(MISSING) >= 50
    for action, row in PERMISSIONS.items():
        assert action == "panel.list" or set(row) != set(ROLES), action


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
