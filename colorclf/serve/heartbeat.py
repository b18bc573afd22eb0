"""Whether a session's page still runs: a job whose session stopped stamping its heartbeat (the
tab was closed) stops itself, so no training outlives its session."""

from __future__ import annotations

import time
from collections.abc import Callable


class Heartbeat:
    """When the page last ran for a session: the page stamps it (``beat``) at every page run
    and every live-panel frame; ``alive`` says whether that was recent.

    A session whose tab was closed stops stamping. A hidden tab's timers still fire, but
    Chrome slows a tab hidden for five minutes to one timer a minute, hence the grace.
    """

    def __init__(
        self, grace_seconds: float = 90.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.grace_seconds = grace_seconds
        self._clock = clock
        self._last = clock()

    def beat(self) -> None:
        self._last = self._clock()

    def alive(self) -> bool:
        return self._clock() - self._last < self.grace_seconds
