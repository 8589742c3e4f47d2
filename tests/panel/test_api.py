"""``/api/v1``: bearer auth, panels and users, the one error shape, and the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from panel import create_app
from panel.api.openapi import OPERATIONS, build_document
from panel.extensions import db as _db
from panel.models import ApiToken, Panel, User
from panel.models.base import utcnow
from panel.services import accounts
from tests.conftest import base_config
from tests.helpers import row_counts


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(db, users) -> dict[str, dict[str, str]]:
    return {role: bearer(accounts.create_api_token(db.session, users[role]))
            for role in ("admin", "organizer", "facilitator", "citizen", "mission", "observer",
                         "other_organizer")}


def assert_error(r, status: int, code: str | None = None, field: str | None = ...) -> dict[str, Any]:
    """Every API error has exactly {"error": {"code", "message", "field"}}."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    if field is not ...:
        assert body["error"]["field"] == field
    return body["error"]


# --- authentication ---------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "pnyx_abc"])
def test_bearer_token_required(client, users, header):
    headers = {} if header is None else {"Authorization": header}
    assert_error(client.get("/api/v1/panels", headers=headers), 401, "unauthorized", "Authorization")


@pytest.mark.parametrize("token", ["pnyx_not-a-token", "x" * 500, "ünï"])
def test_invalid_token(client, users, token):
    err = assert_error(client.get("/api/v1/panels", headers=bearer(token)), 401, "unauthorized")
    assert "not valid" in err["message"]


def test_revoked_token_and_deactivated_user(client, db, users, tokens):
    assert client.get("/api/v1/panels", headers=tokens["admin"]).status_code == 200
    row = db.session.query(ApiToken).filter_by(user_id=users["admin"].id).one()
    row.revoked_at = utcnow()
    db.session.commit()
    assert_error(client.get("/api/v1/panels", headers=tokens["admin"]), 401)
    accounts.update_user(db.session, users["organizer"], actor_id=None, active=False)
    assert_error(client.get("/api/v1/panels", headers=tokens["organizer"]), 401)


def test_token_is_stored_hashed(db, users):
    token = accounts.create_api_token(db.session, users["admin"], "ci")
    row = db.session.query(ApiToken).filter_by(user_id=users["admin"].id).one()
    assert token not in (row.token_hash, row.prefix + "x") and row.token_hash == accounts.hash_secret(token)
    assert token.startswith(row.prefix)


def test_session_cookie_does_not_authenticate_the_api(client, auth, users):
    auth.signin(users["admin"].email)
    assert_error(client.get("/api/v1/panels"), 401)


# --- panels -----------------------------------------------------------------------------------

def test_panels_list_by_role(client, users, tokens, db):
    other = accounts.get_user(db.session, users["other_organizer"].id)
    from tests.helpers import make_panel
    make_panel(db.session, other, title="Someone else's panel")
    titles = lambda role: sorted(p["title"] for p in client.get("/api/v1/panels", headers=tokens[role]).get_json()["items"])  # noqa: E731
    assert titles("admin") == ["Someone else's panel", "Test panel"]
    assert titles("observer") == ["Someone else's panel", "Test panel"]
    assert titles("organizer") == ["Test panel"]
    assert titles("citizen") == ["Test panel"]
    assert titles("mission") == []
    assert titles("other_organizer") == ["Someone else's panel"]


def test_panel_create_get_patch(client, db, users, tokens):
    before = row_counts(db.session)
    r = client.post("/api/v1/panels", headers=tokens["organizer"],
                    json={"title": " Climate ", "question": "What now?", "size": 40, "languages": ["en", "ar"]})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["title"] == "Climate" and body["status"] == "draft" and body["languages"] == ["en", "ar"]
    assert r.headers["Location"].endswith(f"/api/v1/panels/{body['id']}")
    after = row_counts(db.session)
    assert after["panel"] == before["panel"] + 1 and after["audit_event"] == before["audit_event"] + 1
    r = client.get(r.headers["Location"], headers=tokens["organizer"])
    assert r.status_code == 200 and r.get_json() == body
    r = client.patch(f"/api/v1/panels/{body['id']}", headers=tokens["organizer"],
                     json={"size": 45, "status": "recruiting"})
    assert r.status_code == 200
    assert r.get_json()["size"] == 45 and r.get_json()["status"] == "recruiting"
    # The creator is a member; another organizer is not.
    assert_error(client.get(f"/api/v1/panels/{body['id']}", headers=tokens["other_organizer"]), 403, "forbidden")
    assert_error(client.patch(f"/api/v1/panels/{body['id']}", headers=tokens["other_organizer"], json={"size": 5}),
                 403, "forbidden")


@pytest.mark.parametrize("role", ["facilitator", "citizen", "mission", "observer"])
def test_panel_create_forbidden(client, db, users, tokens, role):
    before = row_counts(db.session)
    assert_error(client.post("/api/v1/panels", headers=tokens[role], json={"title": "x", "question": "y", "size": 3}),
                 403, "forbidden")
    assert row_counts(db.session) == before


@pytest.mark.parametrize("role", ["facilitator", "citizen", "observer"])
def test_panel_patch_forbidden(client, db, users, tokens, role):
    assert_error(client.patch(f"/api/v1/panels/{users['panel'].id}", headers=tokens[role], json={"size": 5}),
                 403, "forbidden")
    db.session.expire_all()
    assert db.session.get(Panel, users["panel"].id).size == 10


def test_panel_illegal_status_jump_is_409(client, users, tokens):
    err = assert_error(client.patch(f"/api/v1/panels/{users['panel'].id}", headers=tokens["organizer"],
                                    json={"status": "closed"}), 409, "conflict", "status")
    assert "draft" in err["message"] and "closed" in err["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "t", "question": "q", "size": 3, "colour": "red"}, "colour"),
    ({"title": "", "question": "q", "size": 3}, "title"),
    ({"question": "q", "size": 3}, "title"),
    ({"title": "t", "question": "q", "size": "3"}, "size"),
    ({"title": "t", "question": "q", "size": True}, "size"),
    ({"title": "t", "question": "q", "size": 0}, "size"),
    ({"title": "t", "question": "q", "size": 3, "languages": []}, "languages"),
    ({"title": "t", "question": "q", "size": 3, "languages": [1]}, "languages.0"),
    ({"title": "t" * 201, "question": "q", "size": 3}, "title"),
    ({"title": "a\u0000b", "question": "q", "size": 3}, "title"),
    ({"title": "t", "question": "q", "size": 3, "languages": ["e\u0000n"]}, "languages"),
])
def test_panel_create_422_names_the_field(client, db, users, tokens, body, field):
    before = row_counts(db.session)
    err = assert_error(client.post("/api/v1/panels", headers=tokens["admin"], json=body), 422,
                       "validation_failed", field)
    assert field.split(".")[0] in err["message"]
    assert row_counts(db.session) == before


def test_unknown_field_message(client, users, tokens):
    err = assert_error(client.patch(f"/api/v1/panels/{users['panel'].id}", headers=tokens["admin"],
                                    json={"sizee": 5}), 422, "validation_failed", "sizee")
    assert "Unknown field 'sizee'" in err["message"]


# --- users ------------------------------------------------------------------------------------

def test_users_crud_as_admin(client, db, users, tokens):
    r = client.post("/api/v1/users", headers=tokens["admin"],
                    json={"email": "New.Person@Test.Example", "name": "New Person", "role": "facilitator",
                          "password": "long enough secret"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["email"] == "new.person@test.example" and body["active"] is True
    assert "password" not in body and "password_hash" not in body
    assert r.headers["Location"].endswith(f"/api/v1/users/{body['id']}")
    assert client.get(r.headers["Location"], headers=tokens["admin"]).get_json() == body
    r = client.patch(f"/api/v1/users/{body['id']}", headers=tokens["admin"],
                     json={"name": "Renamed", "locale": "fr", "active": False})
    assert r.status_code == 200
    assert r.get_json()["name"] == "Renamed" and r.get_json()["active"] is False
    items = client.get("/api/v1/users", headers=tokens["admin"]).get_json()["items"]
    assert body["id"] in [u["id"] for u in items]
    assert all(set(u) == set(body) for u in items)


def test_users_read_by_organizer_not_write(client, db, users, tokens):
    assert client.get("/api/v1/users", headers=tokens["organizer"]).status_code == 200
    before = row_counts(db.session)
    assert_error(client.post("/api/v1/users", headers=tokens["organizer"],
                             json={"email": "a@b.example", "name": "A", "role": "observer"}), 403, "forbidden")
    assert_error(client.patch(f"/api/v1/users/{users['citizen'].id}", headers=tokens["organizer"],
                              json={"name": "X"}), 403, "forbidden")
    assert row_counts(db.session) == before


@pytest.mark.parametrize("role", ["facilitator", "citizen", "mission", "observer"])
def test_users_forbidden_for_other_roles_but_self_is_readable(client, users, tokens, role):
    assert_error(client.get("/api/v1/users", headers=tokens[role]), 403, "forbidden")
    assert_error(client.get(f"/api/v1/users/{users['admin'].id}", headers=tokens[role]), 403, "forbidden")
    r = client.get(f"/api/v1/users/{users[role].id}", headers=tokens[role])
    assert r.status_code == 200 and r.get_json()["email"] == users[role].email


def test_duplicate_email_409(client, db, users, tokens):
    before = row_counts(db.session)
    assert_error(client.post("/api/v1/users", headers=tokens["admin"],
                             json={"email": users["observer"].email.upper(), "name": "Dup", "role": "observer"}),
                 409, "conflict", "email")
    assert row_counts(db.session) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not-an-email", "name": "A", "role": "observer"}, "email"),
    ({"email": "a@b.example", "name": "A", "role": "king"}, "role"),
    ({"email": "a@b.example", "name": "A", "role": "mission"}, "mission_id"),
    ({"email": "a@b.example", "name": "A", "role": "mission", "mission_id": 9999}, "mission_id"),
    ({"email": "a@b.example", "name": "A", "role": "citizen", "password": "long enough secret"}, "password"),
    ({"email": "a@b.example", "name": "A", "role": "observer", "password": "short"}, "password"),
    ({"email": "a@b.example", "name": "A", "role": "observer", "is_admin": True}, "is_admin"),
])
def test_user_create_422(client, db, users, tokens, body, field):
    before = row_counts(db.session)
    assert_error(client.post("/api/v1/users", headers=tokens["admin"], json=body), 422, "validation_failed", field)
    assert row_counts(db.session) == before


@pytest.mark.parametrize(("who", "body", "field"), [
    ("admin", {"active": False}, "active"),
    ("admin", {"role": "organizer"}, "role"),
    ("citizen", {"password": "long enough secret"}, "password"),
    ("observer", {"role": "citizen", "password": "long enough secret"}, "password"),
])
def test_user_update_refusals(client, db, users, tokens, who, body, field):
    before = db.session.get(User, users[who].id)
    snapshot = (before.active, before.role, before.password_hash)
    assert_error(client.patch(f"/api/v1/users/{users[who].id}", headers=tokens["admin"], json=body), 422,
                 "validation_failed", field)
    db.session.expire_all()
    after = db.session.get(User, users[who].id)
    assert (after.active, after.role, after.password_hash) == snapshot


def test_admin_may_deactivate_another_admin(client, db, users, tokens):
    from tests.helpers import make_user

    other = make_user(db.session, "admin")
    r = client.patch(f"/api/v1/users/{other.id}", headers=tokens["admin"], json={"active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False


def test_role_change_to_mission_without_mission_is_422(client, db, users, tokens):
    assert_error(client.patch(f"/api/v1/users/{users['observer'].id}", headers=tokens["admin"],
                              json={"role": "mission"}), 422, "validation_failed", "role")
    db.session.expire_all()
    assert db.session.get(User, users["observer"].id).role == "observer"


# --- transport-level errors -------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/panels/99999", "/api/v1/users/99999"])
def test_404_shape(client, users, tokens, path):
    assert_error(client.get(path, headers=tokens["admin"]), 404, "not_found")


def test_unknown_api_route_and_method(client, users, tokens):
    assert_error(client.get("/api/v1/nothing-here", headers=tokens["admin"]), 404, "not_found")
    assert_error(client.delete("/api/v1/panels", headers=tokens["admin"]), 405, "method_not_allowed")


@pytest.mark.parametrize("data", ["{bad json", "", "[1, 2", "\xff\xfe"])
def test_malformed_json_400(client, db, users, tokens, data):
    before = row_counts(db.session)
    assert_error(client.post("/api/v1/panels", headers=tokens["admin"], data=data.encode("latin-1"),
                             content_type="application/json"), 400, "malformed_json", "body")
    assert row_counts(db.session) == before


@pytest.mark.parametrize("data", ["[]", "3", '"text"', "null"])
def test_non_object_json_400(client, users, tokens, data):
    assert_error(client.post("/api/v1/panels", headers=tokens["admin"], data=data,
                             content_type="application/json"), 400, "malformed_json", "body")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_415(client, db, users, tokens, content_type):
    before = row_counts(db.session)
    kwargs: dict[str, Any] = {"data": '{"title": "t", "question": "q", "size": 3}'}
    if content_type:
        kwargs["content_type"] = content_type
    assert_error(client.post("/api/v1/panels", headers=tokens["admin"], **kwargs), 415,
                 "unsupported_media_type", "body")
    assert row_counts(db.session) == before


def _app_with(database_url: str, **cfg: Any) -> Flask:
    return create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, **cfg))


def test_oversized_body_413(app, database_url, db, users):
    small = _app_with(database_url, MAX_CONTENT_LENGTH=200)
    with small.app_context():
        token = accounts.create_api_token(_db.session, _db.session.get(User, users["admin"].id))
        before = row_counts(_db.session)
        r = small.test_client().post("/api/v1/panels", headers=bearer(token),
                                     json={"title": "t", "question": "q" * 500, "size": 3})
        assert_error(r, 413, "payload_too_large")
        assert row_counts(_db.session) == before
        _db.session.remove()


def test_api_rate_limit_429(app, database_url, users):
    limited = _app_with(database_url, API_RATE_LIMIT="3 per minute")
    with limited.app_context():
        token = accounts.create_api_token(_db.session, _db.session.get(User, users["admin"].id))
        c = limited.test_client()
        for _ in range(3):
            assert c.get("/api/v1/panels", headers=bearer(token)).status_code == 200
        r = c.get("/api/v1/panels", headers=bearer(token))
        assert_error(r, 429, "rate_limited")
        assert "Retry-After" in r.headers or "X-RateLimit-Reset" in r.headers
        _db.session.remove()


# --- OpenAPI ----------------------------------------------------------------------------------

def test_openapi_document_is_valid(client):
    from openapi_spec_validator import validate

    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    validate(doc)
    assert doc == build_document()


def test_every_operation_is_a_real_route(app):
    rules: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            rules.setdefault(path, set()).update(m.lower() for m in rule.methods or ())
    for method, path, *_ in OPERATIONS:
        assert path in rules, f"OpenAPI path {path} has no route"
        assert method in rules[path], f"{method.upper()} {path} is documented but not routed"
    documented = {(m, p) for m, p, *_ in OPERATIONS}
    for path, methods in rules.items():
        if path == "/openapi.json":
            continue
        for m in methods - {"head", "options"}:
            assert (m, path) in documented, f"route {m.upper()} {path} is missing from the OpenAPI document"


def test_openapi_request_schemas_match_validation(client, users, tokens):
    """The schema the document publishes is the one that validates: unknown fields are refused."""
    doc = client.get("/api/v1/openapi.json").get_json()
    create = doc["components"]["schemas"]["PanelCreate"]
    assert create["additionalProperties"] is False
    assert set(create["required"]) == {"title", "question", "size"}
