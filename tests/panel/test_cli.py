"""``flask --app wsgi …`` commands: tokens, seed-demo (idempotent, realistic)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from panel import demo, demo_deliberation
from panel.models import (
    AgendaItem,
    AuditEvent,
    Feature,
    FeatureValue,
    Message,
    Mission,
    Panel,
    PanelMember,
    Room,
    RoomMember,
    User,
    Volunteer,
)


def _out(result) -> str:
    return result.output + (getattr(result, "stderr", "") or "")


def test_tokens_create_prints_a_working_token(runner, client, users):
    result = runner.invoke(args=["tokens", "create", "--user", users["organizer"].email, "--name", "laptop"])
    assert result.exit_code == 0, _out(result)
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("pnyx_") and len(token) > 40
    r = client.get("/api/v1/panels", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert [p["title"] for p in r.get_json()["items"]] == ["Test panel"]


def test_tokens_create_unknown_email(runner, db, users):
    from panel.models import ApiToken

    result = runner.invoke(args=["tokens", "create", "--user", "ghost@test.example"])
    assert result.exit_code == 2
    assert "no user with email 'ghost@test.example'" in _out(result)
    assert db.session.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 0


def test_tokens_create_needs_user(runner):
    result = runner.invoke(args=["tokens", "create"])
    assert result.exit_code == 2
    assert "--user" in _out(result)


def _counts(db) -> dict[str, int]:
    db.session.rollback()
    return {m.__name__: db.session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (User, Mission, Panel, PanelMember, Volunteer, Feature, FeatureValue, Room, RoomMember,
                      AgendaItem, Message, AuditEvent)}


def test_seed_demo_is_idempotent_and_realistic(runner, db):
    first = runner.invoke(args=["seed-demo", "--no-print-links"])
    assert first.exit_code == 0, _out(first)
    counts = _counts(db)
    second = runner.invoke(args=["seed-demo", "--no-print-links"])
    assert second.exit_code == 0, _out(second)
    assert _counts(db) == counts

    panel = db.session.execute(select(Panel).where(Panel.slug == demo.DEMO_SLUG)).scalar_one()
    # One open plenary room with its agenda item and demo messages, not duplicated by the second run.
    (room,) = db.session.execute(select(Room).where(Room.panel_id == panel.id)).scalars().all()
    assert (room.kind, room.name, room.closed_at) == ("plenary", demo_deliberation.ROOM_NAME, None)
    items = db.session.execute(select(AgendaItem).where(AgendaItem.room_id == room.id)).scalars().all()
    assert [i.title for i in items] == [demo_deliberation.AGENDA_TITLE]
    msgs = db.session.execute(select(Message).where(Message.room_id == room.id).order_by(Message.seq)).scalars().all()
    assert [m.seq for m in msgs] == list(range(1, len(demo_deliberation.MESSAGES) + 1))
    assert [m.body for m in msgs] == [text for _who, _cid, text in demo_deliberation.MESSAGES]
    assert room.next_seq == len(msgs) + 1
    assert db.session.execute(select(func.count(AuditEvent.id)).where(AuditEvent.action == "room.created")
                              ).scalar_one() == 1
    # ...and it is what a demo citizen's dashboard offers to join.
    from panel.services import accounts, citizen_home

    (home,) = citizen_home.for_user(db.session, accounts.get_user_by_email(db.session, demo.CITIZENS[0]))
    assert [(r.room_id, r.state) for r in home.rooms] == [(room.id, "open")]
    assert panel.question == "How should the UN engage citizens in monitoring the SDGs?"
    assert counts["Volunteer"] == demo.POOL_SIZE == 600
    assert counts["Mission"] >= 3
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles["admin"] >= 1 and roles["organizer"] >= 1 and roles["facilitator"] >= 2
    assert roles["observer"] >= 1 and roles["mission"] >= 3
    features = {f.name: f for f in panel.features}
    assert set(features) == {"region", "gender", "age_band", "education", "urban_rural"}
    for name, feature in features.items():
        values = {v.value: v for v in feature.values}
        assert set(values) == set(demo.SHARES[name]), name
        assert abs(sum(v.share for v in values.values()) - 1) < 0.02, name
        # Quotas bracket the population share of the panel's seats.
        for v in values.values():
            assert 0 <= v.min_count <= v.share * panel.size + 1
            assert v.max_count >= v.share * panel.size - 1
    # Every volunteer has every feature, and every region of the UN appears in the pool.
    vols = db.session.execute(select(Volunteer.features).where(Volunteer.panel_id == panel.id)).scalars().all()
    assert all(set(f) == set(features) for f in vols)
    assert {f["region"] for f in vols} == set(demo.SHARES["region"])


def test_seed_demo_prints_working_links(runner, client, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, _out(result)
    out = result.output
    for staff in demo.STAFF:
        assert staff.email in out
    assert demo.DEMO_PASSWORD in out
    links = re.findall(r"(?:http://[^/\s]+)(/auth/link/[\w-]+)", out)
    assert len(links) >= 5  # two citizens and three mission desk officers
    page = client.get(links[0])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = client.post(links[0], data={"csrf_token": csrf})
    assert r.status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_staff_demo_password_signs_in(runner, client, auth, db):
    assert runner.invoke(args=["seed-demo", "--no-print-links"]).exit_code == 0
    assert auth.signin("facilitator1@pnyx.example", demo.DEMO_PASSWORD).status_code == 302
