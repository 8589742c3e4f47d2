"""Walk every route with garbage, as anonymous and as every role: never a 500, never a partial write.

Path parameters get real ids (to reach the view's own parsing) and absurd ones; GETs get garbage
query strings; other methods get garbage forms (with a valid CSRF token, so the view itself is
exercised), garbage JSON and raw bytes. A request that is refused (4xx) must leave every table's row
count unchanged.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.routing import Rule

from panel.extensions import db as _db
from panel.services import accounts
from tests.helpers import CSRF_RE

IDENTITIES = ["anonymous", "admin", "organizer", "facilitator", "citizen", "mission", "observer"]
HUGE = 2**70
# NUL characters are refused before any view runs (security._refuse_nul, tested in test_web), so
# the query and form garbage avoids them to reach the views themselves.
GARBAGE_STRINGS = ["%00", "..%2F..%2Fetc%2Fpasswd", "\u202e\u0000x", "' OR 1=1 --", "a" * 400]
QUERY = {k: v for k, v in zip(
    ["page", "per_page", "q", "role", "status", "lang", "next", "sort", "format", "limit", "offset", "since",
     "after", "seq", "panel_id", "id", "algorithm", "seed", "stance", "feature", "group", "method", "token",
     "mission", "country", "region", "download"],
    ["-1", "1e309", "\u202e\ufeff", "'; DROP TABLE user; --", "[]", "xx", "//evil.example", "__class__", "../../x",
     str(HUGE), "-5", "not-a-date", "NaN", "9" * 30, "abc", "0x10", "nope", "💥", "maybe", "{}", "-0",
     "<script>", "a" * 300, "?", "ZZZ", "\ud7ff", "yes"],
    strict=True)}
FORM = {**QUERY, "title": "\U0001f600" * 300, "question": "", "size": "-7", "mandate": "x" * 5000, "languages": ",,,",
        "email": "not-an-email", "name": "", "password": "x", "active": "maybe", "action": "explode",
        "mission_id": "NaN", "body": "\r\n" * 100, "text": "", "explanation": "", "quota": "a..b",
        "min": "z", "max": "-1", "choice": "[]", "ranking": "{", "scores": "}", "volunteer_id": str(HUGE),
        "user_id": "-1", "due_at": "31/31/31", "deadline": "yesterday", "reason": "", "kind": "?",
        "options": "\n\n", "seats": "1e9"}
JSON_BODIES: list[Any] = [
    {k: [] for k in ("title", "question", "size", "email", "name", "role", "status", "body", "choice")},
    {"title": "x", "question": "y", "size": HUGE, "languages": [None], "status": "closed", "extra": {"a": [1]}},
    [1, 2, 3],
    "string",
    {"a": {"b": {"c": {"d": {"e": [[[[[]]]]]}}}}},
]
RAW_BODIES = [b"\xff\xfe\x00garbage", b"{\"unterminated\": ", b"--boundary\r\nnot multipart"]


def _path_values(rule: Rule, ids: dict[str, int]) -> list[dict[str, Any]]:
    """Real ids, absurd ids and garbage strings for each argument of the rule."""
    if not rule.arguments:
        return [{}]
    variants: list[dict[str, Any]] = []
    converters = rule._converters  # noqa: SLF001 - werkzeug exposes no public accessor
    real: dict[str, Any] = {}
    absurd: dict[str, Any] = {}
    silly: dict[str, Any] = {}
    for arg in rule.arguments:
        conv = type(converters[arg]).__name__
        if conv in ("IntegerConverter", "NumberConverter", "FloatConverter"):
            key = next((k for k in ids if k in arg), "any")
            real[arg] = ids.get(key, 1)
            absurd[arg] = HUGE
            silly[arg] = 0
        else:
            real[arg] = "en" if arg in ("code", "lang") else "x"
            absurd[arg] = GARBAGE_STRINGS[len(variants) % len(GARBAGE_STRINGS)]
            silly[arg] = "a" * 400
    return [real, absurd, silly] if any(isinstance(v, str) for v in real.values()) else [real, absurd]


def _url(rule: Rule, values: dict[str, Any]) -> str | None:
    try:
        parts = []
        for is_dynamic, data in rule._trace:  # noqa: SLF001
            parts.append(str(values[data]) if is_dynamic else data)
        url = "".join(parts)
        return url.split("|", 1)[1] if "|" in url else url
    except KeyError:
        return None


def _fingerprint(session: Any) -> tuple[int, ...]:
    tables = [t.name for t in _db.metadata.sorted_tables]
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
    session.rollback()
    return tuple(session.execute(text(sql)).one())


def _csrf(client: Any, path: str) -> str:
    m = CSRF_RE.search(client.get(path).get_data(as_text=True))
    return m.group(1) if m else ""


def _walk(app: Flask, client: Any, ids: dict[str, int], token: str, skip: set[str],
          seen: dict[int, int], headers: dict[str, str]) -> list[str]:
    problems: list[str] = []
    session = _db.session
    state = {"rows": _fingerprint(session)}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in skip or rule.endpoint == "static":
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for values in _path_values(rule, ids):
            url = _url(rule, values)
            if url is None:
                continue
            for method in methods:
                attempts: list[dict[str, Any]] = []
                if method == "GET":
                    attempts.append({"query_string": QUERY})
                else:
                    attempts.append({"data": {**FORM, "csrf_token": token,
                                              "file": (io.BytesIO(b"\x00\xff,,,\n\"unclosed"), "x.csv")},
                                     "content_type": "multipart/form-data"})
                    attempts.extend({"json": body} for body in JSON_BODIES[:3])
                    attempts.append({"data": RAW_BODIES[len(problems) % len(RAW_BODIES)],
                                     "content_type": "application/json"})
                for kwargs in attempts:
                    # Row counts after the previous request are the counts before this one.
                    before = state["rows"]
                    try:
                        r = client.open(url, method=method, headers=headers, **kwargs)
                    except Exception as e:  # noqa: BLE001 - report every failure, not just the first
                        problems.append(f"{method} {url} {list(kwargs)}: raised {type(e).__name__}: {e}")
                        state["rows"] = _fingerprint(session)
                        continue
                    if r.status_code >= 500:
                        snippet = re.sub(r"\s+", " ", r.get_data(as_text=True))[:200]
                        problems.append(f"{method} {url} {list(kwargs)}: {r.status_code} {snippet}")
                    state["rows"] = _fingerprint(session)
                    seen[r.status_code] = seen.get(r.status_code, 0) + 1
                    if r.status_code >= 400 and state["rows"] != before:
                        problems.append(f"{method} {url} {list(kwargs)}: {r.status_code} but rows changed")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("who", IDENTITIES)
def test_every_route_survives_garbage(app, client, auth, users, who):
    skip = {"auth.signout"}  # would end the walk's own session; covered in test_auth
    headers: dict[str, str] = {}
    if who != "anonymous":
        assert auth.as_user(users[who]).status_code == 302
        token = _csrf(client, "/dashboard")
        # The same identity on the API: garbage reaches the API views, not just the 401.
        headers["Authorization"] = "Bearer " + accounts.create_api_token(_db.session, users[who], "garbage")
    else:
        token = _csrf(client, "/auth/signin")
    assert token
    ids = {"panel": users["panel"].id, "user": users["other_citizen"].id, "any": 1}
    seen: dict[int, int] = {}
    problems = _walk(app, client, ids, token, skip, seen, headers)
    print(who, sorted(seen.items()))
    # The walk reached the views, not only the routing/CSRF layers.
    assert sum(n for s, n in seen.items() if s < 300) >= 10, seen
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
