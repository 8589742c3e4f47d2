"""get_or_404: the one place that turns a missing primary key into the service-level 404."""

from __future__ import annotations

import pytest

from panel.errors import NotFound
from panel.models import OutboxMessage, Panel
from panel.services import jobs, lottery, notifications, panels, polls, proposals, recommendations
from panel.services.lookup import get_or_404
from tests.helpers import make_user


def test_found_returns_the_row(db):
    organizer = make_user(db.session, "organizer")
    panel = panels.create_panel(db.session, organizer, title="P", question="Q?", size=5)
    assert get_or_404(db.session, Panel, panel.id, field="panel_id", label="panel") is panel


@pytest.mark.parametrize("getter, field, message", [
    (panels.get_panel, "panel_id", "No panel with id 987654."),
    (polls.get_poll, "poll_id", "No poll with id 987654."),
    (proposals.get_proposal, "proposal_id", "No proposal with id 987654."),
    (recommendations.get, "recommendation_id", "No recommendation with id 987654."),
    (lottery.get_lottery, "lottery_id", "No lottery with id 987654."),
    (jobs.get_job, "job_id", "No job with id 987654."),
])
def test_missing_keeps_message_field_and_status(db, getter, field, message):
    with pytest.raises(NotFound) as e:
        getter(db.session, 987654)
    assert (e.value.message, e.value.field, e.value.status, e.value.code) == (message, field, 404, "not_found")


def test_custom_message(db):
    admin = make_user(db.session, "admin")
    with pytest.raises(NotFound) as e:
        notifications.retry_now(db.session, admin, 42)
    assert (e.value.message, e.value.field) == ("No outbox message 42.", "id")
    with pytest.raises(NotFound) as e:
        get_or_404(db.session, OutboxMessage, 42, field="id", label="outbox message")
    assert e.value.message == "No outbox message with id 42."
