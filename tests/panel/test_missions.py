"""The 193 member states' missions: data file, idempotent seed (CLI and demo), invitations by link."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from sqlalchemy import func, select

from panel.errors import ValidationFailed
from panel.models import MagicLink, Mission, OutboxMessage, User
from panel.services import missions
from tests import helpers


def test_data_file_has_193_member_states():
    rows = list(csv.DictReader(missions.DATA_FILE.open(encoding="utf-8")))
    assert len(rows) == 193
    assert len({r["iso3"] for r in rows}) == 193
    assert all(len(r["iso3"]) == 3 and r["iso3"].isupper() for r in rows)
    groups = Counter(r["un_regional_group"] for r in rows)
    assert set(groups) == set(missions.UN_REGIONAL_GROUPS)
    # 54 African, 53 Asia-Pacific + Kiribati, 23 Eastern European, 33 GRULAC, 28 WEOG + United States.
    assert groups == {"African States": 54, "Asia-Pacific States": 54, "Eastern European States": 23,
                      "Latin American and Caribbean States": 33, "Western European and other States": 29}
    assert {r["geoscheme_region"] for r in rows} == {"Africa", "Americas", "Asia", "Europe", "Oceania"}
    assert missions.geo_region("FJI") == "Oceania" and missions.geo_region("TUR") == "Asia"


def test_seed_is_idempotent_and_keeps_existing_missions(db, users):
    ken_id = users["mission"].mission_id  # the KEN mission made by the fixture, with its desk officer
    created, updated = missions.seed_missions(db.session)
    assert created == 192 and updated == 1
    assert missions.seed_missions(db.session) == (0, 0)
    assert db.session.execute(select(func.count(Mission.id))).scalar_one() == 193
    ken = db.session.get(Mission, ken_id)
    assert ken.country_code == "KEN" and ken.region == "African States"
    assert db.session.get(User, users["mission"].id).mission_id == ken_id


def test_cli_seed(runner, db):
    out = runner.invoke(args=["missions", "seed"])
    assert out.exit_code == 0 and "193 created" in out.output
    out = runner.invoke(args=["missions", "seed"])
    assert "0 created, 0 updated" in out.output


def test_demo_seed_loads_missions_and_keeps_desk_officers(db):
    from panel import demo

    demo.seed(db.session)
    demo.seed(db.session)
    assert db.session.execute(select(func.count(Mission.id))).scalar_one() == 193
    for code in ("KEN", "BRA", "DEU"):
        user = db.session.execute(select(User).where(User.email == f"mission-{code.lower()}@pnyx.example")
                                  ).scalar_one()
        assert user.mission.country_code == code


def test_invite_officer_creates_user_link_and_mail(db, users):
    missions.seed_missions(db.session)
    bra = missions.get_by_code(db.session, "bra")
    user, link = missions.invite_officer(db.session, users["organizer"], bra.id, email="Desk@Brazil.example",
                                         name="Desk Officer", link_base="http://pnyx.test/")
    assert user.role == "mission" and user.mission_id == bra.id and user.email == "desk@brazil.example"
    assert link.startswith("http://pnyx.test/auth/link/")
    assert db.session.execute(select(MagicLink).where(MagicLink.user_id == user.id)).scalar_one().purpose \
        == "invitation"
    mail = db.session.execute(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).scalar_one()
    assert link in mail.body
    with pytest.raises(ValidationFailed) as e:  # an existing non-mission user cannot be turned into one
        missions.invite_officer(db.session, users["organizer"], bra.id, email=users["citizen"].email, name="x",
                                link_base="http://pnyx.test")
    assert e.value.field == "email"


def test_missions_page_and_invite_allowed(client, auth, db, users):
    missions.seed_missions(db.session)
    deu = missions.get_by_code(db.session, "DEU")
    auth.as_user(users["admin"])
    html = client.get("/missions?region=Eastern European States").get_data(as_text=True)
    assert "Permanent Mission of Ukraine" in html and "Permanent Mission of Germany" not in html
    token = helpers.csrf_token(client, "/missions")
    r = client.post(f"/missions/{deu.id}/invite", data={"csrf_token": token, "email": "bad", "name": "X"})
    assert r.status_code == 422 and b"valid email" in r.data
    r = client.post(f"/missions/{deu.id}/invite", data={"csrf_token": token, "email": "desk@de.example",
                                                        "name": "Desk DE"})
    assert r.status_code == 200 and b"/auth/link/" in r.data
    # The invited officer can sign in with the link.
    link = r.get_data(as_text=True).split("/auth/link/")[1].split("<")[0].strip()
    auth.signout()
    page = f"/auth/link/{link}"
    r = client.post(page, data={"csrf_token": helpers.csrf_token(client, page)})
    assert r.status_code == 302
    assert "Permanent Mission of Germany" in client.get("/inbox").get_data(as_text=True)


@pytest.mark.parametrize("role", ["facilitator", "citizen", "mission", "observer"])
def test_missions_page_forbidden(client, auth, db, users, role):
    auth.as_user(users[role])
    assert client.get("/missions").status_code == 403
    token = helpers.csrf_token(client, "/dashboard")
    r = client.post(f"/missions/{users['mission'].mission_id}/invite",
                    data={"csrf_token": token, "email": "x@y.example", "name": "X"})
    assert r.status_code == 403
