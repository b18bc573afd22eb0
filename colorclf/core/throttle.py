"""A growing delay after repeated failures (wrong teacher passwords), per key.

After ``free`` failures in a row, each further failure makes the key wait ``base`` seconds,
doubled every time, at most ``cap``: guessing becomes hopeless while a teacher who mistypes
twice does not notice. A success clears the key; a key that has waited out ``forget`` seconds
since its last failure starts afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0


class Throttle:
    """Failures per key and how long each key must wait; safe to share between threads."""

    def __init__(
        self,
        *,
        free: int,
        base: float,
        cap: float,
        forget: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.free, self.base, self.cap, self.forget = free, base, cap, forget
        self.clock = clock
        self.max_keys = max_keys
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds ``key`` must still wait before its next try (0: it may try now)."""
        with self._lock:
            record = self._records.get(key)
            return 0.0 if record is None else max(0.0, record.until - self.clock())

    def failed(self, key: str) -> float:
        """Count a failure of ``key``; returns the wait it now has."""
        now = self.clock()
        with self._lock:
            record = self._records.get(key)
            if record is None or now - record.last > self.forget:
                if len(self._records) >= self.max_keys:
                    self._prune(now)
                record = self._records[key] = _Record()
            record.failures += 1
            record.last = now
            if record.failures >= self.free:
                delay = min(self.cap, self.base * 2 ** min(record.failures - self.free, 32))
                record.until = now + delay
            return max(0.0, record.until - now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def __len__(self) -> int:
        """How many keys are remembered (at most ``max_keys``)."""
        return len(self._records)

    def reset(self) -> None:
        """Forget every key."""
        with self._lock:
            self._records.clear()

    def _prune(self, now: float) -> None:
        stale = [k for k, r in self._records.items() if now - r.last > self.forget]
        for key in stale or sorted(self._records, key=lambda k: self._records[k].last)[:1]:
            del self._records[key]
