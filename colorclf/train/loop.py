"""The training loop: a run advanced one compiled chunk of batches at a time, its rows handed
to Keras callbacks batch by batch, as Keras' own loops drive them.

``TrainRun`` trains over a seeded permutation per epoch (``core.rows.epoch_order``), so a run
stopped at epoch k, batch b resumes at batch b+1 of the same permutation: a resumed run sees
the same batches as one that was never stopped. Each ``advance`` trains one chunk
(``train.engine``), then calls ``on_train_batch_begin/end`` of a Keras ``CallbackList``
(``BatchCallbacks``) once per batch with Keras' logs (the running means over the epoch so far);
``LossStream`` turns those into the rows described in ``colorclf.core.rows``. A callback that sets
``model.stop_training`` stops the run after that very batch: the chunk is trained again from
its start up to that batch, so Stop keeps exactly the weights of the last batch shown.

Pace: ``live`` spreads a run over time (``LIVE_EPOCHS_PER_SECOND``) by saying when its next
chunk is due (``next_due``); the caller waits, so the idle time costs no CPU and serves other
runs (the trainer's scheduler). ``full`` is due at once.

Early stopping follows Keras' ``EarlyStopping(monitor="val_loss", patience=p,
restore_best_weights=True)``, but lives here rather than in that callback: a Stop/Resume
splits a run into several calls, and the callback resets its best loss, count and weights in
``on_train_begin``. The count and the best epoch are kept in ``Progress`` (so they survive
Stop/Resume) and the best weights travel with the run (``best_weights``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from colorclf.core.dataset import Split
from colorclf.core.hyperparams import LIVE_EPOCHS_PER_SECOND, Hyperparams
from colorclf.core.predict import Predictor, cross_entropy
from colorclf.core.rows import Progress, Row, Sink, batches_per_epoch, epoch_order
from colorclf.train.callback import BatchCallbacks, LossStream
from colorclf.train.engine import chunk_step

if TYPE_CHECKING:
    import keras

FULL_CHUNK_BATCHES = 256  # full pace: a chunk per epoch of the presets (MAX_CHUNK_ROWS bounds it)
LIVE_CHUNK_SECONDS = 0.1  # live pace: a chunk per redraw of the page (~10 frames a second)
MAX_CHUNK_ROWS = 8192  # any chunk: a turn of the trainer stays a few milliseconds long


@dataclass
class TrainOutcome:
    """What a run returns: the progress (for Resume), whether it stopped before the planned
    epochs (Stop, a Step's end or early stopping), the best epoch's weights (with patience)
    and, after an early stop, the last weights (the model then holds the best)."""

    progress: Progress
    stopped: bool
    best_weights: list[np.ndarray] | None = None
    last_weights: list[np.ndarray] | None = None

    @property
    def kept_epoch_row(self) -> Row | None:
        """The epoch row of the weights the model holds: the best epoch's when early
        stopping put them back, else the last one's."""
        if self.last_weights is not None:
            return self.progress.best_epoch_row
        return self.progress.last_epoch_row


def evaluate_arrays(predictor: Predictor, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Categorical cross-entropy and accuracy on one-hot ``y``, computed as Keras does (the
    forward pass in NumPy: a Keras call cost ~20 ms an epoch, more than the epoch's chunks)."""
    if len(x) == 0:
        return math.nan, math.nan
    probs = predictor.forward(x)
    accuracy = float(np.mean(np.argmax(probs, axis=1) == np.argmax(y, axis=1)))
    return cross_entropy(probs, y), accuracy


def batches_per_second(hp: Hyperparams, per_epoch: int) -> float | None:
    """The live pace's rate for a run with ``per_epoch`` batches an epoch (None: full pace)."""
    return per_epoch * LIVE_EPOCHS_PER_SECOND if hp.pace == "live" else None


class TrainRun:
    """Train for ``hp.epochs`` epochs (or resume ``progress``), streaming rows to ``sink``,
    one chunk of batches per ``advance``.

    Stops after the batch during which ``should_stop()`` turned true; the model then holds the
    weights after that batch and the progress resumes from the next one. With
    ``until_epoch``, stops once that many epochs are done (Step). With ``hp.patience``, stops
    when that many epochs in a row brought no lower validation loss, and at that stop or at
    the planned end puts the best epoch's weights back (``best_weights``: those of an earlier
    part of the run). ``callbacks`` are more Keras callbacks, driven beside ``LossStream``.
    With ``model_each_epoch``, the model holds each epoch's weights at its end, for the sink
    and the callbacks to read (as Keras' ``fit`` leaves them); without, only at the run's end.
    """

    def __init__(
        self,
        model: keras.Model,
        split: Split,
        hp: Hyperparams,
        sink: Sink,
        *,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        until_epoch: int | None = None,
        best_weights: list[np.ndarray] | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        model_each_epoch: bool = True,
    ) -> None:
        self.model, self.split, self.hp, self.sink = model, split, hp, sink
        self.progress = progress or Progress(epochs_planned=hp.epochs)
        self.should_stop = should_stop
        self.until_epoch = until_epoch
        self.best_weights = best_weights
        self.n = len(split.x_train)
        self.per_epoch = batches_per_epoch(self.n, hp.batch_size)
        self.rate = batches_per_second(hp, self.per_epoch)
        batches = math.ceil(self.rate * LIVE_CHUNK_SECONDS) if self.rate else FULL_CHUNK_BATCHES
        self._most_batches = max(1, MAX_CHUNK_ROWS // hp.batch_size)
        self.chunk_batches = min(batches, self._most_batches)
        # Live pace: chunks this many times longer while many runs share the trainer (the
        # pages then redraw as much less often: core.hyperparams.load_factor).
        self.stretch = 1.0
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        self._weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
        # The layers' activations: each epoch's predictor is built from the NumPy weights
        # rather than read back out of the model (twice an epoch, in Keras' variable reads).
        from colorclf.train.model import predictor_from_model

        self._activations = tuple(act for _, _, act in predictor_from_model(model).layers)
        self._slots = [np.array(v) for v in model.optimizer.variables]
        self._base_seconds = self.progress.seconds
        self._started: float | None = None  # perf_counter at the first chunk
        self._batches_trained = 0
        self._epoch_open = False  # on_epoch_begin was called for the epoch in progress
        self._order: tuple[int, np.ndarray] | None = None
        self._loss_sum = self._acc_sum = 0.0  # Keras' running means within this call's epoch
        self._seen = 0
        self.stopped = False
        self.ended = False
        self.outcome: TrainOutcome | None = None
        stream = LossStream(
            sink,
            self.progress,
            batch_size=hp.batch_size,
            n_train=self.n,
            clock=self.clock,
            should_stop=should_stop,
        )
        self.callbacks = BatchCallbacks([stream, *callbacks], model=model)
        self.model_each_epoch = model_each_epoch
        model.stop_training = False

    # ----- time ----------------------------------------------------------------------
    def clock(self) -> float:
        """Training seconds of the whole run: earlier parts, and this one since it began."""
        started = self._started
        return self._base_seconds + (0.0 if started is None else time.perf_counter() - started)

    @property
    def next_due(self) -> float:
        """``time.perf_counter()`` value at which the next chunk is due (live pace keeps the
        run at its rate; full pace: now)."""
        if self.rate is None or self._started is None:
            return 0.0
        return self._started + self._batches_trained / self.rate

    # ----- one turn ------------------------------------------------------------------
    def advance(self) -> bool:
        """Train one chunk (and close the epoch when it ends one); True once the run ended."""
        if self.ended:
            return True
        if self._started is None:
            self._started = time.perf_counter()
            self.callbacks.on_train_begin()
        progress = self.progress
        if self._epoch_open and self.should_stop is not None and self.should_stop():
            # Asked while the run waited for its turn: no batch more than the page showed.
            self.stopped = True
            self._end()
            return True
        if not self._epoch_open and self._at_an_end():
            return True
        if not self._epoch_open:
            self._epoch_open = True
            self._loss_sum = self._acc_sum = 0.0
            self._seen = 0
            self.callbacks.on_epoch_begin(progress.epoch)
        self._train_chunk()
        if self.model.stop_training:
            self.stopped = True
            self._end()
            return True
        if progress.batch >= self.per_epoch:
            self._close_epoch()
            if progress.stopped_early:
                self.stopped = True
                self._end()
                return True
            return self._at_an_end(asking=False)
        return False

    def _at_an_end(self, *, asking: bool = True) -> bool:
        """Between epochs: end the run when it is finished, a Step's epoch is done, or (when
        ``asking``) Stop was asked; True if it ended."""
        progress = self.progress
        if progress.finished:
            self._end()
        elif (self.until_epoch is not None and progress.epoch >= self.until_epoch) or (
            asking and self.should_stop is not None and self.should_stop()
        ):
            self.stopped = True
            self._end()
        return self.ended

    def _epoch_order(self) -> np.ndarray:
        epoch = self.progress.epoch
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, epoch_order(self.n, self.hp.seed, epoch))
        return self._order[1]

    def _train_chunk(self) -> None:
        hp, progress = self.hp, self.progress
        first = progress.batch
        size = self.chunk_batches
        if self.rate is not None and self.stretch > 1.0 and self._batches_trained:
            # Not the first chunk: the first rows reach the page at once, whatever the load.
            size = min(math.ceil(size * self.stretch), self._most_batches)
        count = min(size, self.per_epoch - first)
        rows = self._epoch_order()[first * hp.batch_size : (first + count) * hp.batch_size]
        x, y = self.split.x_train[rows], self.split.y_train[rows]
        step = chunk_step(hp)
        result = step.run(self._weights, self._slots, x, y, hp.batch_size, count)
        for i in range(count):
            size = min(hp.batch_size, len(rows) - i * hp.batch_size)
            self._seen += size
            self._loss_sum += float(result.losses[i]) * size
            self._acc_sum += float(result.accuracies[i]) * size
            logs = {"accuracy": self._acc_sum / self._seen, "loss": self._loss_sum / self._seen}
            self.callbacks.on_train_batch_begin(first + i)
            self.callbacks.on_train_batch_end(first + i, logs)
            if self.model.stop_training and i < count - 1:
                # Stop after this very batch: its weights, not the chunk's end's.
                result = step.run(self._weights, self._slots, x, y, hp.batch_size, i + 1)
                count = i + 1
                break
        self._weights, self._slots = result.weights, result.optimizer
        self._batches_trained += count

    def _close_epoch(self) -> None:
        hp, progress = self.hp, self.progress
        self._epoch_open = False
        if self.model_each_epoch:  # the sink and callbacks may read the model now
            self.model.set_weights(self._weights)
        split = self.split
        val_loss, val_accuracy = evaluate_arrays(self.predictor(), split.x_val, split.y_val)
        row = progress.epoch_done(val_loss, val_accuracy, self.clock())
        self.sink(row)
        self.callbacks.on_epoch_end(row["epoch"] - 1, {k: row[k] for k in _EPOCH_LOGS})
        if hp.patience and progress.just_improved:
            self.best_weights = [w.copy() for w in self._weights]
        if progress.patience_ran_out(hp.patience) and not progress.finished:
            progress.stopped_early = True

    def _end(self) -> None:
        """Put the run's state into the model (its weights, or the best epoch's, and the
        optimiser's slots), close the callbacks, and keep the outcome."""
        self.ended = True
        progress, hp = self.progress, self.hp
        model = self.model
        model.set_weights(self._weights)
        for variable, value in zip(model.optimizer.variables, self._slots, strict=True):
            variable.assign(value)
        last_weights: list[np.ndarray] | None = None
        best = self.best_weights
        if hp.patience and best is not None and (progress.stopped_early or progress.finished):
            # As Keras' EarlyStopping does at the end of training: the best epoch's weights.
            last_weights = [w.copy() for w in self._weights]
            model.set_weights(best)
        progress.stop_clock(self.clock())
        self.callbacks.on_train_end()
        self.outcome = TrainOutcome(
            progress=progress,
            stopped=self.stopped,
            best_weights=best if hp.patience else None,
            last_weights=last_weights,
        )

    def to_end(self) -> TrainOutcome:
        """Every chunk in this thread; a live-paced run sleeps until each is due."""
        while not self.advance():
            wait = self.next_due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        assert self.outcome is not None
        return self.outcome

    @property
    def weights(self) -> list[np.ndarray]:
        """The run's current weights (after the last batch trained)."""
        return self._weights

    def predictor(self) -> Predictor:
        """The run's current weights as the page's NumPy forward pass."""
        pairs = zip(self._weights[0::2], self._weights[1::2], strict=True)
        return Predictor(
            tuple(
                (np.asarray(kernel, dtype=np.float64), np.asarray(bias, dtype=np.float64), act)
                for (kernel, bias), act in zip(pairs, self._activations, strict=True)
            )
        )

    @property
    def optimizer_state(self) -> list[np.ndarray]:
        return self._slots


_EPOCH_LOGS = ("loss", "accuracy", "val_loss", "val_accuracy")


def train(
    model: keras.Model, split: Split, hp: Hyperparams, sink: Sink, **options: Any
) -> TrainOutcome:
    """``TrainRun(model, split, hp, sink, **options)`` to its end in this thread (the command
    line, the tests, the benchmarks)."""
    return TrainRun(model, split, hp, sink, **options).to_end()
