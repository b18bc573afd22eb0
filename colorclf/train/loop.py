"""The training loop: epochs one ``fit`` call each, rows streamed to a sink.

``train`` runs the epochs over a seeded permutation per epoch (``core.rows.epoch_order``), so
a run stopped at epoch k, batch b resumes at batch b+1 of the same permutation: a resumed run
sees the same batches as one that was never stopped. The rows are described in
``colorclf.core.rows``; the batch rows come from ``LossStream``.
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
from colorclf.core.rows import Progress, Sink, batches_per_epoch, epoch_order
from colorclf.train.callback import LossStream

if TYPE_CHECKING:
    import keras

@dataclass
class TrainOutcome:
    """What ``train`` returns: the progress (for Resume) and whether it stopped early."""

    progress: Progress
    stopped: bool


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
) -> TrainOutcome:
    """Train for ``hp.epochs`` epochs (or resume ``progress``), streaming rows to ``sink``.

    Stops after the batch during which ``should_stop()`` turned true; the model then holds the
    weights after that batch and the returned progress resumes from the next one.
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
    while not progress.finished:
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
    progress.stop_clock(clock())
    return TrainOutcome(progress=progress, stopped=stopped)
