"""Warm trainer processes (``python -m colorclf.train.worker``) and the server's end of
their connections.

Why a process and not a thread of the server: see ``colorclf.train.worker``. Why a program
of its own, started with ``subprocess``, and not ``multiprocessing``'s ``spawn``: ``spawn``
re-runs the parent's ``__main__`` in every child, and under Streamlit that is the page script
(under AppTest a generated script that runs only inside AppTest); a ``__main__`` guard would
protect only ``streamlit_app.py``. The trainer talks to the server over a
``multiprocessing.connection`` (a ``Listener`` on a Unix socket in a private temporary
folder, a random key); its standard input brings the address and key, then the stops, and
its closing tells the trainer that the server is gone. Nothing here imports TensorFlow; the
processes do.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, Listener
from pathlib import Path

import colorclf
from colorclf.serve.gate import SHARED_GATE

WORKER_START_SECONDS = 120.0  # importing TensorFlow in a new process: ~5 s idle, more if busy
WORKER_MAX_TASKS = 25  # tasks per worker process before a fresh one replaces it
WORKER_PROGRAM = ("-m", "colorclf.train.worker")
# The folder that holds the colorclf package: the trainer imports it from there, wherever the
# server was started (Streamlit puts the page script's folder on sys.path, not on PYTHONPATH).
_PACKAGE_ROOT = str(Path(colorclf.__file__).resolve().parent.parent)


class WorkerGone(RuntimeError):
    """A trainer process exited or stopped answering."""


def _worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    paths = [_PACKAGE_ROOT, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


class Worker:
    """One trainer process and the server's end of its connection (``conn``, once the trainer
    has connected: ``wait_ready`` waits for that)."""

    def __init__(self) -> None:
        key = secrets.token_bytes(32)
        self._listener = Listener(family="AF_UNIX", authkey=key)
        self._address = str(self._listener.address)
        self.conn: Connection | None = None
        self._connected = threading.Event()
        self._closed = False
        self._control_lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, *WORKER_PROGRAM],
            stdin=subprocess.PIPE,
            env=_worker_environment(),
        )
        assert self.process.stdin is not None
        self._control = self.process.stdin
        with contextlib.suppress(OSError):  # a trainer that died at once: wait_ready says so
            self._control.write(f"{self._address}\n{key.hex()}\n".encode())
            self._control.flush()
        os.set_blocking(self._control.fileno(), False)  # a stop never blocks the page
        threading.Thread(target=self._accept, name="colorclf-accept", daemon=True).start()
        self.tasks = 0
        self.ready = False  # only the job holding the worker reads or sets it

    def _accept(self) -> None:
        """Accept the trainer's connection (another local process without the key is
        refused and the listener waits on); stop when the worker is closed first."""
        failures = 0
        try:
            while not self._closed and failures < 10:
                try:
                    conn = self._listener.accept()
                except (OSError, EOFError, AuthenticationError):
                    failures += 1
                    continue
                if self._closed:
                    conn.close()
                else:
                    self.conn = conn
                return
        finally:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._connected.set()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()

    def begin_task(self) -> int:
        """Count a task about to be sent; its number, for ``stop_task``."""
        self.tasks += 1
        return self.tasks

    def stop_task(self, task: int) -> None:
        """Ask the trainer to stop task ``task`` after its current batch (or as soon as it
        arrives). Never blocks: a trainer that does not read its stops is caught by the
        job's deadlines."""
        with self._control_lock:
            if self._control.closed:
                return
            with contextlib.suppress(OSError, ValueError):
                os.write(self._control.fileno(), f"stop {task}\n".encode())

    def wait_ready(self, abort: Callable[[], bool], timeout: float = WORKER_START_SECONDS) -> bool:
        """Wait for the "ready" message (TensorFlow imported); False if ``abort()`` turned true."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            if abort():
                return False
            if time.monotonic() > deadline:
                raise WorkerGone(f"the trainer process did not start within {timeout:.0f} s")
            conn = self.conn
            if conn is None:
                if self._connected.wait(0.1) and self.conn is None:
                    raise self._exited_at_start()
                if self.conn is None and not self.alive():
                    raise self._exited_at_start()
                continue
            if conn.poll(0.1):
                try:
                    message = conn.recv()
                except (EOFError, OSError):  # a closed connection polls as readable
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.process.wait(timeout=1)
                    raise self._exited_at_start() from None
                if message[0] != "ready":
                    raise WorkerGone(f"the trainer process said {message[0]!r} at start")
                self.ready = True
            elif not self.alive():
                raise self._exited_at_start()
        return True

    def _exited_at_start(self) -> WorkerGone:
        if self.alive():
            return WorkerGone("the trainer process could not connect to the server")
        return WorkerGone(f"the trainer process exited at start (code {self.exit_code})")

    def kill(self) -> None:
        """SIGKILL (it ends a stopped process too), and reap it."""
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def close(self) -> None:
        """Say exit, close both channels (the trainer exits when its standard input closes,
        whatever it is doing) and make sure the process is gone."""
        self._closed = True
        conn = self.conn
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send(("exit",))
        with self._control_lock, contextlib.suppress(OSError):
            self._control.close()
        if conn is not None:
            conn.close()
        elif not self._connected.is_set():
            self._wake_accept()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def _wake_accept(self) -> None:
        """A bare connection (no key) makes the listener's ``accept`` return, so its thread
        ends when the trainer never connected."""
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
            probe.connect(self._address)


class TrainerPool:
    """Warm trainer processes, handed to one job at a time (the ``FairGate`` bounds how many
    train at once, so the pool never holds more busy workers than the gate's limit).

    A worker retires after ``max_tasks`` trainings and a fresh one takes its place: whatever
    TensorFlow keeps per fitted model is given back with the process, so a server that runs
    all term does not grow.
    """

    def __init__(self, limit: int, max_tasks: int = WORKER_MAX_TASKS) -> None:
        self.limit = max(1, limit)
        self.max_tasks = max_tasks
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._lock = threading.Lock()
        self._closing = False
        # At exit, wait for a start in progress, start no more, and end every trainer (each
        # would notice its closed standard input anyway): no process outlives the server.
        atexit.register(self._close_at_exit)

    def _close_at_exit(self) -> None:
        with self._lock:
            self._closing = True
        self.shutdown()

    def _drop_dead_idle(self) -> None:
        """With the lock held: forget (and close) idle workers whose process has exited."""
        dead = [w for w in self._idle if not w.alive()]
        self._idle = [w for w in self._idle if w not in dead]
        for worker in dead:
            worker.close()  # quick: the process is gone

    def _spawn_spare(self) -> None:
        """With the lock held: one idle worker warming up, if there is room for it."""
        self._drop_dead_idle()
        if not self._closing and not self._idle and len(self._busy) < self.limit:
            self._idle.append(Worker())

    def prestart(self) -> None:
        """Start a worker now (it warms up in its own process) unless an idle one exists."""
        with self._lock:
            self._spawn_spare()

    def acquire(self, abort: Callable[[], bool]) -> Worker | None:
        """An idle worker, ready for a task; None if ``abort()`` turned true while it started.

        A second worker is started only on demand or when the pool is quiet (``release``):
        importing TensorFlow takes a core for ~5 s, which a running training would feel.
        """
        with self._lock:
            self._drop_dead_idle()
            worker = self._idle.pop(0) if self._idle else Worker()
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
        """Take a worker back: kept warm if it is healthy, not due for retirement, and the
        pool has room for it (a model-file check borrows a worker outside the trainings'
        gate, so a check and full trainings can briefly hold one more than ``limit``)."""
        with self._lock:
            self._busy.discard(worker)
            room = len(self._idle) + len(self._busy) < self.limit
            keep = healthy and room and worker.tasks < self.max_tasks and worker.alive()
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
