"""Flood protection: a token bucket per user and action, kept in the process's memory.

Each socket lives in one process, so a per-process bucket bounds what one connection can send;
a user with connections on several processes gets one bucket per process, which is acceptable.
"""

from __future__ import annotations

import threading
import time

from panel.errors import ServiceError


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self._state: dict[tuple[int, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, user_id: int, action: str = "message") -> None:
        now = time.monotonic()
        key = (user_id, action)
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                self._state[key] = (tokens, now)
                raise RateLimited("You are sending too fast; wait a moment and try again.", field="body")
            self._state[key] = (tokens - 1, now)
            if len(self._state) > 50_000:  # forget idle users so memory stays bounded
                self._state = {k: v for k, v in self._state.items() if now - v[1] < 60}
