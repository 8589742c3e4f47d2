"""Presence shared through Redis: one list for all processes, and a dead process leaves no ghosts."""

from __future__ import annotations

import uuid

import pytest

from deliberation.presence import Presence
from tests.conftest import REDIS_URL, need


def test_memory_presence_one_entry_per_person():
    p = Presence()
    p.add(1, "s1", {"user_id": 7, "name": "Ama", "role": "citizen", "observer": False})
    p.add(1, "s2", {"user_id": 7, "name": "Ama", "role": "citizen", "observer": False})
    p.add(1, "s3", {"user_id": 9, "name": "Obs", "role": "observer", "observer": True})
    people, observers = p.people(1)
    assert [x["user_id"] for x in people] == [7] and observers == 1
    assert p.drop_sid("s1") == [1]
    assert p.user_online(1, 7)
    p.drop_sid("s2")
    assert not p.user_online(1, 7)


@pytest.mark.redis
def test_redis_presence_across_processes_and_dead_hosts():
    need(bool(REDIS_URL), "REDIS_URL is needed for shared presence")
    prefix = f"pnyx-test-{uuid.uuid4().hex[:8]}"
    a, b = Presence(REDIS_URL, prefix=prefix), Presence(REDIS_URL, prefix=prefix)
    a._beat()
    b._beat()
    a.add(5, "sa", {"user_id": 1, "name": "A", "role": "citizen", "observer": False})
    b.add(5, "sb", {"user_id": 2, "name": "B", "role": "citizen", "observer": False})
    assert {p["user_id"] for p in a.people(5)[0]} == {1, 2}
    b._redis.delete(f"{prefix}:host:{b.host}")  # process b crashed: its heartbeat expires
    assert {p["user_id"] for p in a.people(5)[0]} == {1}
    a._redis.delete(f"{prefix}:presence:5", f"{prefix}:host:{a.host}")
