"""Inviting the selected, the citizen's invitation page (accept/decline, language, time zone), and the
replacement draw a decline triggers."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from panel.models import (
    AuditEvent,
    Invitation,
    Lottery,
    MagicLink,
    OutboxMessage,
    PanelMember,
    User,
    Volunteer,
)
from panel.services import jobs, lottery
from tests.helpers import csrf_token
from tests.panel.lottery_fixtures import CATEGORIES, drawn, people_csv, post, upload

LINK_RE = re.compile(r"/invitation/([A-Za-z0-9_\-]+)")


@pytest.fixture
def published(db, client, auth, users):
    auth.as_user(users["organizer"])
    assert upload(client, users["panel"].id).status_code == 302
    lot = drawn(client, db, users["panel"].id)
    return users, lot


def _invite(client, panel_id):
    return post(client, f"/panels/{panel_id}/invitations")


def _token_for(db, volunteer):
    msg = db.session.execute(select(OutboxMessage).where(OutboxMessage.to_address == volunteer.email)
                             .order_by(OutboxMessage.id.desc())).scalars().first()
    return LINK_RE.search(msg.body).group(1)


def _answer(client, token, **data):
    csrf = csrf_token(client, f"/invitation/{token}")
    return client.post(f"/invitation/{token}", data={"csrf_token": csrf, **data})


def test_invite_selected_creates_accounts_links_and_mail(db, client, published):
    users, lot = published
    panel = users["panel"]
    resp = _invite(client, panel.id)
    assert resp.status_code == 302
    invs = db.session.execute(select(Invitation).where(Invitation.panel_id == panel.id)).scalars().all()
    assert len(invs) == panel.size == len(lot.selected)
    for inv in invs:
        vol = db.session.get(Volunteer, inv.volunteer_id)
        user = db.session.get(User, inv.user_id)
        assert lottery.pool_id(lot, vol.external_id) in lot.selected
        assert vol.status == "invited" and inv.status == "pending"
        assert user.role == "citizen" and user.email == vol.email and user.password_hash is None
        member = db.session.execute(select(PanelMember).where(PanelMember.user_id == user.id)).scalar_one()
        assert (member.status, member.role, member.volunteer_id) == ("invited", "citizen", vol.id)
    mails = db.session.execute(select(OutboxMessage)).scalars().all()
    assert len(mails) == panel.size and all(m.status == "pending" and LINK_RE.search(m.body) for m in mails)
    links = db.session.execute(select(func.count(MagicLink.id)).where(MagicLink.purpose == "invitation")).scalar_one()
    assert links == panel.size
    sent = db.session.execute(select(func.count(AuditEvent.id)).where(AuditEvent.action == "invitation.sent"))
    assert sent.scalar_one() == panel.size
    # Pressing again invites nobody twice.
    assert _invite(client, panel.id).status_code == 303
    assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == panel.size


def test_invite_needs_a_published_lottery(db, client, auth, users):
    auth.as_user(users["organizer"])
    upload(client, users["panel"].id)
    drawn(client, db, users["panel"].id, publish=False)
    assert _invite(client, users["panel"].id).status_code == 303
    assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 0


def test_invite_names_volunteers_without_email(db, client, auth, users):
    auth.as_user(users["organizer"])
    text = people_csv(30).replace("@example.org", "@example.org", 1)
    lines = text.strip().split("\n")
    lines = [lines[0]] + [",".join(line.split(",")[:2] + [""] + line.split(",")[3:]) for line in lines[1:]]
    assert upload(client, users["panel"].id, people="\n".join(lines) + "\n").status_code == 302
    drawn(client, db, users["panel"].id)
    resp = _invite(client, users["panel"].id)
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "have no email address" in page
    assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 0
    assert db.session.execute(select(func.count(OutboxMessage.id))).scalar_one() == 0


@pytest.mark.parametrize("role", ["other_organizer", "observer", "facilitator", "citizen"])
def test_invite_forbidden(db, client, auth, published, role):
    users, _ = published
    auth.signout()
    auth.as_user(users[role])
    assert _invite(client, users["panel"].id).status_code == 403
    assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 0


def test_citizen_accepts_with_language_and_time_zone(db, client, auth, published):
    users, lot = published
    _invite(client, users["panel"].id)
    auth.signout()
    vol = db.session.execute(select(Volunteer).where(Volunteer.status == "invited")).scalars().first()
    token = _token_for(db, vol)
    page = client.get(f"/invitation/{token}").get_data(as_text=True)
    assert "You have been selected" in page and 'name="timezone"' in page and "invitation.js" in page
    assert " style=" not in page and "<script>" not in page
    resp = _answer(client, token, answer="accept", locale="en", timezone="Africa/Nairobi")
    assert resp.status_code == 302
    db.session.expire_all()
    inv = db.session.execute(select(Invitation).where(Invitation.volunteer_id == vol.id)).scalar_one()
    user = db.session.get(User, inv.user_id)
    assert inv.status == "accepted" and inv.responded_at is not None and vol.status == "accepted"
    assert (user.locale, user.timezone) == ("en", "Africa/Nairobi")
    assert db.session.execute(select(PanelMember.status).where(PanelMember.user_id == user.id)).scalar_one() == "accepted"
    assert client.get("/dashboard").status_code == 200  # signed in by accepting
    assert "invitation.accepted" in [a for (a,) in db.session.execute(select(AuditEvent.action))]
    # The link is spent: a second answer is refused and changes nothing.
    assert _answer(client, token, answer="decline").status_code == 409
    assert db.session.execute(select(func.count(Lottery.id))).scalar_one() == 1


@pytest.mark.parametrize("data,field", [({"answer": "accept", "locale": "en", "timezone": "Mars/Olympus"}, "time zone"),
                                        ({"answer": "accept", "locale": "xx", "timezone": "UTC"}, "languages"),
                                        ({"answer": "maybe"}, "accept or decline")])
def test_bad_answers_are_rejected(db, client, auth, published, data, field):
    users, _ = published
    _invite(client, users["panel"].id)
    auth.signout()
    vol = db.session.execute(select(Volunteer).where(Volunteer.status == "invited")).scalars().first()
    resp = _answer(client, _token_for(db, vol), **data)
    assert resp.status_code == 422 and field in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Volunteer, vol.id).status == "invited"


def test_unknown_link_is_a_clear_error(client):
    resp = client.get("/invitation/not-a-real-token")
    assert resp.status_code == 401 and "not valid" in resp.get_data(as_text=True)


def test_decline_draws_a_replacement_that_keeps_quotas(db, client, auth, published, tmp_path):
    users, lot = published
    panel = users["panel"]
    _invite(client, panel.id)
    auth.signout()
    vol = db.session.execute(select(Volunteer).where(Volunteer.status == "invited")
                             .order_by(Volunteer.external_id)).scalars().first()
    resp = _answer(client, _token_for(db, vol), answer="decline")
    assert resp.status_code == 302
    rep = db.session.execute(select(Lottery).where(Lottery.kind == "replacement")).scalar_one()
    assert rep.parent_id == lot.id and rep.seed == f"{lot.seed}/replacement-1" and rep.status == "running"
    assert jobs.run_pending(db.session) == 1
    db.session.expire_all()
    rep = db.session.get(Lottery, rep.id)
    assert rep.status == "published", rep.error
    drawn_ids = rep.transcript["drawn"]
    assert len(drawn_ids) == 1 and drawn_ids[0] not in lot.selected
    assert db.session.get(Volunteer, vol.id).status == "replaced"
    newcomer = lottery.volunteers_by_pool_id(db.session, lot)[drawn_ids[0]]
    assert newcomer.status == "invited"  # invited automatically
    seated = db.session.execute(select(Volunteer).where(Volunteer.panel_id == panel.id,
                                                        Volunteer.status.in_(("invited", "accepted")))).scalars().all()
    assert len(seated) == panel.size
    counts = Counter((f, v) for s in seated for f, v in s.features.items())
    for line in CATEGORIES.strip().split("\n")[1:]:
        f, v, lo, hi = line.split(",")
        assert int(lo) <= counts[(f, v)] <= int(hi), (f, v, counts[(f, v)])
    actions = [a for (a,) in db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id))]
    assert actions.index("invitation.declined") < actions.index("lottery.replacement_requested") \
        < actions.index("lottery.replacement_drawn")
    page = client.get(f"/lottery/{lot.id}").get_data(as_text=True)
    assert rep.seed in page and drawn_ids[0] in page and lottery.pool_id(lot, vol.external_id) in page
    assert vol.external_id not in page  # the pool id as uploaded is never published
    rep_page = client.get(f"/lottery/{rep.id}").get_data(as_text=True)
    assert "This replacement draw" in rep_page and drawn_ids[0] in rep_page
    # The replacement replays from its own published files like any lottery.
    from tests.panel.test_lottery import _verify_cli
    result = _verify_cli(client, tmp_path, rep.id)
    assert result.returncode == 0, result.stderr


def test_second_decline_draws_again_from_the_rest(db, client, auth, published):
    users, lot = published
    panel = users["panel"]
    _invite(client, panel.id)
    auth.signout()
    invited = db.session.execute(select(Volunteer).where(Volunteer.status == "invited")
                                 .order_by(Volunteer.external_id)).scalars().all()
    first, second = invited[0], invited[1]
    # Both decline before any worker runs: the first draw fills both seats, the second finds none open.
    assert _answer(client, _token_for(db, first), answer="decline").status_code == 302
    assert _answer(client, _token_for(db, second), answer="decline").status_code == 302
    assert jobs.run_pending(db.session) == 2
    db.session.expire_all()
    reps = db.session.execute(select(Lottery).where(Lottery.kind == "replacement").order_by(Lottery.id)).scalars().all()
    assert [r.seed for r in reps] == [f"{lot.seed}/replacement-1", f"{lot.seed}/replacement-2"]
    assert len(reps[0].transcript["drawn"]) == 2 and reps[1].transcript["drawn"] == []
    assert {r.status for r in reps} == {"published"}
    seated = db.session.execute(select(func.count(Volunteer.id)).where(
        Volunteer.panel_id == panel.id, Volunteer.status.in_(("invited", "accepted")))).scalar_one()
    assert seated == panel.size
    # A newcomer who then declines is replaced too, never by someone already replaced.
    newcomer = lottery.volunteers_by_pool_id(db.session, lot)[reps[0].transcript["drawn"][0]]
    assert _answer(client, _token_for(db, newcomer), answer="decline").status_code == 302
    jobs.run_pending(db.session)
    db.session.expire_all()
    third = db.session.execute(select(Lottery).where(Lottery.kind == "replacement").order_by(Lottery.id.desc())
                               ).scalars().first()
    assert third.status == "published", third.error
    first_id, second_id, newcomer_id = (lottery.pool_id(lot, v.external_id) for v in (first, second, newcomer))
    assert not set(third.transcript["drawn"]) & {first_id, second_id, newcomer_id}
    assert set(third.transcript["excluded"]) >= {first_id, second_id}
