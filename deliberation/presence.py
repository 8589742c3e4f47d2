"""Who is connected to which room, shared by every server process.

With Redis (the same one that carries the Socket.IO message queue) presence is a hash per room
(``sid`` → person) plus a heartbeat key per server process; entries of a process whose heartbeat
expired (it crashed) are dropped when read, so a killed process does not leave ghosts. Without
Redis there is one process and presence lives in its memory.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from typing import Any

HEARTBEAT_S = 5
HOST_TTL_S = 15


class Presence:
    def __init__(self, redis_url: str | None = None, prefix: str = "pnyx") -> None:
        self.prefix = prefix
        self.host = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._rooms: dict[int, dict[str, dict[str, Any]]] = {}
        self._sid_rooms: dict[str, set[int]] = {}
        self._redis: Any = None
        self._beating = False
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2)

    # -- heartbeat -----------------------------------------------------------------------------
    def start(self, start_background_task: Any, sleep: Any) -> None:
        if self._redis is None or self._beating:
            return
        self._beating = True
        self._beat()
        start_background_task(self._heartbeat_loop, sleep)

    def _beat(self) -> None:
        try:
            self._redis.set(f"{self.prefix}:host:{self.host}", "1", ex=HOST_TTL_S)
        except Exception:  # noqa: BLE001 - Redis down: presence degrades, rooms keep working
            pass

    def _heartbeat_loop(self, sleep: Any) -> None:
        while True:
            self._beat()
            sleep(HEARTBEAT_S)

    # -- updates -------------------------------------------------------------------------------
    def add(self, room_id: int, sid: str, person: dict[str, Any]) -> None:
        with self._lock:
            self._rooms.setdefault(room_id, {})[sid] = person
            self._sid_rooms.setdefault(sid, set()).add(room_id)
        if self._redis is not None:
            try:
                self._redis.hset(f"{self.prefix}:presence:{room_id}", sid, json.dumps({**person, "host": self.host}))
            except Exception:  # noqa: BLE001
                pass

    def remove(self, room_id: int, sid: str) -> None:
        with self._lock:
            self._rooms.get(room_id, {}).pop(sid, None)
            self._sid_rooms.get(sid, set()).discard(room_id)
        if self._redis is not None:
            try:
                self._redis.hdel(f"{self.prefix}:presence:{room_id}", sid)
            except Exception:  # noqa: BLE001
                pass

    def drop_sid(self, sid: str) -> list[int]:
        """Forget a disconnected socket; returns the rooms it was in."""
        with self._lock:
            rooms = sorted(self._sid_rooms.pop(sid, set()))
        for room_id in rooms:
            self.remove(room_id, sid)
        return rooms

    def rooms_of(self, sid: str) -> set[int]:
        with self._lock:
            return set(self._sid_rooms.get(sid, set()))

    # -- reads ---------------------------------------------------------------------------------
    def entries(self, room_id: int) -> dict[str, dict[str, Any]]:
        """sid → person for everyone connected to the room on any live process."""
        if self._redis is None:
            with self._lock:
                return dict(self._rooms.get(room_id, {}))
        try:
            raw = self._redis.hgetall(f"{self.prefix}:presence:{room_id}")
            data = {sid: json.loads(v) for sid, v in raw.items()}
            hosts = sorted({p.get("host", "") for p in data.values()})
            alive = dict(zip(hosts, self._redis.mget([f"{self.prefix}:host:{h}" for h in hosts]), strict=True)) if hosts else {}
            dead = [sid for sid, p in data.items() if not alive.get(p.get("host", ""))]
            if dead:
                self._redis.hdel(f"{self.prefix}:presence:{room_id}", *dead)
            return {sid: p for sid, p in data.items() if sid not in dead}
        except Exception:  # noqa: BLE001
            with self._lock:
                return dict(self._rooms.get(room_id, {}))

    def people(self, room_id: int) -> tuple[list[dict[str, Any]], int]:
        """(participants, one entry per user, by name; number of observers)."""
        seen: dict[int, dict[str, Any]] = {}
        observers: set[int] = set()
        for p in self.entries(room_id).values():
            if p.get("observer"):
                observers.add(p["user_id"])
            else:
                seen[p["user_id"]] = {"user_id": p["user_id"], "name": p["name"], "role": p.get("role")}
        return sorted(seen.values(), key=lambda x: (x["name"], x["user_id"])), len(observers - set(seen))

    def sids_of_user(self, room_id: int, user_id: int) -> list[str]:
        return [sid for sid, p in self.entries(room_id).items() if p.get("user_id") == user_id]

    def user_online(self, room_id: int, user_id: int) -> bool:
        return bool(self.sids_of_user(room_id, user_id))
