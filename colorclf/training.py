"""Training with a live loss stream.

``LossStream`` is a Keras callback that turns Keras' logs into plain *rows* and hands them
to a sink (any callable taking one dict). It knows nothing of Streamlit: the page's chart
is one sink, a test's ``list.append`` another. How often a sink redraws is its own business.

Rows (all keys always present; ``None`` where a value does not apply):
    kind          "batch" or "epoch"
    step          global batch number, 1-based, counted across resumes
    epoch         1-based epoch
    batch         1-based batch within the epoch ("epoch" rows: batches in that epoch)
    loss          that batch's own loss ("epoch" rows: the epoch's mean training loss)
    accuracy      that batch's own accuracy ("epoch" rows: the epoch's mean)
    val_loss      validation loss after the epoch ("epoch" rows only)
    val_accuracy  validation accuracy after the epoch ("epoch" rows only)
    seconds       training seconds since the run began (excluding paused time)

Keras' ``on_train_batch_end`` logs carry the running mean over the epoch so far, not the
batch's own value. Keras weights that mean by batch size, so the batch's value is exactly
``(mean_b * seen_b - mean_(b-1) * seen_(b-1)) / size_b``.

``train`` runs the epochs one ``fit`` call each, over a seeded permutation per epoch, so a
run stopped at epoch k, batch b resumes at batch b+1 of the same permutation: a resumed run
sees the same batches as one that was never stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from colorclf.dataset import Split
from colorclf.hyperparams import Hyperparams

if TYPE_CHECKING:
    import keras

Row = dict[str, Any]
Sink = Callable[[Row], None]

ROW_KEYS = (
    "kind",
    "step",
    "epoch",
    "batch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "seconds",
)


def make_row(kind: str, **values: Any) -> Row:
    row: Row = dict.fromkeys(ROW_KEYS)
    row["kind"] = kind
    row.update(values)
    return row


@dataclass
class Progress:
    """Where a run stands, so that it can be resumed exactly where it stopped."""

    epochs_planned: int
    epoch: int = 0  # 0-based epoch in progress (== epochs_planned when finished)
    batch: int = 0  # batches finished within that epoch
    step: int = 0  # batches finished in the whole run
    seconds: float = 0.0  # training time so far
    epoch_loss_sum: float = 0.0  # sample-weighted sums over the epoch in progress
    epoch_acc_sum: float = 0.0
    epoch_seen: int = 0
    last_epoch_row: Row | None = None

    @property
    def finished(self) -> bool:
        return self.epoch >= self.epochs_planned

    @property
    def started(self) -> bool:
        return self.step > 0


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The seeded shuffle of epoch ``epoch`` (0-based): independent of any global RNG."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def batches_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)


class LossStream:
    """Build with ``LossStream.callback(...)``; see the module docstring for the rows."""

    @staticmethod
    def callback(
        sink: Sink,
        progress: Progress,
        *,
        batch_size: int,
        n_train: int,
        clock: Callable[[], float],
        should_stop: Callable[[], bool] | None = None,
    ) -> keras.callbacks.Callback:
        import keras

        class _LossStream(keras.callbacks.Callback):
            """Sends one row per batch; checks ``should_stop`` after each batch."""

            def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
                self._size = min(batch_size, n_train - progress.batch * batch_size)

            def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
                logs = logs or {}
                size = self._size
                if size <= 0:
                    return
                # Keras' logs: running means over this fit call (which may start mid-epoch).
                seen_in_call = self._seen_in_call + size
                loss_total = float(logs["loss"]) * seen_in_call
                acc_total = float(logs["accuracy"]) * seen_in_call
                batch_loss = (loss_total - self._loss_total) / size
                batch_acc = (acc_total - self._acc_total) / size
                self._seen_in_call, self._loss_total, self._acc_total = (
                    seen_in_call,
                    loss_total,
                    acc_total,
                )
                progress.batch += 1
                progress.step += 1
                progress.epoch_loss_sum += batch_loss * size
                progress.epoch_acc_sum += batch_acc * size
                progress.epoch_seen += size
                sink(
                    make_row(
                        "batch",
                        step=progress.step,
                        epoch=progress.epoch + 1,
                        batch=progress.batch,
                        loss=batch_loss,
                        accuracy=min(max(batch_acc, 0.0), 1.0),
                        seconds=clock(),
                    )
                )
                if should_stop is not None and should_stop():
                    self.model.stop_training = True

            def on_train_begin(self, logs: dict | None = None) -> None:
                self._seen_in_call = 0
                self._loss_total = 0.0
                self._acc_total = 0.0

        return _LossStream()


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

    callback = LossStream.callback(
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
        row = make_row(
            "epoch",
            step=progress.step,
            epoch=progress.epoch + 1,
            batch=progress.batch,
            loss=progress.epoch_loss_sum / max(progress.epoch_seen, 1),
            accuracy=progress.epoch_acc_sum / max(progress.epoch_seen, 1),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            seconds=clock(),
        )
        progress.epoch += 1
        progress.batch = 0
        progress.epoch_loss_sum = progress.epoch_acc_sum = 0.0
        progress.epoch_seen = 0
        progress.last_epoch_row = row
        sink(row)
    progress.seconds = clock()
    return TrainOutcome(progress=progress, stopped=stopped)
