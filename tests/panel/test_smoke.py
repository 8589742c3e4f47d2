"""The app starts on a migrated database and every role reaches its dashboard."""

from __future__ import annotations

import pytest


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("role", ["admin", "organizer", "facilitator", "citizen", "mission", "observer"])
def test_every_role_reaches_dashboard(client, auth, users, role):
    r = auth.as_user(users[role])
    assert r.status_code == 302
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert users[role].name in page.get_data(as_text=True)
