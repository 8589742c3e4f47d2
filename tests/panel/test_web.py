"""Server-rendered pages: each page for each role, forbidden pages, language/direction, headers, cookies."""

from __future__ import annotations

import re

import pytest

from panel import create_app
from panel.models import Panel, User
from tests.conftest import base_config
from tests.helpers import csrf_token, row_counts

ROLES = ["admin", "organizer", "facilitator", "citizen", "mission", "observer"]
# page → roles that may open it (everyone else: 403)
PAGES = {
    "/dashboard": set(ROLES),
    "/panels": set(ROLES),
    "/panels/{panel}": {"admin", "organizer", "facilitator", "citizen", "observer"},
    "/panels/new": {"admin", "organizer"},
    "/users": {"admin", "organizer"},
    "/users/new": {"admin"},
    "/users/{user}": {"admin"},
}


def _fill(page: str, users) -> str:
    return page.format(panel=users["panel"].id, user=users["citizen"].id)


def assert_clean_html(html: str) -> None:
    """The CSP forbids inline scripts and style attributes: pages must not rely on them."""
    assert " style=" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert "http://" not in re.sub(r'value="[^"]*"', "", html).replace("http://www.w3.org", "")


@pytest.mark.parametrize("role", ROLES)
def test_pages_for_role(client, auth, users, subtests, role):
    """Each page renders for the roles that may see it and is a 403 page for the others."""
    auth.as_user(users[role])
    for page, allowed in PAGES.items():
        with subtests.test(page=page):
            r = client.get(_fill(page, users))
            if role in allowed:
                assert r.status_code == 200
                html = r.get_data(as_text=True)
                assert users[role].name in html  # the signed-in header
                assert_clean_html(html)
            else:
                assert r.status_code == 403
                html = r.get_data(as_text=True)
                assert "You do not have permission to do this." in html
                assert "Back to your dashboard" in html


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_need_sign_in(client, users, page):
    r = client.get(_fill(page, users))
    assert r.status_code == 302
    assert "/auth/signin" in r.headers["Location"]


@pytest.mark.parametrize("path", ["/", "/auth/signin", "/healthz"])
def test_public_pages(client, users, path):
    r = client.get(path)
    assert r.status_code == 200
    if r.mimetype == "text/html":
        assert_clean_html(r.get_data(as_text=True))


def test_dashboard_shows_my_panels_only(client, auth, users):
    auth.as_user(users["other_organizer"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Test panel" not in html
    assert "No panels yet." in html and "Open the first panel" in html
    auth.signout()
    auth.as_user(users["facilitator"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Test panel" in html


def test_404_page_says_what_to_do(client, users):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "Check the address" in r.get_data(as_text=True)


# --- forms ------------------------------------------------------------------------------------

def test_organizer_opens_a_panel(client, auth, users, db):
    auth.as_user(users["organizer"])
    token = csrf_token(client, "/panels/new")
    r = client.post("/panels/new", data={"csrf_token": token, "title": "Oceans", "question": "What now?",
                                         "size": "30", "languages": "en, fr"})
    assert r.status_code == 302
    panel = db.session.query(Panel).filter_by(title="Oceans").one()
    assert r.headers["Location"].endswith(f"/panels/{panel.id}")
    assert panel.languages == ["en", "fr"]
    assert "Oceans" in client.get(f"/panels/{panel.id}").get_data(as_text=True)


@pytest.mark.parametrize(("data", "status", "field"), [
    ({"title": "", "question": "q", "size": "3"}, 422, "title"),
    ({"title": "t", "question": "", "size": "3"}, 422, "question"),
    ({"title": "t", "question": "q", "size": "three"}, 422, "size"),
    ({"title": "t", "question": "q", "size": "0"}, 422, "size"),
])
def test_panel_form_errors_name_the_field(client, auth, users, db, data, status, field):
    auth.as_user(users["organizer"])
    token = csrf_token(client, "/panels/new")
    before = row_counts(db.session)
    r = client.post("/panels/new", data={"csrf_token": token, **data})
    assert r.status_code == status
    assert f'id="{field}"' in r.get_data(as_text=True)
    assert 'aria-invalid="true"' in r.get_data(as_text=True) or 'role="alert"' in r.get_data(as_text=True)
    assert row_counts(db.session) == before


def test_facilitator_cannot_post_a_panel(client, auth, users, db):
    auth.as_user(users["facilitator"])
    token = csrf_token(client, "/dashboard")
    before = row_counts(db.session)
    r = client.post("/panels/new", data={"csrf_token": token, "title": "x", "question": "y", "size": "3"})
    assert r.status_code == 403
    assert row_counts(db.session) == before


def test_admin_creates_edits_and_links_a_user(client, auth, users, db):
    auth.as_user(users["admin"])
    token = csrf_token(client, "/users/new")
    r = client.post("/users/new", data={"csrf_token": token, "email": "Zoe@Test.Example", "name": "Zoe",
                                        "role": "citizen"})
    assert r.status_code == 302
    zoe = db.session.query(User).filter_by(email="zoe@test.example").one()
    r = client.post(f"/users/{zoe.id}", data={"csrf_token": token, "action": "link"})
    assert r.status_code == 200
    link = re.search(r'value="(http[^"]+/auth/link/[^"]+)"', r.get_data(as_text=True)).group(1)
    r = client.post(f"/users/{zoe.id}", data={"csrf_token": token, "action": "save", "name": "Zoé",
                                              "role": "citizen"})  # "active" unchecked: deactivates
    assert r.status_code == 302
    db.session.expire_all()
    zoe = db.session.get(User, zoe.id)
    assert zoe.name == "Zoé" and zoe.active is False
    # A deactivated user's link does not sign in.
    other = client.application.test_client()
    path = link.split("localhost.localdomain", 1)[1]
    r = other.post(path, data={"csrf_token": csrf_token(other, path)})
    assert r.status_code == 400


def test_user_form_errors(client, auth, users, db):
    auth.as_user(users["admin"])
    token = csrf_token(client, "/users/new")
    before = row_counts(db.session)
    r = client.post("/users/new", data={"csrf_token": token, "email": users["observer"].email, "name": "Dup",
                                        "role": "observer"})
    assert r.status_code == 409 and "already exists" in r.get_data(as_text=True)
    r = client.post(f"/users/{users['admin'].id}", data={"csrf_token": token, "action": "link"})
    assert r.status_code == 400 and "citizens and mission users" in r.get_data(as_text=True)
    assert row_counts(db.session) == before


# --- language and direction -------------------------------------------------------------------

def test_arabic_is_right_to_left(client, auth, users):
    r = client.get("/auth/signin?lang=ar")
    assert re.search(r'<html lang="ar" dir="rtl">', r.get_data(as_text=True))
    auth.as_user(users["facilitator"])
    html = client.get("/dashboard?lang=ar").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in html
    assert 'lang="fr" dir="ltr"' in client.get("/dashboard?lang=fr").get_data(as_text=True)


def test_unknown_lang_falls_back(client):
    html = client.get("/auth/signin?lang=xx", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html


def test_language_switch_is_remembered(client, auth, users, db):
    auth.as_user(users["citizen"])
    token = csrf_token(client, "/dashboard")
    r = client.post("/lang/ar", data={"csrf_token": token, "next": "/panels"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/panels")
    assert 'dir="rtl"' in client.get("/dashboard").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, users["citizen"].id).locale == "ar"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example"])
def test_language_switch_refuses_open_redirect(client, target):
    token = csrf_token(client)
    r = client.post("/lang/fr", data={"csrf_token": token, "next": target})
    assert r.status_code == 302
    assert "evil" not in r.headers["Location"]


def test_language_switch_unknown_code_and_csrf(client):
    token = csrf_token(client)
    assert client.post("/lang/xx", data={"csrf_token": token}).status_code == 404
    assert client.post("/lang/fr").status_code == 400


# --- headers and cookies ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/auth/signin", "/no-such-page", "/api/v1/openapi.json", "/healthz"])
def test_security_headers(client, path):
    h = client.get(path).headers
    csp = h["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "object-src 'none'" in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["X-Request-Id"]
    assert "Strict-Transport-Security" not in h  # plain HTTP


def _session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    return cookies[0]


def test_session_cookie_flags_over_http(client, users):
    cookie = _session_cookie(client.get("/auth/signin"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_secure_cookie_behind_https_proxy(database_url, users):
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, PROXY_FIX=True))
    c = app.test_client()
    r = c.get("/auth/signin", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    cookie = _session_cookie(r)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    # Without the proxy header, the same app serves plain HTTP cookies.
    assert "Secure" not in _session_cookie(app.test_client().get("/auth/signin"))


def test_proxy_headers_ignored_without_proxy_fix(client):
    r = client.get("/auth/signin", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in _session_cookie(r)


def test_static_assets_are_local(client):
    html = client.get("/auth/signin").get_data(as_text=True)
    for ref in re.findall(r'(?:href|src)="([^"]+)"', html):
        assert ref.startswith("/") or ref.startswith("#"), ref
    css = client.get("/static/css/app.css")
    assert css.status_code == 200 and "@import url(http" not in css.get_data(as_text=True)


def test_nul_characters_are_refused_with_the_field_named(client, auth, users, db):
    """PostgreSQL text cannot hold NUL: refused up front on every database, never a 500."""
    auth.as_user(users["organizer"])
    token = csrf_token(client, "/panels/new")
    before = row_counts(db.session)
    r = client.post("/panels/new", data={"csrf_token": token, "title": "a\x00b", "question": "q", "size": "3"})
    assert r.status_code == 400
    assert "NUL character" in r.get_data(as_text=True) and "title" in r.get_data(as_text=True)
    assert row_counts(db.session) == before
    r = client.get("/panels", query_string={"q": "\x00"}, headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "q"


def _stat(html: str, number: int) -> str:
    """The label under a stat tile showing ``number``."""
    found = re.findall(rf'<span class="num">{number}</span><span>([^<]+)</span>', html)
    return " | ".join(found)


def test_counts_of_one_are_singular(client, auth, users, db):
    """A count of 1 reads "1 seat", "1 member", not "1 seats", "1 members" (ngettext, not a fixed plural)."""
    from tests.helpers import make_panel

    solo = make_panel(db.session, users["other_organizer"], title="Solo panel", size=1)
    auth.as_user(users["other_organizer"])
    html = client.get(f"/panels/{solo.id}").get_data(as_text=True)
    assert "seat" in _stat(html, 1).split(" | ") and "seats" not in _stat(html, 1).split(" | ")
    assert "member" in _stat(html, 1).split(" | ")
    dash = client.get("/dashboard").get_data(as_text=True)
    assert "1 seat<" in dash and "1 seats" not in dash
    # and the plural still reads as a plural
    auth.signout()
    auth.as_user(users["organizer"])
    html = client.get(f"/panels/{users['panel'].id}").get_data(as_text=True)
    assert "seats" in _stat(html, 10).split(" | ")
