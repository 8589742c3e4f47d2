"""Configuration comes from the environment with safe defaults; create_app takes a dict or a class."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from panel import create_app
from panel.config import INSTANCE_DIR, Config, TestConfig, _database_url
from tests.conftest import ROOT, base_config

PROBE = ("import json; from panel.config import Config as C; print(json.dumps({k: getattr(C, k) for k in "
         "['SQLALCHEMY_DATABASE_URI', 'SECRET_KEY', 'REDIS_URL', 'PORT', 'MAX_CONTENT_LENGTH', "
         "'SESSION_COOKIE_SECURE', 'PROXY_FIX', 'SIGNIN_RATE_LIMIT']}))")


def _config_with(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "PORT", "MAX_CONTENT_LENGTH",
                          "SESSION_COOKIE_SECURE", "PROXY_FIX", "SIGNIN_RATE_LIMIT")}
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(proc.stdout)


def test_environment_is_read():
    cfg = _config_with(DATABASE_URL="postgres://u:p@db.example:5432/pnyx", SECRET_KEY="s3cret",
                       REDIS_URL="redis://cache:6379/1", PORT="8123", MAX_CONTENT_LENGTH="1024",
                       SESSION_COOKIE_SECURE="true", PROXY_FIX="1", SIGNIN_RATE_LIMIT="3 per hour")
    assert cfg == {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u:p@db.example:5432/pnyx",
        "SECRET_KEY": "s3cret", "REDIS_URL": "redis://cache:6379/1", "PORT": 8123, "MAX_CONTENT_LENGTH": 1024,
        "SESSION_COOKIE_SECURE": True, "PROXY_FIX": True, "SIGNIN_RATE_LIMIT": "3 per hour",
    }


def test_defaults_work_on_a_fresh_machine():
    cfg = _config_with()
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{INSTANCE_DIR / 'pnyx.sqlite3'}"
    assert len(cfg["SECRET_KEY"]) >= 32  # generated and kept in instance/
    assert cfg["SECRET_KEY"] == _config_with()["SECRET_KEY"]
    assert cfg["REDIS_URL"] is None and cfg["PORT"] == 5000
    assert cfg["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024
    assert cfg["SESSION_COOKIE_SECURE"] is False and cfg["PROXY_FIX"] is False


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://h/db", "postgresql+psycopg://h/db"),
    ("postgresql://h/db", "postgresql+psycopg://h/db"),
    ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),
    ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ("  sqlite://  ", "sqlite://"),
])
def test_database_url_normalised(monkeypatch, given, expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert _database_url() == expected


def test_cookie_and_size_defaults_are_safe():
    assert Config.SESSION_COOKIE_HTTPONLY and Config.SESSION_COOKIE_SAMESITE == "Lax"
    assert Config.REMEMBER_COOKIE_HTTPONLY
    assert TestConfig.TESTING and TestConfig.WTF_CSRF_ENABLED  # tests exercise CSRF, not bypass it


def test_create_app_accepts_a_dict_or_a_class(database_url):
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, PORT=9999))
    assert app.config["PORT"] == 9999 and app.config["TESTING"]

    class Custom(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_STORAGE_URI = "memory://"
        REDIS_URL = None
        SOCKETIO_USE_QUEUE = False

    app = create_app(Custom)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_rate_limit_storage_follows_redis_url(database_url):
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI=None,
                                 REDIS_URL="redis://127.0.0.1:6379/15"))
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI=None))
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
