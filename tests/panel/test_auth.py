"""Sign-in by password and by personal link, CSRF, rate limits, redirects and session ending."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from panel.models import MagicLink
from panel.services import accounts
from tests.helpers import PASSWORD, csrf_token, row_counts

WRONG = "Email or password is not correct."


def _location_path(r) -> str:
    return urlsplit(r.headers["Location"]).path


# --- password sign-in -------------------------------------------------------------------------

def test_password_signin_ok(client, auth, users, db):
    r = auth.signin(users["facilitator"].email)
    assert r.status_code == 302
    assert _location_path(r) == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    db.session.refresh(users["facilitator"])
    assert users["facilitator"].last_seen_at is not None


def test_email_is_case_and_space_insensitive(client, auth, users):
    r = auth.signin("  " + users["admin"].email.upper() + " ")
    assert r.status_code == 302


def test_wrong_password(client, auth, users, db):
    before = row_counts(db.session)
    r = auth.signin(users["organizer"].email, "not the password")
    assert r.status_code == 401
    assert WRONG in r.get_data(as_text=True)
    assert row_counts(db.session) == before
    db.session.refresh(users["organizer"])
    assert users["organizer"].last_seen_at is None
    assert client.get("/dashboard").status_code == 302


def test_unknown_email_same_answer_nothing_written(client, auth, users, db):
    before = row_counts(db.session)
    r = auth.signin("nobody@test.example", PASSWORD)
    assert r.status_code == 401
    body = r.get_data(as_text=True)
    assert WRONG in body
    assert "nobody@test.example" in body  # the typed email is kept in the form, escaped
    assert row_counts(db.session) == before


@pytest.mark.parametrize(("email", "password", "message"), [
    ("", PASSWORD, "Enter your email address."),
    ("admin1@test.example", "", "Enter your password."),
])
def test_missing_fields_are_named(client, users, email, password, message):
    token = csrf_token(client)
    r = client.post("/auth/signin", data={"email": email, "password": password, "csrf_token": token})
    assert r.status_code == 401
    assert message in r.get_data(as_text=True)


def test_link_users_cannot_sign_in_with_a_password(client, auth, users):
    assert auth.signin(users["citizen"].email, PASSWORD).status_code == 401


def test_deactivated_staff_cannot_sign_in(client, auth, users, db):
    accounts.update_user(db.session, users["observer"], actor_id=None, active=False)
    r = auth.signin(users["observer"].email)
    assert r.status_code == 401
    assert WRONG in r.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_csrf_missing_or_invalid_is_a_clear_400(client, users, db, token):
    before = row_counts(db.session)
    data = {"email": users["admin"].email, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    client.get("/auth/signin")  # a session exists, the token does not match it
    r = client.post("/auth/signin", data=data)
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert "Your form expired or was sent from elsewhere" in body
    assert "csrf_token" in body
    assert row_counts(db.session) == before
    assert client.get("/dashboard").status_code == 302


def test_csrf_error_as_json_when_asked(client, users):
    r = client.post("/auth/signin", data={}, headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert r.get_json() == {"error": {"code": "csrf_failed", "field": "csrf_token",
                                      "message": r.get_json()["error"]["message"]}}


def test_signin_rate_limit(app, client, users):
    limit = int(app.config["SIGNIN_RATE_LIMIT"].split()[0])
    token = csrf_token(client)
    data = {"email": users["admin"].email, "password": "wrong password", "csrf_token": token}
    for _ in range(limit):
        assert client.post("/auth/signin", data=data).status_code == 401
    r = client.post("/auth/signin", data=data)
    assert r.status_code == 429
    assert "Too many attempts" in r.get_data(as_text=True)
    # Even the right password is refused until the window passes.
    data["password"] = PASSWORD
    assert client.post("/auth/signin", data=data).status_code == 429
    # GET (reading the form) is not limited.
    assert client.get("/auth/signin").status_code == 200


# --- redirects --------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "javascript:alert(1)", "evil.example", "/%0a/evil.example\n",
])
def test_open_redirect_refused(client, users, target):
    token = csrf_token(client)
    r = client.post("/auth/signin", query_string={"next": target},
                    data={"email": users["admin"].email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    loc = urlsplit(r.headers["Location"])
    assert loc.netloc in ("", "localhost.localdomain")
    assert loc.path == "/dashboard"


def test_next_local_path_is_followed(client, users):
    token = csrf_token(client)
    r = client.post("/auth/signin", query_string={"next": "/panels?x=1"},
                    data={"email": users["admin"].email, "password": PASSWORD, "csrf_token": token})
    assert r.headers["Location"].endswith("/panels?x=1")


def test_login_required_redirects_to_signin_with_next(client, users):
    r = client.get("/panels")
    assert r.status_code == 302
    assert _location_path(r) == "/auth/signin"
    assert "next=%2Fpanels" in r.headers["Location"]


# --- magic links ------------------------------------------------------------------------------

def _post_link(client, token):
    csrf = csrf_token(client, f"/auth/link/{token}")
    return client.post(f"/auth/link/{token}", data={"csrf_token": csrf})


def test_magic_link_signs_in_once(client, users, db):
    token = accounts.issue_magic_link(db.session, users["citizen"])
    # Opening the link (or a mail scanner fetching it) does not use it up.
    assert client.get(f"/auth/link/{token}").status_code == 200
    r = _post_link(client, token)
    assert r.status_code == 302
    assert _location_path(r) == "/dashboard"
    assert users["citizen"].name in client.get("/dashboard").get_data(as_text=True)
    link = db.session.query(MagicLink).filter_by(user_id=users["citizen"].id).one()
    assert link.used_at is not None
    assert link.token_hash != token and len(link.token_hash) == 64  # stored hashed


def test_reused_link(client, users, db):
    token = accounts.issue_magic_link(db.session, users["mission"])
    assert _post_link(client, token).status_code == 302
    other = client.application.test_client()
    r = _post_link(other, token)
    assert r.status_code == 400
    assert "already been used" in r.get_data(as_text=True)
    assert other.get("/dashboard").status_code == 302


def test_expired_link(client, users, db):
    token = accounts.issue_magic_link(db.session, users["citizen"], ttl_hours=-1)
    before = row_counts(db.session)
    r = _post_link(client, token)
    assert r.status_code == 400
    assert "expired" in r.get_data(as_text=True)
    assert row_counts(db.session) == before
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("token", ["garbage", "x" * 300, "%00", "' OR 1=1 --", "ünïcødé"])
def test_unknown_or_garbage_link(client, users, db, token):
    before = row_counts(db.session)
    r = _post_link(client, token)
    assert r.status_code == 400
    assert "not valid" in r.get_data(as_text=True)
    assert row_counts(db.session) == before


def test_link_of_deactivated_user(client, users, db):
    token = accounts.issue_magic_link(db.session, users["citizen"])
    accounts.update_user(db.session, users["citizen"], actor_id=None, active=False)
    r = _post_link(client, token)
    assert r.status_code == 400
    assert "deactivated" in r.get_data(as_text=True)
    link = db.session.query(MagicLink).filter_by(user_id=users["citizen"].id).one()
    assert link.used_at is None


def test_link_post_needs_csrf(client, users, db):
    token = accounts.issue_magic_link(db.session, users["citizen"])
    client.get(f"/auth/link/{token}")
    assert client.post(f"/auth/link/{token}").status_code == 400
    link = db.session.query(MagicLink).filter_by(user_id=users["citizen"].id).one()
    assert link.used_at is None


# --- signing out and ending sessions ----------------------------------------------------------

def test_signout_requires_post_and_csrf(client, auth, users):
    auth.signin(users["admin"].email)
    assert client.get("/auth/signout").status_code == 405
    assert client.post("/auth/signout").status_code == 400
    assert client.get("/dashboard").status_code == 200  # still signed in
    r = auth.signout()
    assert r.status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_signout_when_anonymous_redirects_to_signin(client):
    token = csrf_token(client)
    r = client.post("/auth/signout", data={"csrf_token": token})
    assert r.status_code == 302
    assert _location_path(r) == "/auth/signin"


def test_password_change_ends_other_sessions(app, client, auth, users, db):
    auth.signin(users["organizer"].email)
    assert client.get("/dashboard").status_code == 200
    accounts.update_user(db.session, users["organizer"], actor_id=users["admin"].id, password="a brand new secret")
    r = client.get("/dashboard")
    assert r.status_code == 302 and _location_path(r) == "/auth/signin"
    assert auth.signin(users["organizer"].email).status_code == 401
    assert auth.signin(users["organizer"].email, "a brand new secret").status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_deactivation_ends_sessions(client, auth, users, db):
    auth.as_user(users["citizen"])
    assert client.get("/dashboard").status_code == 200
    accounts.update_user(db.session, users["citizen"], actor_id=None, active=False)
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("cookie_user", ["abc", "1", "1:x", "999:1", ""])
def test_forged_session_identity_is_anonymous(db, users, cookie_user):
    assert accounts.load_session_user(db.session, cookie_user) is None


def test_password_is_argon2id_and_rehashed_on_cost_change(app, client, auth, users, db):
    user = users["admin"]
    assert user.password_hash.startswith("$argon2id$")
    old = user.password_hash
    accounts.configure_hasher(2, 2048, 1)
    try:
        assert auth.signin(user.email).status_code == 302
        db.session.refresh(user)
        assert user.password_hash != old and "m=2048,t=2" in user.password_hash
    finally:
        accounts.configure_hasher(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"],
                                  app.config["ARGON2_PARALLELISM"])


def test_link_used_twice_at_once_signs_in_once(app, db, users):
    import threading

    from sqlalchemy.orm import Session

    from panel.errors import AuthenticationFailed

    token = accounts.issue_magic_link(db.session, users["citizen"])
    db.session.commit()
    results: list[str] = []
    barrier = threading.Barrier(2)

    def use() -> None:
        with app.app_context(), Session(db.engine) as s:
            barrier.wait()
            try:
                accounts.consume_magic_link(s, token)
                results.append("ok")
            except AuthenticationFailed as e:
                results.append(e.code)

    threads = [threading.Thread(target=use) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["link_used", "ok"]
