"""The fair queue shared by every session: at most one training per core at a time, and no
more than the container's memory limit holds."""

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


# Resident memory measured on this app (docs/HOSTING.md): the web server, and one trainer
# process with TensorFlow loaded and a default run training.
SERVER_MB = 190
TRAINER_MB = 620
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


def trainings_that_fit(cores: int, memory_bytes: int | None) -> int:
    """One training per core, but no more trainer processes than the memory limit holds
    beside the web server (never fewer than one: students then queue)."""
    if memory_bytes is None:
        return max(1, cores)
    room = memory_bytes // (1024 * 1024) - SERVER_MB
    return max(1, min(cores, room // TRAINER_MB))


def _default_limit() -> int:
    configured = os.environ.get("COLORCLF_MAX_TRAININGS")
    if configured and configured.isdigit():
        return max(1, int(configured))
    affinity = getattr(os, "sched_getaffinity", None)  # Linux: the cores this process may use
    cores = len(affinity(0)) if affinity else os.cpu_count() or 1
    return trainings_that_fit(cores, memory_limit_bytes())


SHARED_GATE = FairGate(_default_limit())
