"""Per-session training jobs, a fair queue shared by all sessions, and trainer processes.

Why not train in the script run: any widget event during a script run aborts it
(``StopException`` inside the Keras callback), so training inside the run would lose work
whenever a student touched a slider. Why not in a thread of the server: the page's redraws
and the training would share one GIL (see ``colorclf.train.worker``). So a job's thread waits its
turn at the ``FairGate``, hands the work to a warm trainer process from the ``TrainerPool``
and appends the rows that come back to its ``Run``; the page only *reads* them (a fragment
polls ~10×/s). Stop sets an event the worker checks after every batch; the weights and
optimiser state come back, and Resume sends them to a free worker with the ``Progress``.
A job whose session is gone (``is_alive`` false) stops itself, so no training outlives its
session.

Nothing here imports Streamlit or TensorFlow.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from colorclf.core.dataset import ColorDataset, Split, stratified_split
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.rows import Progress, Row, batches_per_epoch
from colorclf.core.runs import Run

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor
    from colorclf.train.worker import ModelState, TrainResult

_log = logging.getLogger(__name__)

LIVENESS_CHECK_SECONDS = 0.5
POLL_SECONDS = 0.1  # how often a job waiting for its worker checks Stop and the session
WORKER_START_SECONDS = 120.0  # importing TensorFlow in a new process: ~5 s idle, more if busy
WORKER_MAX_TASKS = 25  # trainings per worker process before a fresh one replaces it


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


class WorkerGone(RuntimeError):
    """A trainer process exited or stopped answering."""


_SPAWN_LOCK = threading.Lock()
_BARE_MAIN = types.ModuleType("__main__")  # no __file__, no __spec__: nothing to re-run


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While a trainer process is spawned, hide the page script from ``multiprocessing``.

    ``spawn`` re-runs the parent's ``__main__`` file in every child, and under Streamlit
    ``__main__`` is the page script: each trainer would import Streamlit and run the page in
    bare mode (warnings, wasted seconds, and a page that starts trainers itself would crash
    it). Streamlit re-installs ``__main__`` at the start of every script run, so the swap is
    undone only if nobody replaced it meanwhile.
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

    def _drop_dead_idle(self) -> None:
        """With the lock held: forget idle workers whose process has exited."""
        self._idle = [w for w in self._idle if w.process.is_alive()]

    def _spawn_spare(self) -> None:
        """With the lock held: one idle worker warming up, if there is room for it."""
        self._drop_dead_idle()
        if not self._idle and len(self._busy) < self.limit:
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


class TrainingJob:
    """One training of one session: the run, its split and progress, and a thread that hands
    the work to a trainer process and collects what comes back.

    States: ``queued`` → ``training`` → ``complete`` | ``stopped`` | ``failed``; a stopped
    job can ``resume``. ``run.rows`` receives every row; ``predictor`` follows the weights
    at each epoch end (and at a stop), for the decision map and the sliders; ``model_bytes``
    is the ``.keras`` file of the weights after the last finished batch.
    """

    def __init__(
        self,
        run: Run,
        dataset: ColorDataset,
        *,
        is_alive: Callable[[], bool] | None = None,
        gate: FairGate = SHARED_GATE,
        pool: TrainerPool = SHARED_POOL,
    ) -> None:
        self.run = run
        self.hp: Hyperparams = run.hyperparams
        self.dataset = dataset
        self.split: Split = stratified_split(dataset, self.hp.val_split, self.hp.seed)
        self.progress = Progress(epochs_planned=self.hp.epochs)
        self.batches_per_epoch = batches_per_epoch(len(self.split.x_train), self.hp.batch_size)
        self.state_after_stop: ModelState | None = None
        self.model_bytes: bytes | None = None
        self.predictor: Predictor | None = None
        self.error: str | None = None
        self.stop_reason: str | None = None
        self.started_at: float | None = None
        self.starting_trainer = False  # waiting for a trainer process to import TensorFlow
        self._is_alive = is_alive or (lambda: True)
        self._alive_checked = 0.0
        self._alive = True
        self._gate = gate
        self._pool = pool
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._worker_stop: Any = None

    # ----- what the page reads -------------------------------------------------------
    @property
    def state(self) -> str:
        return self.run.status

    @property
    def active(self) -> bool:
        """Queued or training: the tutorial's ``istraining`` flag."""
        return self.run.status in ("queued", "training")

    @property
    def can_resume(self) -> bool:
        return (
            self.run.status == "stopped"
            and not self.progress.finished
            and (self.state_after_stop is not None or not self.progress.started)
        )

    def queue_position(self) -> int | None:
        return self._gate.position(self)

    # ----- what the page does ----------------------------------------------------------
    def start(self) -> bool:
        """Start (or resume) in a background thread. False if it is already running."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            if self.progress.finished:
                return False
            self._stop.clear()
            self.stop_reason = None
            self.run.status = "queued"
            self._thread = threading.Thread(
                target=self._work, name=f"colorclf-{self.run.name}", daemon=True
            )
            self._thread.start()
            return True

    resume = start

    def stop(self, reason: str = "Stopped") -> None:
        """Ask the job to stop after the current batch (or leave the queue)."""
        self.stop_reason = reason
        self._stop.set()
        worker_stop = self._worker_stop
        if worker_stop is not None:
            worker_stop.set()

    def join(self, timeout: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # ----- the thread ------------------------------------------------------------------
    def _should_stop(self) -> bool:
        if self._stop.is_set():
            return True
        now = time.monotonic()
        if now - self._alive_checked >= LIVENESS_CHECK_SECONDS:
            self._alive_checked = now
            self._alive = bool(self._is_alive())
            if not self._alive:
                self.stop("Session closed")
        return not self._alive

    def _on_row(self, row: Row) -> None:
        self.run.rows.append(row)
        self.progress.follow(row)

    def _work(self) -> None:
        if not self._gate.acquire(self, self._should_stop):
            self.run.status = "stopped"
            return
        worker: Worker | None = None
        healthy = True
        try:
            self.run.status = "training"
            self.started_at = time.monotonic()
            self.starting_trainer = True
            try:
                try:
                    worker = self._pool.acquire(self._should_stop)
                except WorkerGone:  # one more try with a fresh trainer before giving up
                    worker = self._pool.acquire(self._should_stop)
            finally:
                self.starting_trainer = False
            if worker is None:
                self.run.status = "stopped"
                return
            healthy = self._train_on(worker)
        except WorkerGone as error:
            healthy = False
            self.error = str(error)
            self.run.status = "failed"
        except Exception as error:  # never leave a run "training" forever with no word
            _log.exception("training job failed")
            healthy = False
            self.error = f"an unexpected error in the server ({type(error).__name__})"
            self.run.status = "failed"
        finally:
            self._worker_stop = None
            if worker is not None:
                self._pool.release(worker, healthy=healthy)
            self._gate.release()
            if self.stop_reason == "Session closed":
                self.discard()

    def _train_on(self, worker: Worker) -> bool:
        """Send the task, collect the rows; True if the worker can serve the next job."""
        from colorclf.train.worker import TrainTask

        worker.tasks += 1
        worker.stop_event.clear()
        self._worker_stop = worker.stop_event
        if self._stop.is_set():
            worker.stop_event.set()
        task = TrainTask(self.hp, self.split, copy.deepcopy(self.progress), self.state_after_stop)
        try:
            worker.conn.send(("train", task))
            while True:
                if not worker.conn.poll(POLL_SECONDS):
                    self._should_stop()  # a closed session stops the job; stop() tells the worker
                    if not worker.process.is_alive():
                        raise EOFError
                    continue
                kind, payload = worker.conn.recv()
                if kind == "rows":
                    for row in payload:
                        self._on_row(row)
                    self._should_stop()
                elif kind == "predictor":
                    self.predictor = payload
                elif kind == "done":
                    self._finish(payload)
                    return True
                else:  # "failed"
                    self.error = str(payload)
                    self.run.status = "failed"
                    return True
        except (EOFError, OSError):
            code = worker.process.exitcode
            self.error = (
                "the trainer process stopped unexpectedly"
                + (f" (exit code {code})" if code is not None else "")
                + "; press Train to start again"
            )
            self.run.status = "failed"
            return False

    def _finish(self, result: TrainResult) -> None:
        self.progress = result.progress
        self.predictor = result.predictor
        self.model_bytes = result.model_bytes
        self.state_after_stop = result.state if result.stopped else None
        self.run.status = "stopped" if result.stopped else "complete"

    def discard(self) -> None:
        """Drop the weights: the session is gone, nobody will resume or download them."""
        self.state_after_stop = None
        self.model_bytes = None


def describe_status(job: TrainingJob) -> dict[str, Any]:
    """What the status element shows: a label, the state and a progress fraction (0–1)."""
    progress = job.progress
    per_epoch = job.batches_per_epoch
    fraction = min(1.0, progress.step / max(1, job.hp.epochs * per_epoch))
    state = job.state
    if state == "queued":
        position = job.queue_position()
        label = (
            f"Waiting for a free trainer: place {position} in the queue"
            if position
            else ("Training started")
        )
    elif state == "training" and job.starting_trainer:
        label = "Starting a trainer (loading TensorFlow)…"
    elif state == "training":
        last = progress.last_epoch_row
        label = (
            f"Epoch {last['epoch']}/{job.hp.epochs} · loss {last['loss']:.4f} · "
            f"val_loss {last['val_loss']:.4f}"
            if last
            else "Training started"
        )
    elif state == "complete":
        label = f"Training complete in {progress.seconds:.1f} s"
    elif state == "stopped":
        epoch, batch = progress.epoch + 1, progress.batch
        if batch == 0 and progress.epoch > 0:  # stopped right at an epoch's end
            epoch, batch = progress.epoch, per_epoch
        label = f"Stopped at epoch {epoch}, batch {batch}"
    else:
        label = f"Training failed: {job.error}"
    return {"label": label, "state": state, "fraction": fraction}
