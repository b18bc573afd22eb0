"""The fair queue shared by every session: every run trains at once (the trainer takes them in
turns), except where the container's memory limit would run out; the rest then wait in
first-come order."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable


class FairGate:
    """At most ``limit`` trainings at once; the rest wait in first-come order, and the page
    shows their place."""

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


# Resident memory measured on this app (docs/HOSTING.md): the web server, the trainer process
# with TensorFlow loaded, and what one more active run adds to the two (its model, data and
# rows; bench/bench_class.py --part class).
SERVER_MB = 190
TRAINER_MB = 620
RUN_MB = 8
MAX_RUNS = 200  # without a memory limit: a bound all the same
_NO_LIMIT = 1 << 60  # cgroup v1 writes "no limit" as a huge number, v2 as "max"


def _read_limit(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    if not text.isdigit() or int(text) >= _NO_LIMIT:
        return None
    return int(text)


def memory_limit_bytes(
    proc_cgroup: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup"
) -> int | None:
    """This process's cgroup memory limit (v2 ``memory.max``, else v1
    ``memory.limit_in_bytes``), or None when there is none: a container on a small host
    (Community Cloud: ~1-2.7 GB) sees its own limit here, not the machine's memory."""
    try:
        with open(proc_cgroup, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        lines = []
    candidates = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, path = parts[1], parts[2].strip().strip("/")
        inside = f"/{path}" if path else ""
        if controllers == "":  # v2: the unified hierarchy
            candidates.append(f"{root}{inside}/memory.max")
        elif "memory" in controllers.split(","):
            candidates.append(f"{root}/memory{inside}/memory.limit_in_bytes")
    candidates += [f"{root}/memory.max", f"{root}/memory/memory.limit_in_bytes"]
    limits = [limit for limit in map(_read_limit, candidates) if limit is not None]
    return min(limits) if limits else None


def trainings_that_fit(memory_bytes: int | None) -> int:
    """How many runs may train at once: as many as the memory limit holds beside the web
    server and the trainer process (never fewer than one: students then queue)."""
    if memory_bytes is None:
        return MAX_RUNS
    room = memory_bytes // (1024 * 1024) - SERVER_MB - TRAINER_MB
    return max(1, min(MAX_RUNS, room // RUN_MB))


def _default_limit() -> int:
    configured = os.environ.get("COLORCLF_MAX_TRAININGS")
    if configured and configured.isdigit():
        return max(1, int(configured))
    return trainings_that_fit(memory_limit_bytes())


SHARED_GATE = FairGate(_default_limit())
