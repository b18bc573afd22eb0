"""One training of one session (``TrainingJob``) and what its status element says.

Why not train in the script run: any widget event during a script run aborts it
(``StopException`` inside the Keras callback), so training inside the run would lose work
whenever a student touched a slider. Why not in a thread of the server: the page's redraws
and the training would share one GIL (see ``colorclf.train.worker``). So a job's thread is
let in by the ``FairGate`` (``serve.gate``: a queue only where memory would run out), hands
the work to the trainer process (``serve.pool``), which trains every session's runs at once in
turns, and appends the rows that come back to its ``Run``; the page only *reads* them (the
live panel redraws ~10×/s). Stop tells the trainer, which checks after every batch; the
weights and optimiser state come back, and Resume sends them again with the ``Progress``.
A job whose session is gone (``is_alive`` false) stops itself, so no training outlives its
session.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from colorclf.core.dataset import ColorDataset, Split, stratified_split
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.protocol import (
    Checkpoint,
    Done,
    EpochEnd,
    ModelState,
    Rows,
    Train,
    TrainResult,
    TrainTask,
)
from colorclf.core.rows import Progress, Row, batches_per_epoch
from colorclf.core.runs import ACTIVE, Run, RunStatus
from colorclf.serve.gate import SHARED_GATE, FairGate
from colorclf.serve.model_file import ModelFile
from colorclf.serve.pool import SHARED_POOL, TrainerPool, Worker, WorkerGone

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor

_log = logging.getLogger(__name__)

LIVENESS_CHECK_SECONDS = 0.5
POLL_SECONDS = 0.1  # how often a job waiting for its worker checks Stop and the session
# A trainer that stops answering is killed and replaced (its run fails, its rows stay):
SILENT_SECONDS = 15.0  # no message at all, heartbeats included (SIGSTOP, a frozen process)
STALLED_SECONDS = 120.0  # heartbeats but no row (a native call that never returns)
STOP_GRACE_SECONDS = 60.0  # Stop pressed or the session closed, heartbeats but no answer


class TrainerHung(RuntimeError):
    """The trainer of a job stopped answering; the message says how."""


class TrainingJob:
    """One training of one session: the run, its split and progress, and a thread that hands
    the work to a trainer process and collects what comes back.

    States: ``queued`` → ``training`` → ``complete`` | ``stopped`` | ``failed``; a stopped
    job can ``resume`` (also after an early stop: the same run goes on), and a stopped or
    complete one can ``step`` (one more epoch, then stopped again).
    ``run.rows`` receives every row; ``predictor`` follows the weights at each epoch end
    (and at a stop), for the decision map and the sliders; ``model_bytes`` is the ``.keras``
    file of the weights after the last finished batch (with patience: the best epoch's), made
    by a trainer when first read (``model_file``).
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
        self.model_file = ModelFile(self.hp, pool)
        self.predictor: Predictor | None = None
        self.error: str | None = None
        self.stop_reason: str | None = None
        self.started_at: float | None = None
        self.starting_trainer = False  # waiting for a trainer process to import TensorFlow
        self.stepping = False  # the latest start was a Step: one epoch, then stop
        self._until_epoch: int | None = None
        self._is_alive = is_alive or (lambda: True)
        self._alive_checked = 0.0
        self._alive = True
        self._gate = gate
        self._pool = pool
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._worker_stop: Callable[[], None] | None = None
        self._stop_asked_at: float | None = None
        self._checkpoint: Checkpoint | None = None
        self._admitted = threading.Event()
        self._rows_came = threading.Event()  # this start's first rows are here, or it ended
        self._ended = threading.Event()  # this start ended: complete, stopped or failed
        self._checkpoint_rows = 0

    # ----- what the page reads -------------------------------------------------------
    @property
    def state(self) -> RunStatus:
        return self.run.status

    @property
    def active(self) -> bool:
        """Queued or training: the tutorial's ``istraining`` flag."""
        return self.run.status in ACTIVE

    @property
    def can_resume(self) -> bool:
        """A stopped run, or one whose trainer died after the server got a state to go on
        from."""
        if self.run.status == RunStatus.FAILED:
            return self.state_after_stop is not None and not self.progress.finished
        return (
            self.run.status == RunStatus.STOPPED
            and not self.progress.finished
            and (self.state_after_stop is not None or not self.progress.started)
        )

    @property
    def can_step(self) -> bool:
        """Step: a run that is stopped or complete, whose weights are here to go on from."""
        return self.run.status in (RunStatus.STOPPED, RunStatus.COMPLETE) and (
            self.state_after_stop is not None or not self.progress.started
        )

    @property
    def stopping(self) -> bool:
        """Stop was asked and the run has not stopped yet (the trainer ends its batch)."""
        return self.active and self._stop.is_set()

    @property
    def has_model_file(self) -> bool:
        """The run has ended with a model the page can offer as a ``.keras`` file."""
        return self.model_file.held and not self.active

    @property
    def model_bytes(self) -> bytes | None:
        """The ``.keras`` file (None: none yet, or the session is gone); the first read waits
        while a trainer makes it (``ModelFile.read``)."""
        return None if self.active else self.model_file.read()

    def queue_position(self) -> int | None:
        return self._gate.position(self)

    @property
    def gate_limit(self) -> int:
        return self._gate.limit

    # ----- what the page does ----------------------------------------------------------
    def start(self) -> bool:
        """Start (or resume) in a background thread. False if it is already running."""
        return self._start(until_epoch=None)

    resume = start

    def step(self) -> bool:
        """Train exactly one more epoch (the rest of the epoch in progress, if a Stop came in
        the middle of one), past the planned epochs if need be, then stop."""
        with self._lock:
            if self.active:
                return False
            target = self.progress.epoch + 1
            self.progress.epochs_planned = max(self.progress.epochs_planned, target)
        return self._start(until_epoch=target)

    def _start(self, until_epoch: int | None) -> bool:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            if self.progress.finished:
                return False
            self.progress.continue_after_stop()
            self.stepping = until_epoch is not None
            self._until_epoch = until_epoch
            self._stop.clear()
            self._stop_asked_at = None
            self.stop_reason = None
            self.run.status = RunStatus.QUEUED
            self._admitted = threading.Event()
            self._rows_came = threading.Event()
            self._ended = threading.Event()
            self._thread = threading.Thread(
                target=self._work, name=f"colorclf-{self.run.name}", daemon=True
            )
            self._thread.start()
            return True

    def stop(self, reason: str = "Stopped") -> None:
        """Ask the job to stop after the current batch (or leave the queue)."""
        self.stop_reason = reason
        if self._stop_asked_at is None:
            self._stop_asked_at = time.monotonic()
        self._stop.set()
        worker_stop = self._worker_stop
        if worker_stop is not None:
            worker_stop()

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

    def wait_admitted(self, timeout: float) -> bool:
        """Wait until the gate let the run in (or it left the queue); False after ``timeout``.
        The page waits a moment after Train so that its run draws the run training, not
        queued (each state it draws costs a whole page run)."""
        return self._admitted.wait(timeout)

    def wait_first_rows(self, timeout: float) -> bool:
        """Wait until the first rows of this start are here, or the job ended; False after
        ``timeout``. The page waits a moment after Train so that its run draws the chart
        with rows: otherwise the live panel's timer draws them, a second later under a
        class's load (bench/bench_class.py)."""
        return self._rows_came.wait(timeout)

    def wait_ended(self, timeout: float) -> bool:
        """Wait until this start ended (complete, stopped or failed); False after ``timeout``.
        The live panel waits on it between frames rather than polling: thirty panels polling
        fifty times a second cost the server about a seventh of its CPU (bench_class)."""
        return self._ended.wait(timeout)

    def _work(self) -> None:
        admitted = self._gate.acquire(self, self._should_stop)
        if not admitted:
            self.run.status = RunStatus.STOPPED
            self._admitted.set()
            self._rows_came.set()
            self._ended.set()
            return
        worker: Worker | None = None
        healthy = True
        try:
            self.run.status = RunStatus.TRAINING
            self._admitted.set()
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
                self.run.status = RunStatus.STOPPED
                return
            healthy = self._train_on(worker)
        except WorkerGone as error:
            healthy = False
            self.error = str(error)
            self.run.status = RunStatus.FAILED
        except Exception as error:  # never leave a run "training" forever with no word
            _log.exception("training job failed")
            healthy = False
            self.error = f"an unexpected error in the server ({type(error).__name__})"
            self.run.status = RunStatus.FAILED
        finally:
            self._rows_came.set()
            self._ended.set()
            self._worker_stop = None
            if worker is not None:
                self._pool.release(worker, healthy=healthy)
            self._gate.release()
            if self.stop_reason == "Session closed":
                self.discard()

    def _train_on(self, worker: Worker) -> bool:
        """Send the task, collect what comes back; True if the trainer can serve on."""
        task = TrainTask(
            self.hp,
            self.split,
            copy.deepcopy(self.progress),
            self.state_after_stop,
            until_epoch=self._until_epoch,
        )
        # Where a Resume goes on from should the trainer die: this task's start, then each
        # epoch's end (and how many rows the page had then).
        self._checkpoint = Checkpoint(copy.deepcopy(self.progress), self.state_after_stop)
        self._checkpoint_rows = len(self.run.rows)
        channel = worker.submit(Train, task)
        self._worker_stop = channel.stop
        if self._stop.is_set():
            channel.stop()
        try:
            while True:
                message = channel.receive(POLL_SECONDS)
                self._should_stop()  # a closed session stops the job; stop() tells the trainer
                if message is None:
                    # Silence counts from this task's start at the earliest: an idle trainer
                    # says nothing, and that is no fault.
                    heard = max(worker.last_heard, channel.progressed)
                    self._check_answering(heard, channel.progressed)
                elif isinstance(message, Rows):
                    for row in message.rows:
                        self._on_row(row)
                    self._rows_came.set()
                elif isinstance(message, EpochEnd):
                    self.predictor = message.predictor
                    self._checkpoint = message.checkpoint
                    self._checkpoint_rows = len(self.run.rows)
                elif isinstance(message, Done):
                    self._finish(message.result)
                    return True
                else:
                    self.state_after_stop = None
                    self.error = str(getattr(message, "message", message))
                    self.run.status = RunStatus.FAILED
                    return True
        except TrainerHung as hung:
            worker.kill()  # SIGKILL ends a stopped process too
            self.state_after_stop = None  # the rows went on past it: nothing to resume from
            self.error = f"{hung}; it was replaced, press Train to start again"
            self.run.status = RunStatus.FAILED
            return False
        except (EOFError, OSError):
            self._trainer_died(worker.exit_code)
            return False
        finally:
            channel.close()

    def _trainer_died(self, code: int | None) -> None:
        """The trainer exited mid-run (the host's out-of-memory killer, say): back to the last
        point the server holds the state of, so Resume goes on from there."""
        died = "the trainer process stopped unexpectedly" + (
            f" (exit code {code})" if code is not None else ""
        )
        point = self._checkpoint
        self.run.status = RunStatus.FAILED
        if point is None or point.state is None:
            self.error = f"{died}; press Train to start again"
            return
        del self.run.rows[self._checkpoint_rows :]
        self.progress = point.progress
        self.state_after_stop = point.state
        where = (
            f"the end of epoch {point.progress.epoch}"
            if point.progress.batch == 0
            else f"epoch {point.progress.epoch + 1}, batch {point.progress.batch}"
        )
        self.error = f"{died}; press Resume to go on from {where}"

    def _check_answering(self, heard: float, progressed: float) -> None:
        """Raise ``TrainerHung`` when the trainer has been silent, stuck or deaf too long."""
        now = time.monotonic()
        if now - heard > SILENT_SECONDS:
            raise TrainerHung(f"the trainer stopped answering (nothing for {SILENT_SECONDS:g} s)")
        if now - progressed > STALLED_SECONDS:
            raise TrainerHung(f"the trainer made no progress for {STALLED_SECONDS:g} s")
        asked = self._stop_asked_at
        if asked is not None and now - max(asked, progressed) > STOP_GRACE_SECONDS:
            raise TrainerHung(f"the trainer did not stop within {STOP_GRACE_SECONDS:g} s")

    def _finish(self, result: TrainResult) -> None:
        self.progress = result.progress
        self.predictor = result.predictor
        self.model_file.hold(result.model_state)
        # Kept after the planned end too: Step goes on from there.
        self.state_after_stop = result.state
        self.run.status = (
            RunStatus.STOPPED if result.stopped or self.stepping else RunStatus.COMPLETE
        )

    def discard(self) -> None:
        """Drop the weights: the session is gone, nobody will resume or download them."""
        self.state_after_stop = None
        self.model_file.hold(None)
