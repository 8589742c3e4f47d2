"""Proposals keep every version; amendments hang under their proposal; status moves are checked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from panel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from panel.models import AuditEvent
from panel.services import proposals
from tests import helpers


def test_create_revise_and_view(db, users):
    panel = users["panel"]
    p = proposals.create_proposal(db.session, users["citizen"], panel.id, title=" Clean water ", body="Wells first.")
    assert p.title == "Clean water" and p.status == "draft" and p.current_version == 1
    proposals.revise(db.session, users["citizen"], p.id, body="Wells and pipes.")
    proposals.revise(db.session, users["organizer"], p.id, body="Wells and pipes.", title="Water for all")
    view = proposals.view(db.session, users["facilitator"], p.id)
    assert [v.version for v in view.versions] == [1, 2, 3]
    assert view.versions[0].body == "Wells first." and view.current.body == "Wells and pipes."
    assert view.proposal.title == "Water for all"
    with pytest.raises(ValidationFailed) as e:
        proposals.revise(db.session, users["citizen"], p.id, body="Wells and pipes.")
    assert e.value.field == "body"


def test_amendments(db, users):
    panel = users["panel"]
    p = proposals.create_proposal(db.session, users["organizer"], panel.id, title="Water", body="Wells.")
    a = proposals.create_proposal(db.session, users["citizen"], panel.id, title="Water + rain", body="Wells, tanks.",
                                  parent_id=p.id)
    assert a.parent_id == p.id and a.status == "open"
    view = proposals.view(db.session, users["citizen"], p.id)
    assert [x.id for x in view.amendments] == [a.id]
    assert proposals.view(db.session, users["citizen"], a.id).parent.id == p.id
    assert [x.id for x in proposals.list_proposals(db.session, users["citizen"], panel.id)] == [p.id, a.id]
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.subject_type == "proposal")).scalars()
    assert list(actions) == ["proposal.created", "proposal.amended"]


def test_amending_elsewhere_or_withdrawn_fails(db, users):
    other_panel = helpers.make_panel(db.session, users["other_organizer"], title="Other")
    foreign = proposals.create_proposal(db.session, users["other_organizer"], other_panel.id, title="X", body="Y")
    with pytest.raises(ValidationFailed) as e:
        proposals.create_proposal(db.session, users["citizen"], users["panel"].id, title="A", body="B",
                                  parent_id=foreign.id)
    assert e.value.field == "parent_id"
    p = proposals.create_proposal(db.session, users["citizen"], users["panel"].id, title="A", body="B")
    proposals.set_status(db.session, users["citizen"], p.id, "withdrawn")
    with pytest.raises(Conflict):
        proposals.create_proposal(db.session, users["citizen"], users["panel"].id, title="C", body="D", parent_id=p.id)
    with pytest.raises(Conflict):
        proposals.revise(db.session, users["citizen"], p.id, body="new")


@pytest.mark.parametrize("title,body,field", [("", "x", "title"), ("x" * 201, "x", "title"), ("x", " ", "body"),
                                              (None, "x", "title"), ("x", 5, "body")])
def test_bad_text(db, users, title, body, field):
    with pytest.raises(ValidationFailed) as e:
        proposals.create_proposal(db.session, users["citizen"], users["panel"].id, title=title, body=body)
    assert e.value.field == field


def test_status_moves(db, users):
    p = proposals.create_proposal(db.session, users["citizen"], users["panel"].id, title="A", body="B")
    with pytest.raises(PermissionDenied):
        proposals.set_status(db.session, users["citizen"], p.id, "adopted")
    proposals.set_status(db.session, users["facilitator"], p.id, "open")
    proposals.set_status(db.session, users["organizer"], p.id, "adopted")
    assert p.status == "adopted"
    with pytest.raises(Conflict):
        proposals.set_status(db.session, users["organizer"], p.id, "withdrawn")
    with pytest.raises(ValidationFailed):
        proposals.set_status(db.session, users["organizer"], p.id, "burned")


@pytest.mark.parametrize("who", ["other_citizen", "observer", "mission", "other_organizer"])
def test_outsiders_cannot_propose(db, users, who):
    with pytest.raises(PermissionDenied):
        proposals.create_proposal(db.session, users[who], users["panel"].id, title="A", body="B")


def test_others_cannot_revise(db, users):
    p = proposals.create_proposal(db.session, users["organizer"], users["panel"].id, title="A", body="B")
    with pytest.raises(PermissionDenied):
        proposals.revise(db.session, users["citizen"], p.id, body="mine now")
    with pytest.raises(NotFound):
        proposals.view(db.session, users["citizen"], 999)
