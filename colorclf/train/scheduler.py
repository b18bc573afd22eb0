"""Every active run of the trainer, taken in turns: one chunk of batches a turn.

A ``Scheduler``'s threads (one per core: TensorFlow releases the GIL while a chunk runs) take
the runs first come first served, and a run goes back to the end of the line after its turn,
so no run waits while another takes two; a live-paced run rejoins the line only when its next
chunk is due, so its idle time serves the others. An ``ActiveRun`` turns one task of the
trainer into the messages of ``colorclf.core.protocol``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from colorclf.core.errors import ModelFileError
from colorclf.core.hyperparams import load_factor
from colorclf.core.protocol import (
    Checkpoint,
    Done,
    EpochEnd,
    Failed,
    ModelState,
    Rows,
    TrainResult,
    TrainTask,
)

if TYPE_CHECKING:
    from colorclf.core.hyperparams import Hyperparams
    from colorclf.core.predict import Predictor
    from colorclf.core.rows import Row
    from colorclf.train.loop import TrainRun

Send = Callable[[Any], None]


class ActiveRun:
    """One task of the trainer: a ``TrainRun`` whose rows, epoch ends and result become
    messages to ``send``. ``turn`` trains one chunk."""

    def __init__(
        self, number: int, task: TrainTask, send: Send, should_stop: Callable[[], bool]
    ) -> None:
        self.number = number
        self.task = task
        self.send = send
        self.should_stop = should_stop
        self._run: TrainRun | None = None
        self._pending: list[Row] = []
        self._stretch = 1.0

    @property
    def due(self) -> float:
        return 0.0 if self._run is None else self._run.next_due

    def stretch(self, factor: float) -> None:
        """A live-paced run's chunks are ``factor`` times longer from its next turn."""
        self._stretch = factor

    def _start(self) -> TrainRun:
        from colorclf.train.loop import TrainRun
        from colorclf.train.model import BUILT_MODELS, restore_state

        task = self.task
        model = BUILT_MODELS.take(task.hp)
        if task.state is not None:
            restore_state(model, task.state)
        return TrainRun(
            model,
            task.split,
            task.hp,
            self._sink,
            progress=task.progress,
            should_stop=self.should_stop,
            until_epoch=task.until_epoch,
            best_weights=task.state.best_weights if task.state is not None else None,
            # This sink reads the NumPy weights; putting them into the model at every epoch's
            # end cost a class's trainer about a twentieth of its CPU.
            model_each_epoch=False,
        )

    def _sink(self, row: Row) -> None:
        self._pending.append(row)
        if row["kind"] == "epoch":
            self._flush()
            self.send(EpochEnd(self.number, *self._epoch_end()))

    def _epoch_end(self) -> tuple[Predictor, Checkpoint]:
        """The weights for the page, and the point a Resume goes on from should this trainer
        die before the run's next epoch ends."""
        run = self._run
        assert run is not None
        progress = run.progress
        improved = bool(run.hp.patience) and progress.just_improved
        best = [w.copy() for w in run.weights] if improved else run.best_weights
        state = ModelState(
            weights=[w.copy() for w in run.weights],
            optimizer=[s.copy() for s in run.optimizer_state],
            best_weights=best,
        )
        return run.predictor(), Checkpoint(copy.deepcopy(progress), state)

    def _flush(self) -> None:
        if self._pending:
            self.send(Rows(self.number, self._pending))
            self._pending = []

    def turn(self) -> bool:
        """Train one chunk and send its rows; True once the run ended (its result sent)."""
        try:
            if self._run is None:
                self._run = self._start()
            self._run.stretch = self._stretch
            ended = self._run.advance()
            self._flush()
            if ended:
                self.send(Done(self.number, self._result()))
                self._give_back_model()
        except ModelFileError as error:
            ended = True
            self.send(Failed(self.number, str(error)))
        except Exception as error:  # the page shows it as one line
            ended = True
            self.send(Failed(self.number, f"{type(error).__name__}: {error}"))
        return ended

    def _give_back_model(self) -> None:
        from colorclf.train.model import BUILT_MODELS

        assert self._run is not None
        BUILT_MODELS.give_back(self.task.hp, self._run.model)

    def _result(self) -> TrainResult:
        from colorclf.train.model import capture_state, predictor_from_model

        run = self._run
        assert run is not None and run.outcome is not None
        outcome = run.outcome
        state = capture_state(run.model, outcome.last_weights, outcome.best_weights)
        # The model file holds what the model holds: the same state, unless early stopping
        # put the best epoch's weights back into the model (its slots are the same).
        model_state = state
        if outcome.last_weights is not None:
            model_state = ModelState(
                [np.array(w) for w in run.model.get_weights()], state.optimizer
            )
        return TrainResult(
            stopped=outcome.stopped,
            progress=outcome.progress,
            state=state,
            predictor=predictor_from_model(run.model),
            model_state=model_state,
        )


def run_task(task: TrainTask, send: Send, should_stop: Callable[[], bool] | None = None) -> None:
    """Train one task to its end in this thread, as the scheduler would (tests, benchmarks)."""
    active = ActiveRun(1, task, send, should_stop or (lambda: False))
    while not active.turn():
        wait = active.due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)


class Scheduler:
    """Every active run, served in turns by ``threads`` threads: one chunk a turn, first come
    first served, a run back at the end of the line after its turn (or, live-paced, once its
    next chunk is due)."""

    def __init__(self, threads: int, warm: Sequence[Callable[[], None]] = ()) -> None:
        self._cond = threading.Condition()
        self._ready: deque[ActiveRun] = deque()
        self._later: list[tuple[float, int, ActiveRun]] = []  # (due, order, run): a heap
        self._order = itertools.count()
        self._active = 0
        self.idle = threading.Event()
        self.idle.set()
        warmed = threading.Event()
        for index in range(threads):
            threading.Thread(
                target=self._serve, args=(warm, warmed), name=f"trainer-{index}", daemon=True
            ).start()
        # Ready once one thread has taken the first step (the default template): a first click
        # on a cold server waited for every thread to trace every preset, ~0.4 s more.
        warmed.wait()

    @property
    def active(self) -> int:
        return self._active

    def add(self, run: ActiveRun) -> None:
        with self._cond:
            self._active += 1
            self.idle.clear()
            self._ready.append(run)
            self._cond.notify()

    def wake(self, number: int) -> None:
        """A stop for a run that waits for its due time: it takes its turn now."""
        with self._cond:
            for entry in self._later:
                if entry[2].number == number:
                    self._later.remove(entry)
                    heapq.heapify(self._later)
                    self._ready.appendleft(entry[2])  # a stop trains nothing: no turn taken
                    self._cond.notify()
                    return

    def _take(self) -> ActiveRun:
        with self._cond:
            while True:
                now = time.perf_counter()
                while self._later and self._later[0][0] <= now:
                    self._ready.append(heapq.heappop(self._later)[2])
                if self._ready:
                    return self._ready.popleft()
                self._cond.wait(self._later[0][0] - now if self._later else None)

    def _serve(self, warm: Sequence[Callable[[], None]], warmed: threading.Event) -> None:
        for index, step in enumerate(warm):
            if index and self._active:
                break  # runs wait: each traces what it needs, not what a preset might
            with contextlib.suppress(Exception):  # a head start: a first run traces if need be
                step()
            warmed.set()
        warmed.set()
        while True:
            run = self._take()
            run.stretch(load_factor(self._active))
            ended = run.turn()
            with self._cond:
                if ended:
                    self._active -= 1
                    if self._active == 0:
                        self.idle.set()
                    continue
                due = run.due
                if due <= time.perf_counter():
                    self._ready.append(run)
                else:
                    heapq.heappush(self._later, (due, next(self._order), run))
                self._cond.notify()


def warm_up_steps() -> list[Callable[[], None]]:
    """What each trainer thread does before it serves: trace its template of each preset on a
    few zeros, the default first, so a class's first runs start at once."""
    from colorclf.core.hyperparams import DEFAULT_PRESET, PRESETS

    names = [DEFAULT_PRESET, *(name for name in PRESETS if name != DEFAULT_PRESET)]
    return [functools.partial(trace_template, PRESETS[name]) for name in names]


def trace_template(hp: Hyperparams) -> None:
    """This thread's template for ``hp``, traced on a few zeros."""
    from colorclf.core.labels import NUM_LABELS
    from colorclf.train.engine import chunk_step

    step = chunk_step(hp)
    n = 2 * hp.batch_size + 1
    x = np.zeros((n, 3), dtype=np.float32)
    y = np.eye(NUM_LABELS, dtype=np.float32)[np.zeros(n, dtype=int)]
    model = step.model
    weights = [np.asarray(w) for w in model.get_weights()]
    slots = [np.array(v) for v in model.optimizer.variables]
    step.run(weights, slots, x, y, hp.batch_size, 3)


def warm_up() -> None:
    """What every run's start and end need besides the template: Keras' model building, a
    forward pass and the ``.keras`` writer."""
    from colorclf.core.hyperparams import DEFAULT_PRESET, PRESETS
    from colorclf.train.model import build_model, predictor_from_model
    from colorclf.train.modelfile import model_to_bytes

    model = build_model(PRESETS[DEFAULT_PRESET])
    model(np.zeros((1, 3), dtype=np.float32), training=False)
    predictor_from_model(model)
    model_to_bytes(model)
