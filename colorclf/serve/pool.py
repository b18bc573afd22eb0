"""The trainer process (``python -m colorclf.train.worker``) and the server's end of its
connection.

One trainer serves every session's runs at once (its scheduler takes them in turns), so the
pool normally holds one process: TensorFlow costs ~570 MB a process, and one process keeps
every core busy. Each request to it (a training, a model-file check) is a task with a number;
the ``Worker``'s reader thread hands every message to its task's ``TaskChannel``, which is the
one exchange loop both ``serve.job`` and ``serve.modelcheck`` use: the request is sent in a
thread of its own (a large one blocks until the trainer reads it, and a stopped trainer never
does), ``receive`` waits for the next message, and a trainer that exits or whose send failed
ends every channel with ``EOFError``.

Why a program of its own, started with ``subprocess``, and not ``multiprocessing``'s
``spawn``: ``spawn`` re-runs the parent's ``__main__`` in every child, and under Streamlit that
is the page script (under AppTest a generated script that runs only inside AppTest). The
trainer talks to the server over a ``multiprocessing.connection`` (a ``Listener`` on a Unix
socket in a private temporary folder, a random key); its standard input brings the address
and key, then the stops, and its closing tells the trainer that the server is gone. Nothing
here imports TensorFlow; the trainer does.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import queue
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
from colorclf.core.protocol import Alive, Check, Ready, Save, TaskMessage, Train

WORKER_START_SECONDS = 120.0  # importing TensorFlow in a new process: ~5 s idle, more if busy
WORKER_MAX_TASKS = 500  # tasks before an idle trainer is replaced by a fresh process
WORKER_PROGRAM = ("-m", "colorclf.train.worker")
# The folder that holds the colorclf package: the trainer imports it from there, wherever the
# server was started (Streamlit puts the page script's folder on sys.path, not on PYTHONPATH).
_PACKAGE_ROOT = str(Path(colorclf.__file__).resolve().parent.parent)
_GONE = object()  # a channel's end: the trainer exited or the request could not be sent


class WorkerGone(RuntimeError):
    """A trainer process exited or stopped answering."""


def _worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    paths = [_PACKAGE_ROOT, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


class TaskChannel:
    """One task on a trainer: its messages in order (``receive``), and its Stop."""

    def __init__(self, worker: Worker, number: int) -> None:
        self.worker = worker
        self.number = number
        self.progressed = time.monotonic()  # when this task last said something
        self._messages: queue.SimpleQueue[object] = queue.SimpleQueue()

    def put(self, message: object) -> None:
        self._messages.put(message)

    def receive(self, timeout: float) -> TaskMessage | None:
        """The task's next message, or None after ``timeout`` seconds of silence; EOFError
        once the trainer is gone."""
        try:
            message = self._messages.get(timeout=timeout)
        except queue.Empty:
            if not self.worker.alive():
                raise EOFError from None
            return None
        if message is _GONE:
            raise EOFError
        self.progressed = time.monotonic()
        return message  # type: ignore[return-value]

    def stop(self) -> None:
        self.worker.stop_task(self.number)

    def close(self) -> None:
        self.worker.forget(self.number)


class Worker:
    """The trainer process and the server's end of its connection (``conn``, once the trainer
    has connected: ``wait_ready`` waits for that)."""

    def __init__(self) -> None:
        key = secrets.token_bytes(32)
        self._listener = Listener(family="AF_UNIX", authkey=key)
        self._address = str(self._listener.address)
        self.conn: Connection | None = None
        self._ready_event = threading.Event()  # ready, or gone before it was
        self.ready = False
        self._gone = False
        self._closed = False
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._channels: dict[int, TaskChannel] = {}
        self._numbers = itertools.count(1)
        self.last_heard = time.monotonic()  # any message, heartbeats included
        self.tasks = 0
        self.load = 0  # tasks handed out by the pool and not yet released
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
        threading.Thread(
            target=self._connect_and_read, name="colorclf-trainer", daemon=True
        ).start()

    # ----- the reader thread -----------------------------------------------------------
    def _connect_and_read(self) -> None:
        conn = self._accept()
        if conn is not None:
            self.conn = conn
            with contextlib.suppress(EOFError, OSError):
                while True:
                    self._route(conn.recv())
        with self._lock:
            self._gone = True
            channels = list(self._channels.values())
        for channel in channels:
            channel.put(_GONE)
        self._ready_event.set()

    def _accept(self) -> Connection | None:
        """The trainer's connection (another local process without the key is refused and the
        listener waits on); None when the worker is closed first."""
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
                    return None
                return conn
            return None
        finally:
            with contextlib.suppress(OSError):
                self._listener.close()

    def _route(self, message: object) -> None:
        self.last_heard = time.monotonic()
        if isinstance(message, Ready):
            self.ready = True
            self._ready_event.set()
        elif not isinstance(message, Alive):
            channel = self._channels.get(getattr(message, "task", -1))
            if channel is not None:  # a forgotten task's late words are dropped
                channel.put(message)

    # ----- tasks -----------------------------------------------------------------------
    def submit(self, make: type[Train] | type[Check] | type[Save], work: object) -> TaskChannel:
        """Send ``make(number, work)`` in a thread of its own; the task's channel."""
        with self._lock:
            number = next(self._numbers)
            channel = self._channels[number] = TaskChannel(self, number)
            gone = self._gone
            self.tasks += 1
        if gone:
            channel.put(_GONE)
            return channel

        def send() -> None:
            try:
                with self._send_lock:
                    self.conn.send(make(number, work))  # type: ignore[union-attr, arg-type]
            except (OSError, ValueError, AttributeError):
                channel.put(_GONE)

        threading.Thread(target=send, name="colorclf-send", daemon=True).start()
        return channel

    def forget(self, number: int) -> None:
        with self._lock:
            self._channels.pop(number, None)

    def stop_task(self, number: int) -> None:
        """Ask the trainer to stop task ``number`` after its current batch (or as soon as it
        arrives). Never blocks: a trainer that does not read its stops is caught by the
        job's deadlines."""
        with self._lock:
            if self._control.closed:
                return
            with contextlib.suppress(OSError, ValueError):
                os.write(self._control.fileno(), f"stop {number}\n".encode())

    # ----- the process -----------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None and not self._gone

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()

    def wait_ready(self, abort: Callable[[], bool], timeout: float = WORKER_START_SECONDS) -> bool:
        """Wait for the ``Ready`` message (TensorFlow imported); False if ``abort()`` turned
        true first."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            if abort():
                return False
            if time.monotonic() > deadline:
                raise WorkerGone(f"the trainer process did not start within {timeout:.0f} s")
            if (self._ready_event.wait(0.1) and not self.ready) or self.process.poll() is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=1)
                raise self._exited_at_start()
        return True

    def _exited_at_start(self) -> WorkerGone:
        if self.process.poll() is None:
            return WorkerGone("the trainer process could not connect to the server")
        return WorkerGone(f"the trainer process exited at start (code {self.exit_code})")

    def kill(self) -> None:
        """SIGKILL (it ends a stopped process too), and reap it."""
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def close(self) -> None:
        """Close both channels (the trainer exits when its standard input closes, whatever
        it is doing) and make sure the process is gone."""
        self._closed = True
        with self._lock, contextlib.suppress(OSError):
            self._control.close()
        conn = self.conn
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        elif not self._ready_event.is_set():
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
    """Up to ``limit`` trainer processes (one is the usual: it serves every run at once),
    each handed to any number of tasks; ``acquire`` gives the least-loaded ready one.

    A trainer that has served ``max_tasks`` tasks is replaced by a fresh process once it is
    idle: whatever TensorFlow keeps is given back with the process, so a server that runs all
    term does not grow.
    """

    def __init__(self, limit: int = 1, max_tasks: int = WORKER_MAX_TASKS) -> None:
        self.limit = max(1, limit)
        self.max_tasks = max_tasks
        self._workers: list[Worker] = []
        self._lock = threading.Lock()
        self._closing = False
        # At exit, start no more and end every trainer (each would notice its closed standard
        # input anyway): no process outlives the server.
        atexit.register(self._close_at_exit)

    def _close_at_exit(self) -> None:
        with self._lock:
            self._closing = True
        self.shutdown()

    def _drop(self, workers: list[Worker]) -> None:
        """With the lock held: forget ``workers``, closed in a thread of their own."""
        self._workers = [w for w in self._workers if w not in workers]
        for worker in workers:
            threading.Thread(target=worker.close, daemon=True).start()

    def _drop_dead(self) -> None:
        self._drop([w for w in self._workers if not w.alive()])

    def prestart(self) -> None:
        """One more trainer warming up, if the pool has room and none is starting now."""
        with self._lock:
            self._drop_dead()
            starting = any(not w.ready for w in self._workers)
            if not self._closing and not starting and len(self._workers) < self.limit:
                self._workers.append(Worker())

    def acquire(self, abort: Callable[[], bool]) -> Worker | None:
        """A ready trainer for one more task; None if ``abort()`` turned true while it
        started. Release it with ``release`` when the task has ended."""
        with self._lock:
            self._drop_dead()
            if not self._workers:
                self._workers.append(Worker())
            worker = min(self._workers, key=lambda w: (not w.ready, w.load))
            worker.load += 1
        try:
            ready = worker.wait_ready(abort)
        except WorkerGone:
            self.release(worker, healthy=False)
            raise
        if not ready:
            self.release(worker)
        return worker if ready else None

    def release(self, worker: Worker, *, healthy: bool = True) -> None:
        """A task on ``worker`` ended; an unhealthy trainer (killed, gone) is dropped, and an
        idle one past ``max_tasks`` is replaced."""
        with self._lock:
            worker.load -= 1
            if not healthy or not worker.alive():
                self._drop([worker])
            elif worker.load == 0 and worker.tasks >= self.max_tasks:
                self._drop([worker])
                if not self._closing:
                    self._workers.append(Worker())

    def pids(self) -> list[int]:
        """The trainer processes' ids (for the benchmarks' memory figures)."""
        with self._lock:
            return [w.pid for w in self._workers if w.pid is not None]

    def shutdown(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()


SHARED_POOL = TrainerPool(1)
