"""Per-session training jobs in background threads, and a fair queue shared by all sessions.

Why a thread and not the script run: any widget event during a script run aborts it
(``StopException`` inside the Keras callback), so training inside the run would lose work
whenever a student touched a slider. A job trains in its own thread, writes rows into its
``Run``, and the page only *reads* them (a fragment polls ~10×/s). Stop sets an event the
callback checks after every batch; Resume starts a new thread on the same model and
``Progress``. A job whose session is gone (``is_alive`` false) stops itself, so no
training thread outlives its session.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from colorclf.dataset import ColorDataset, Split, stratified_split
from colorclf.hyperparams import Hyperparams
from colorclf.runs import Run
from colorclf.training import Progress, Row, batches_per_epoch, train

if TYPE_CHECKING:
    import keras

    from colorclf.predict import Predictor

LIVENESS_CHECK_SECONDS = 0.5


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


def release_memory() -> None:
    """Give freed heap back to the OS (glibc keeps it otherwise; ~4 MB per fitted model)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class TrainingJob:
    """One training of one session: model, split, progress and the thread that runs it.

    States: ``queued`` → ``training`` → ``complete`` | ``stopped`` | ``failed``; a stopped
    job can ``resume``. ``run.rows`` receives every row; ``predictor`` follows the weights
    at each epoch end (and at a stop), for the decision map and the sliders.
    """

    def __init__(
        self,
        run: Run,
        dataset: ColorDataset,
        *,
        is_alive: Callable[[], bool] | None = None,
        gate: FairGate = SHARED_GATE,
        on_epoch: Callable[[TrainingJob, Row], None] | None = None,
    ) -> None:
        self.run = run
        self.hp: Hyperparams = run.hyperparams
        self.dataset = dataset
        self.split: Split = stratified_split(dataset, self.hp.val_split, self.hp.seed)
        self.progress = Progress(epochs_planned=self.hp.epochs)
        self.batches_per_epoch = batches_per_epoch(len(self.split.x_train), self.hp.batch_size)
        self.model: keras.Model | None = None
        self.predictor: Predictor | None = None
        self.error: str | None = None
        self.stop_reason: str | None = None
        self.started_at: float | None = None
        self._is_alive = is_alive or (lambda: True)
        self._alive_checked = 0.0
        self._alive = True
        self._gate = gate
        self._on_epoch = on_epoch
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

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
        return self.run.status == "stopped" and not self.progress.finished

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
                self.stop_reason = "Session closed"
                self._stop.set()
        return not self._alive

    def _on_row(self, row: Row) -> None:
        self.run.rows.append(row)
        if row["kind"] == "epoch":
            self._refresh_predictor()
            if self._on_epoch is not None:
                self._on_epoch(self, row)

    def _refresh_predictor(self) -> None:
        from colorclf.predict import Predictor

        if self.model is not None:
            self.predictor = Predictor.from_model(self.model)

    def _work(self) -> None:
        if not self._gate.acquire(self, self._should_stop):
            self.run.status = "stopped"
            return
        try:
            self.run.status = "training"
            self.started_at = time.monotonic()
            if self.model is None:
                from colorclf.model import build_model

                self.model = build_model(self.hp)
            outcome = train(
                self.model,
                self.split,
                self.hp,
                self._on_row,
                progress=self.progress,
                should_stop=self._should_stop,
            )
            self._refresh_predictor()
            self.run.status = "stopped" if outcome.stopped else "complete"
        except Exception as error:  # a failed fit must reach the page as a message
            self.error = f"{type(error).__name__}: {error}"
            self.run.status = "failed"
        finally:
            self._gate.release()
            if self.stop_reason == "Session closed":
                self.discard()
            release_memory()

    def discard(self) -> None:
        """Drop the model: the session is gone, nobody will resume or ask it."""
        self.model = None


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
