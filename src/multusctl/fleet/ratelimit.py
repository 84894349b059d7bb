"""A client-side rate limit (token bucket, like client-go's flowcontrol): `qps` sustained, `burst` at once."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    def __init__(self, qps: float, burst: int) -> None:
        self.qps, self.burst = max(qps, 0.001), max(1, burst)
        self._tokens = float(self.burst)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Wait for a token; the seconds waited."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.qps)
            self._at = now
            self._tokens -= 1
            wait = -self._tokens / self.qps if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
        return wait
