"""With REDIS_URL, rate-limit counters live in Redis, so every server process shares them."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from panel import create_app
from tests.conftest import REDIS_URL, ROOT, base_config, need
from tests.helpers import csrf_token

pytestmark = pytest.mark.redis

# A second server process: same database, same Redis, its own memory.
OTHER_PROCESS = """
import json, re, sys
from panel import create_app
from tests.conftest import base_config
url, redis_url, prefix, email, n = sys.argv[1:6]
app = create_app(base_config(SQLALCHEMY_DATABASE_URI=url, RATELIMIT_STORAGE_URI=redis_url,
                             RATELIMIT_KEY_PREFIX=prefix))
c = app.test_client()
token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/auth/signin").get_data(as_text=True)).group(1)
codes = [c.post("/auth/signin", data={"email": email, "password": "wrong password", "csrf_token": token}).status_code
         for _ in range(int(n))]
print(json.dumps(codes))
"""


@pytest.fixture
def redis_client():
    need(bool(REDIS_URL), "REDIS_URL is not set (Redis tests)")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as e:
        need(False, f"Redis at {REDIS_URL} is not reachable: {e}")
    yield client
    client.close()


def test_signin_limit_is_shared_across_processes(database_url, users, redis_client):
    prefix = f"pnyx-test-{uuid.uuid4().hex[:8]}"
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI=REDIS_URL,
                                 RATELIMIT_KEY_PREFIX=prefix))
    limit = int(app.config["SIGNIN_RATE_LIMIT"].split()[0])
    try:
        c = app.test_client()
        token = csrf_token(c)
        data = {"email": users["admin"].email, "password": "wrong password", "csrf_token": token}
        first = limit - 2
        assert [c.post("/auth/signin", data=data).status_code for _ in range(first)] == [401] * first
        keys = [k.decode() for k in redis_client.scan_iter(match=f"*{prefix}*")]
        assert keys, "no rate-limit counter in Redis"
        assert any("signin" in k for k in keys), keys
        # The other process sees the attempts already made here and refuses after the remainder.
        proc = subprocess.run([sys.executable, "-c", OTHER_PROCESS, database_url, REDIS_URL, prefix,
                               users["admin"].email, "3"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert json.loads(proc.stdout.strip().splitlines()[-1]) == [401, 401, 429]
        # And back here the limit holds too.
        assert c.post("/auth/signin", data=data).status_code == 429
    finally:
        for k in redis_client.scan_iter(match=f"*{prefix}*"):
            redis_client.delete(k)
