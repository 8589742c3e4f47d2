"""Pool and quota upload: the sortition-algorithms format, quotas from shares, feasibility at once,
bad input named by file/line/column with nothing written, and who may do it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from panel.models import AuditEvent, Feature, FeatureValue, Volunteer
from tests.panel.lottery_fixtures import CATEGORIES, SHARES, people_csv, upload


def _count(db, model, **where):
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return db.session.execute(stmt).scalar_one()


def test_organizer_uploads_pool_and_sees_feasibility(db, client, auth, users):
    panel = users["panel"]
    auth.as_user(users["organizer"])
    resp = upload(client, panel.id)
    assert resp.status_code == 302
    page = client.get(f"/panels/{panel.id}/pool").get_data(as_text=True)
    assert "Imported 30 volunteers" in page
    assert 'id="feasibility"' in page and "Feasible" in page
    assert _count(db, Volunteer, panel_id=panel.id) == 30
    vol = db.session.execute(select(Volunteer).where(Volunteer.external_id == "P002")).scalar_one()
    assert vol.features == {"gender": "female", "age": "old"} and vol.email == "p2@example.org"
    assert vol.name == "Person 2" and vol.household is None
    values = db.session.execute(select(FeatureValue.value, FeatureValue.min_count, FeatureValue.max_count)
                                .order_by(FeatureValue.id)).all()
    assert [tuple(v) for v in values] == [("female", 4, 6), ("male", 4, 6), ("young", 3, 7), ("old", 3, 7)]
    ev = db.session.execute(select(AuditEvent).where(AuditEvent.action == "pool.imported")).scalar_one()
    assert ev.payload["volunteers"] == 30 and len(ev.payload["people_sha256"]) == 64


def test_quotas_from_population_shares(db, client, auth, users):
    panel = users["panel"]  # 10 seats
    auth.as_user(users["organizer"])
    resp = upload(client, panel.id, categories=None, shares=SHARES, tolerance="1")
    assert resp.status_code == 302
    rows = {v: (lo, hi, share) for v, lo, hi, share in db.session.execute(
        select(FeatureValue.value, FeatureValue.min_count, FeatureValue.max_count, FeatureValue.share))}
    assert rows["female"][:2] == (4, 6) and rows["young"][:2] == (3, 5) and rows["old"][:2] == (5, 7)
    assert rows["young"][2] == pytest.approx(0.4)


def test_reupload_replaces_pool(db, client, auth, users):
    panel = users["panel"]
    auth.as_user(users["organizer"])
    upload(client, panel.id)
    assert upload(client, panel.id, people=people_csv(40)).status_code == 302
    assert _count(db, Volunteer, panel_id=panel.id) == 40
    assert _count(db, Feature, panel_id=panel.id) == 2


def test_households_are_pseudonymous(db, client, auth, users):
    panel = users["panel"]
    auth.as_user(users["organizer"])
    text = people_csv(30).replace("id,name,email,gender,age", "id,name,email,gender,age,address1,postcode")
    lines = text.strip().split("\n")
    lines = [lines[0]] + [f"{line},{i // 2} Main St,AB{i // 2}" for i, line in enumerate(lines[1:])]
    assert upload(client, panel.id, people="\n".join(lines) + "\n",
                  address_columns="address1, postcode").status_code == 302
    households = db.session.execute(select(Volunteer.household)).scalars().all()
    assert len(set(households)) == 15 and all(len(h) == 16 and "Main" not in h for h in households)


BAD_INPUTS = [
    ("malformed", people_csv(30, rows=['P999,"unclosed,x@example.org,female,old']), CATEGORIES,
     ["people.csv", "malformed"]),
    ("mixed_encoding", people_csv(30).encode() + "P031,Jos\u00e9,j@example.org,male,old\n".encode("latin-1"),
     CATEGORIES, ["people.csv", "line 32", "name", "UTF-8"]),
    ("duplicate_id", people_csv(30, rows=["P001,Other,o@example.org,female,young"]), CATEGORIES,
     ["people.csv", "line 32", "P001"]),
    ("unknown_value", people_csv(30, rows=["P031,X,x@example.org,female,ancient"]), CATEGORIES,
     ["people.csv", "line 32", "'age'", "ancient"]),
    ("min_gt_max", people_csv(30), CATEGORIES.replace("gender,male,4,6", "gender,male,7,5"),
     ["categories.csv", "line 3", "min", "greater than max"]),
    ("pool_too_small", people_csv(8), CATEGORIES, ["people.csv", "8 people", "10 seats"]),
    ("bad_email", people_csv(30, rows=["P031,X,not-an-email,female,old"]), CATEGORIES,
     ["people.csv", "line 32", "email"]),
    ("missing_feature_column", "id,gender\nP1,female\n", CATEGORIES, ["people.csv", "age"]),
    ("bad_number", people_csv(30), CATEGORIES.replace("age,old,3,7", "age,old,three,7"),
     ["categories.csv", "line 5", "three"]),
]


@pytest.mark.parametrize("name,people,categories,expected", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_named_and_nothing_is_written(db, client, auth, users, name, people, categories, expected):
    panel = users["panel"]
    auth.as_user(users["organizer"])
    assert upload(client, panel.id).status_code == 302  # a good pool first: it must survive
    events = _count(db, AuditEvent)
    resp = upload(client, panel.id, people=people, categories=categories)
    assert resp.status_code == 422, resp.get_data(as_text=True)[:500]
    page = resp.get_data(as_text=True)
    assert "Nothing was imported." in page
    for fragment in expected:
        assert fragment.replace("'", "&#39;") in page or fragment in page, (fragment, page[page.find("upload-error"):][:600])
    assert _count(db, Volunteer, panel_id=panel.id) == 30
    assert _count(db, AuditEvent) == events


def test_both_or_neither_quota_file_is_rejected(client, auth, users):
    auth.as_user(users["organizer"])
    resp = upload(client, users["panel"].id, categories=CATEGORIES, shares=SHARES)
    assert resp.status_code == 422 and "exactly one" in resp.get_data(as_text=True)
    resp = upload(client, users["panel"].id, categories=None)
    assert resp.status_code == 422


def test_bad_shares_file_names_line(client, auth, users):
    auth.as_user(users["organizer"])
    resp = upload(client, users["panel"].id, categories=None, shares=SHARES + "age,middle,lots\n")
    assert resp.status_code == 422
    assert "shares.csv, line 6, column &#39;share&#39;" in resp.get_data(as_text=True)


def test_infeasible_quotas_are_reported(client, auth, users):
    auth.as_user(users["organizer"])
    cats = CATEGORIES.replace("gender,female,4,6", "gender,female,8,9")  # female>=8 and male>=4 in 10 seats
    assert upload(client, users["panel"].id, categories=cats).status_code == 302
    page = client.get(f"/panels/{users['panel'].id}/pool").get_data(as_text=True)
    assert "cannot all be met" in page
    clash = page[page.index('class="clash"'):]
    assert "gender = female</strong> at least 8" in clash and "gender = male</strong> at least 4" in clash
    assert "Smallest relaxation" in page and "Relax to" in page


@pytest.mark.parametrize("role,status", [("organizer", 200), ("admin", 200), ("observer", 200),
                                         ("other_organizer", 403), ("facilitator", 403), ("citizen", 403),
                                         ("mission", 403)])
def test_pool_page_access(client, auth, users, role, status):
    auth.as_user(users[role])
    assert client.get(f"/panels/{users['panel'].id}/pool").status_code == status


@pytest.mark.parametrize("role", ["other_organizer", "observer", "facilitator", "citizen"])
def test_upload_forbidden(db, client, auth, users, role):
    auth.as_user(users["organizer"])
    token_page = f"/panels/{users['panel'].id}/pool"
    client.get(token_page)
    auth.signout()
    auth.as_user(users[role])
    from tests.helpers import csrf_token
    token = csrf_token(client, "/dashboard")
    import io
    resp = client.post(token_page, data={"csrf_token": token, "people": (io.BytesIO(people_csv().encode()), "p.csv"),
                                         "categories": (io.BytesIO(CATEGORIES.encode()), "c.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 403
    assert _count(db, Volunteer) == 0


def test_anonymous_is_sent_to_signin(client, users):
    resp = client.get(f"/panels/{users['panel'].id}/pool")
    assert resp.status_code == 302 and "/auth/signin" in resp.headers["Location"]


def test_demo_panel_pool_matches_quota_storage(db, client, auth):
    """The demo's features, quotas and volunteers read back as a pool the library accepts, and it is feasible."""
    from panel import demo
    from panel.models import User
    from panel.services import pool

    panel = demo.seed(db.session)
    files = pool.pool_files(db.session, panel)
    assert files.people_csv.split("\n")[0] == "id," + ",".join(demo.SHARES) + ",household"
    assert len(pool.load_pool(files).people) == demo.POOL_SIZE
    assert pool.feasibility(db.session, panel).ok
    organizer = db.session.execute(select(User).where(User.email == "organizer@pnyx.example")).scalar_one()
    auth.signin(organizer.email, demo.DEMO_PASSWORD)
    page = client.get(f"/panels/{panel.id}/pool").get_data(as_text=True)
    assert "Feasible" in page and "Asia" in page and "59.2%" in page


def _infeasible_upload(client, auth, users):
    auth.as_user(users["organizer"])
    cats = CATEGORIES.replace("gender,female,4,6", "gender,female,8,9")
    assert upload(client, users["panel"].id, categories=cats).status_code == 302


def test_apply_the_suggested_relaxation(db, client, auth, users):
    from tests.panel.lottery_fixtures import post

    _infeasible_upload(client, auth, users)
    resp = post(client, f"/panels/{users['panel'].id}/pool/relax")
    assert resp.status_code == 302
    page = client.get(f"/panels/{users['panel'].id}/pool").get_data(as_text=True)
    assert "Quotas relaxed" in page and "Feasible" in page
    ev = db.session.execute(select(AuditEvent).where(AuditEvent.action == "quotas.relaxed")).scalar_one()
    assert ev.payload["cost"] >= 1 and ev.payload["changes"]
    # Nothing left to relax now.
    assert post(client, f"/panels/{users['panel'].id}/pool/relax").status_code == 409


@pytest.mark.parametrize("role", ["other_organizer", "observer", "citizen"])
def test_relaxation_forbidden(db, client, auth, users, role):
    from tests.panel.lottery_fixtures import post

    _infeasible_upload(client, auth, users)
    auth.signout()
    auth.as_user(users[role])
    assert post(client, f"/panels/{users['panel'].id}/pool/relax").status_code == 403
    assert db.session.execute(select(func.count(AuditEvent.id)).where(AuditEvent.action == "quotas.relaxed")
                              ).scalar_one() == 0


def test_households_that_make_quotas_impossible(db, client, auth, users):
    """Thirty people in eight households cannot fill ten seats one per household."""
    auth.as_user(users["organizer"])
    text = people_csv(30).replace("id,name,email,gender,age", "id,name,email,gender,age,address1")
    lines = text.strip().split("\n")
    lines = [lines[0]] + [f"{line},{i % 8} Main St" for i, line in enumerate(lines[1:])]
    assert upload(client, users["panel"].id, people="\n".join(lines) + "\n",
                  address_columns="address1").status_code == 302
    page = client.get(f"/panels/{users['panel'].id}/pool").get_data(as_text=True)
    assert "cannot all be met" in page and "only 8 households for 10 seats" in page


@pytest.mark.parametrize("people, seats, text", [
    (1, 3, "The pool has 1 person but the panel has 3 seats."),
    (4, 5, "The pool has 4 people but the panel has 5 seats."),
])
def test_pool_too_small_wording_is_plural_aware(people, seats, text):
    from panel.services.pool import too_small

    assert too_small(people, seats) == text
