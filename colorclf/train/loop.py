"""The training loop: epochs one ``fit`` call each, rows streamed to a sink.

``train`` runs the epochs over a seeded permutation per epoch (``core.rows.epoch_order``), so
a run stopped at epoch k, batch b resumes at batch b+1 of the same permutation: a resumed run
sees the same batches as one that was never stopped. The rows are described in
``colorclf.core.rows``; the batch rows come from ``LossStream``.

Early stopping follows Keras' ``EarlyStopping(monitor="val_loss", patience=p,
restore_best_weights=True)``, but lives here rather than in that callback: the class resets
its best loss, its count and its saved weights in ``on_train_begin``, that is at every one of
our one-epoch ``fit`` calls, and it would never see ``val_loss`` (we evaluate after each
``fit``). The count and the best epoch are kept in ``Progress`` (so they survive Stop/Resume)
and the best weights travel with the run (``best_weights``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from colorclf.core.dataset import Split
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.rows import Progress, Row, Sink, batches_per_epoch, epoch_order
from colorclf.train.callback import LossStream

if TYPE_CHECKING:
    import keras

@dataclass
class TrainOutcome:
    """What ``train`` returns: the progress (for Resume), whether it stopped before the
    planned epochs (Stop, a Step's end or early stopping), the best epoch's weights (with
    patience) and, after an early stop, the last weights (the model then holds the best)."""

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


def evaluate_arrays(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Categorical cross-entropy and accuracy on one-hot ``y``, computed as Keras does."""
    if len(x) == 0:
        return math.nan, math.nan
    probs = np.asarray(model(x, training=False), dtype=np.float64)
    probs = probs / probs.sum(axis=1, keepdims=True)
    eps = 1e-7
    probs = np.clip(probs, eps, 1 - eps)
    loss = float(np.mean(-np.sum(y * np.log(probs), axis=1)))
    accuracy = float(np.mean(np.argmax(probs, axis=1) == np.argmax(y, axis=1)))
    return loss, accuracy


def train(
    model: keras.Model,
    split: Split,
    hp: Hyperparams,
    sink: Sink,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    until_epoch: int | None = None,
    best_weights: list[np.ndarray] | None = None,
) -> TrainOutcome:
    """Train for ``hp.epochs`` epochs (or resume ``progress``), streaming rows to ``sink``.

    Stops after the batch during which ``should_stop()`` turned true; the model then holds the
    weights after that batch and the returned progress resumes from the next one. With
    ``until_epoch``, stops once that many epochs are done (Step). With ``hp.patience``, stops
    when that many epochs in a row brought no lower validation loss, and at that stop or at
    the planned end puts the best epoch's weights back (``best_weights``: those of an earlier
    part of the run).
    """
    progress = progress or Progress(epochs_planned=hp.epochs)
    n = len(split.x_train)
    per_epoch = batches_per_epoch(n, hp.batch_size)
    run_start = time.perf_counter()
    base_seconds = progress.seconds

    def clock() -> float:
        return base_seconds + time.perf_counter() - run_start

    callback = LossStream(
        sink,
        progress,
        batch_size=hp.batch_size,
        n_train=n,
        clock=clock,
        should_stop=should_stop,
    )
    stopped = False
    last_weights: list[np.ndarray] | None = None
    while not progress.finished:
        if until_epoch is not None and progress.epoch >= until_epoch:
            stopped = True
            break
        if should_stop is not None and should_stop():
            stopped = True
            break
        order = epoch_order(n, hp.seed, progress.epoch)[progress.batch * hp.batch_size :]
        model.fit(
            split.x_train[order],
            split.y_train[order],
            batch_size=hp.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[callback],
        )
        if progress.batch < per_epoch:
            stopped = True
            break
        val_loss, val_accuracy = evaluate_arrays(model, split.x_val, split.y_val)
        sink(progress.epoch_done(val_loss, val_accuracy, clock()))
        if hp.patience and progress.just_improved:
            best_weights = model.get_weights()
        if progress.patience_ran_out(hp.patience) and not progress.finished:
            progress.stopped_early = stopped = True
            break
    if hp.patience and best_weights is not None and (progress.stopped_early or progress.finished):
        # As Keras' EarlyStopping does at the end of training: the best epoch's weights.
        last_weights = model.get_weights()
        model.set_weights(best_weights)
    progress.stop_clock(clock())
    return TrainOutcome(
        progress=progress,
        stopped=stopped,
        best_weights=best_weights if hp.patience else None,
        last_weights=last_weights,
    )
