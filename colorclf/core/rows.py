"""The row schema every layer shares: what a training sends, a run keeps and a chart draws.

A *row* is a plain dict (all keys always present; ``None`` where a value does not apply):
    kind          "batch" or "epoch"
    step          global batch number, 1-based, counted across resumes
    epoch         1-based epoch
    batch         1-based batch within the epoch ("epoch" rows: batches in that epoch)
    loss          that batch's own loss ("epoch" rows: the epoch's mean training loss)
    accuracy      that batch's own accuracy ("epoch" rows: the epoch's mean)
    val_loss      validation loss after the epoch ("epoch" rows only)
    val_accuracy  validation accuracy after the epoch ("epoch" rows only)
    seconds       training seconds since the run began (excluding paused time)

``Progress`` says where a run stands, so that it can resume exactly where it stopped; it
lives here, below the Keras layer, so that the server's job, the runs and the charts can use
it without importing the training loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

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
    """Where a run stands, so that it can be resumed exactly where it stopped.

    Its own methods are its one writer: the training loop moves it on with ``batch_done`` and
    ``epoch_done`` (which return the rows to send), the server's copy ``follow``s those rows.
    """

    epochs_planned: int
    epoch: int = 0  # 0-based epoch in progress (== epochs_planned when finished)
    batch: int = 0  # batches finished within that epoch
    step: int = 0  # batches finished in the whole run
    seconds: float = 0.0  # training time so far
    epoch_loss_sum: float = 0.0  # sample-weighted sums over the epoch in progress
    epoch_acc_sum: float = 0.0
    epoch_seen: int = 0
    last_epoch_row: Row | None = None
    # Early stopping (Keras' EarlyStopping with min_delta 0): the epoch row of the lowest
    # validation loss so far, epochs finished since then, and whether patience ran out.
    best_epoch_row: Row | None = None
    epochs_since_best: int = 0
    stopped_early: bool = False

    @property
    def finished(self) -> bool:
        return self.epoch >= self.epochs_planned

    @property
    def started(self) -> bool:
        return self.step > 0

    def batch_done(self, loss: float, accuracy: float, size: int, seconds: float) -> Row:
        """Count one finished batch of ``size`` colours (its own loss and accuracy)."""
        self.batch += 1
        self.step += 1
        self.epoch_loss_sum += loss * size
        self.epoch_acc_sum += accuracy * size
        self.epoch_seen += size
        self.seconds = seconds
        return make_row(
            "batch",
            step=self.step,
            epoch=self.epoch + 1,
            batch=self.batch,
            loss=loss,
            accuracy=min(max(accuracy, 0.0), 1.0),
            seconds=seconds,
        )

    def epoch_done(self, val_loss: float, val_accuracy: float, seconds: float) -> Row:
        """Close the epoch in progress: its row (mean training loss and accuracy, validation)."""
        row = make_row(
            "epoch",
            step=self.step,
            epoch=self.epoch + 1,
            batch=self.batch,
            loss=self.epoch_loss_sum / max(self.epoch_seen, 1),
            accuracy=self.epoch_acc_sum / max(self.epoch_seen, 1),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            seconds=seconds,
        )
        self.epoch += 1
        self.batch = 0
        self.epoch_loss_sum = self.epoch_acc_sum = 0.0
        self.epoch_seen = 0
        self.last_epoch_row = row
        self.seconds = seconds
        self._track_best(row)
        return row

    def _track_best(self, row: Row) -> None:
        self.epochs_since_best += 1
        if improves(row["val_loss"], self.best_epoch_row):
            self.best_epoch_row = row
            self.epochs_since_best = 0

    @property
    def best_epoch(self) -> int | None:
        """The 1-based epoch of the lowest validation loss so far (None: no epoch yet)."""
        return None if self.best_epoch_row is None else self.best_epoch_row["epoch"]

    @property
    def just_improved(self) -> bool:
        """The epoch that just ended has the lowest validation loss so far."""
        return self.best_epoch_row is not None and self.best_epoch_row is self.last_epoch_row

    def patience_ran_out(self, patience: int) -> bool:
        """Keras' rule: ``patience`` epochs in a row without a lower validation loss (0: never)."""
        return (
            patience > 0
            and self.best_epoch_row is not None
            and (self.epochs_since_best >= patience)
        )

    def continue_after_stop(self) -> None:
        """Resume or Step after an early stop: patience counts again from this epoch."""
        self.stopped_early = False
        self.epochs_since_best = 0

    def follow(self, row: Row) -> None:
        """Move a copy on from a row the training sent (the server's view of a run)."""
        if row["kind"] == "batch":
            self.step, self.batch = row["step"], row["batch"]
            self.epoch = row["epoch"] - 1
        else:
            self.epoch, self.batch = row["epoch"], 0
            self.last_epoch_row = row
            self._track_best(row)
        self.seconds = row["seconds"]

    def stop_clock(self, seconds: float) -> None:
        """The training time when a ``fit`` ends (the clock pauses until Resume)."""
        self.seconds = seconds


def improves(val_loss: float | None, best_row: Row | None) -> bool:
    """A validation loss lower than the best epoch's (a missing or NaN loss never is)."""
    if val_loss is None or not math.isfinite(val_loss):
        return False
    return best_row is None or val_loss < best_row["val_loss"]


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The seeded shuffle of epoch ``epoch`` (0-based): independent of any global RNG."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def batches_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)
