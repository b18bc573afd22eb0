"""Warm trainer processes (``colorclf.train.worker``) and the server's end of their pipes.

Why a process and not a thread of the server: see ``colorclf.train.worker``. Nothing here
imports TensorFlow; the processes do.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

from colorclf.serve.gate import SHARED_GATE

WORKER_START_SECONDS = 120.0  # importing TensorFlow in a new process: ~5 s idle, more if busy
WORKER_MAX_TASKS = 25  # trainings per worker process before a fresh one replaces it


class WorkerGone(RuntimeError):
    """A trainer process exited or stopped answering."""


_SPAWN_LOCK = threading.Lock()
_BARE_MAIN = types.ModuleType("__main__")  # no __file__, no __spec__: nothing to re-run


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While a trainer process is spawned, hide the page script from ``multiprocessing``.

    ``spawn`` re-runs the parent's ``__main__`` file in every child, and under Streamlit
    ``__main__`` is the page script (or, under AppTest, a generated script that only runs
    inside AppTest): each trainer would import Streamlit and run the page in bare mode, or
    crash. A ``__main__`` guard in ``streamlit_app.py`` protects only that one script, so
    the swap stays. Streamlit re-installs ``__main__`` at the start of every script run, so
    the swap is undone only if nobody replaced it meanwhile.
    """
    with _SPAWN_LOCK:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = _BARE_MAIN
        try:
            yield
        finally:
            if sys.modules.get("__main__") is _BARE_MAIN and saved is not None:
                sys.modules["__main__"] = saved


class Worker:
    """One trainer process (``train.worker.worker_main``) and the server's end of its pipe."""

    def __init__(self, context: Any) -> None:
        from colorclf.train.worker import worker_main

        self.conn, child = context.Pipe()
        self.stop_event = context.Event()
        self.process = context.Process(
            target=worker_main, args=(child, self.stop_event), name="colorclf-trainer", daemon=True
        )
        with _main_script_hidden():
            self.process.start()
        child.close()
        self.tasks = 0
        self.ready = False  # only the job holding the worker reads or sets it

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def wait_ready(self, abort: Callable[[], bool], timeout: float = WORKER_START_SECONDS) -> bool:
        """Wait for the "ready" message (TensorFlow imported); False if ``abort()`` turned true."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            if abort():
                return False
            if time.monotonic() > deadline:
                raise WorkerGone(f"the trainer process did not start within {timeout:.0f} s")
            if self.conn.poll(0.1):
                try:
                    message = self.conn.recv()
                except (EOFError, OSError):  # a closed pipe polls as readable
                    self.process.join(timeout=1)
                    raise self._exited_at_start() from None
                if message[0] != "ready":
                    raise WorkerGone(f"the trainer process said {message[0]!r} at start")
                self.ready = True
            elif not self.process.is_alive():
                raise self._exited_at_start()
        return True

    def _exited_at_start(self) -> WorkerGone:
        return WorkerGone(f"the trainer process exited at start (code {self.process.exitcode})")

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(("exit",))
        self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


class TrainerPool:
    """Warm trainer processes, handed to one job at a time (the ``FairGate`` bounds how many
    train at once, so the pool never holds more busy workers than the gate's limit).

    A worker retires after ``max_tasks`` trainings and a fresh one takes its place: whatever
    TensorFlow keeps per fitted model is given back with the process, so a server that runs
    all term does not grow.
    """

    def __init__(self, limit: int, max_tasks: int = WORKER_MAX_TASKS) -> None:
        import multiprocessing

        self._context = multiprocessing.get_context("spawn")
        self.limit = max(1, limit)
        self.max_tasks = max_tasks
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._lock = threading.Lock()
        self._closing = False
        # At exit, wait for a spawn in progress and start no more: a child whose parent
        # died while handing it its start-up data printed a traceback into the server log.
        atexit.register(self._close_at_exit)

    def _close_at_exit(self) -> None:
        with self._lock:
            self._closing = True

    def _drop_dead_idle(self) -> None:
        """With the lock held: forget idle workers whose process has exited."""
        self._idle = [w for w in self._idle if w.process.is_alive()]

    def _spawn_spare(self) -> None:
        """With the lock held: one idle worker warming up, if there is room for it."""
        self._drop_dead_idle()
        if not self._closing and not self._idle and len(self._busy) < self.limit:
            self._idle.append(Worker(self._context))

    def prestart(self) -> None:
        """Start a worker now (it warms up in its own process) unless an idle one exists."""
        with self._lock:
            self._spawn_spare()

    def acquire(self, abort: Callable[[], bool]) -> Worker | None:
        """An idle worker, ready to train; None if ``abort()`` turned true while it started.

        A second worker is started only on demand or when the pool is quiet (``release``):
        importing TensorFlow takes a core for ~5 s, which a running training would feel.
        """
        with self._lock:
            self._drop_dead_idle()
            worker = self._idle.pop(0) if self._idle else Worker(self._context)
            self._busy.add(worker)
        try:
            ready = worker.wait_ready(abort)
        except WorkerGone:
            self.release(worker, healthy=False)
            raise
        if not ready:
            self.release(worker)
        return worker if ready else None

    def release(self, worker: Worker, *, healthy: bool = True) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = healthy and worker.tasks < self.max_tasks and worker.process.is_alive()
            if keep:
                self._idle.insert(0, worker)
            elif not self._busy:
                self._spawn_spare()  # a replacement, while nobody trains
        if not keep:
            threading.Thread(target=worker.close, daemon=True).start()

    def pids(self) -> list[int]:
        """The trainer processes' ids (for the benchmarks' memory figures)."""
        with self._lock:
            return [w.pid for w in [*self._idle, *self._busy] if w.pid is not None]

    def shutdown(self) -> None:
        with self._lock:
            workers = [*self._idle, *self._busy]
            self._idle, self._busy = [], set()
        for worker in workers:
            worker.close()


SHARED_POOL = TrainerPool(SHARED_GATE.limit)
