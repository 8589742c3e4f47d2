"""Configuration read from the environment.

Every setting has a safe development default so ``make run`` works on a fresh machine;
production deployments set ``SECRET_KEY`` and ``DATABASE_URL`` explicitly.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _default_secret() -> str:
    """A per-install secret kept in instance/ so sessions survive restarts in development."""
    path = INSTANCE_DIR / "secret_key"
    try:
        INSTANCE_DIR.mkdir(exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()
    except OSError:
        return secrets.token_hex(32)


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'pnyx.sqlite3'}"
    # Accept the common Heroku-style scheme and make psycopg 3 the driver.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or _default_secret()
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    PORT = int(os.environ.get("PORT", "5000"))
    # Uploads (pool CSVs) are the largest legitimate bodies; 8 MiB holds ~50,000 volunteers.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024)))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "").lower() in {"1", "true", "yes"}
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # Behind a TLS-terminating proxy set PROXY_FIX=1 so X-Forwarded-Proto marks cookies Secure.
    PROXY_FIX = os.environ.get("PROXY_FIX", "").lower() in {"1", "true", "yes"}
    BASE_URL = os.environ.get("BASE_URL", "")
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ["en", "fr", "es", "ar", "zh", "ru"]
    RTL_LANGUAGES = {"ar", "fa", "he", "ur"}
    # Argon2id cost (argon2-cffi's RFC 9106 low-memory profile by default).
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "3"))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", "65536"))
    ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "4"))
    MAGIC_LINK_TTL_HOURS = int(os.environ.get("MAGIC_LINK_TTL_HOURS", "72"))
    SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "10 per minute")
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "300 per minute")
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Pnyx <no-reply@pnyx.local>")
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    LOG_JSON = os.environ.get("LOG_JSON", "1") != "0"
    # Server processes (wsgi.py, python -m deliberation serve): after start-up, move every object
    # into the collector's permanent generation and collect young objects less often (see
    # panel/gc_tuning.py and docs/realtime.md). GC_FREEZE=0 keeps CPython's defaults.
    GC_FREEZE = os.environ.get("GC_FREEZE", "1").lower() not in {"0", "false", "no", "off"}
    GC_THRESHOLD = os.environ.get("GC_THRESHOLD", "50000,20,100")
    # In-process workers started by the first request (panel/services/background.py); set to 0 when
    # separate `flask jobs work` / `flask outbox work` processes do the work.
    JOBS_WORKER_THREAD = os.environ.get("JOBS_WORKER_THREAD", "1").lower() not in {"0", "false", "no", "off"}
    OUTBOX_WORKER_THREAD = os.environ.get("OUTBOX_WORKER_THREAD", "1").lower() not in {"0", "false", "no", "off"}
    OUTBOX_INTERVAL = float(os.environ.get("OUTBOX_INTERVAL", "5"))
    TESTING = False


class TestConfig(Config):
    TESTING = True
    JOBS_WORKER_THREAD = False  # tests drive jobs and the outbox themselves
    OUTBOX_WORKER_THREAD = False
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = True
    SIGNIN_RATE_LIMIT = "5 per minute"
    # Cheap hashing keeps the suite fast; the algorithm and code path are the production ones.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    SERVER_NAME = "localhost.localdomain"
