"""The fair queue shared by every session: at most one training per core at a time."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable


class FairGate:
    """At most ``limit`` trainings at once; the rest wait in first-come order.

    With 2 cores, thirty simultaneous fits only slow each other down and multiply memory;
    a queue finishes everyone's run no later on average, and the page can show the position.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._cond = threading.Condition()
        self._waiting: deque[object] = deque()
        self._active = 0

    def acquire(self, ticket: object, abort: Callable[[], bool]) -> bool:
        """Wait for a slot; False if ``abort()`` turned true while waiting."""
        with self._cond:
            self._waiting.append(ticket)
            try:
                while not (self._waiting[0] is ticket and self._active < self.limit):
                    if abort():
                        return False
                    self._cond.wait(timeout=0.2)
                self._active += 1
                return True
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    def position(self, ticket: object) -> int | None:
        """1-based place in the queue, or None when not waiting."""
        with self._cond:
            for index, waiting in enumerate(self._waiting):
                if waiting is ticket:
                    return index + 1
        return None

    @property
    def active(self) -> int:
        return self._active


def _default_limit() -> int:
    configured = os.environ.get("COLORCLF_MAX_TRAININGS")
    if configured and configured.isdigit():
        return int(configured)
    return os.cpu_count() or 1


SHARED_GATE = FairGate(_default_limit())
