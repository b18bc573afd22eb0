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
        return row

    def follow(self, row: Row) -> None:
        """Move a copy on from a row the training sent (the server's view of a run)."""
        if row["kind"] == "batch":
            self.step, self.batch = row["step"], row["batch"]
            self.epoch = row["epoch"] - 1
        else:
            self.epoch, self.batch = row["epoch"], 0
            self.last_epoch_row = row
        self.seconds = row["seconds"]

    def stop_clock(self, seconds: float) -> None:
        """The training time when a ``fit`` ends (the clock pauses until Resume)."""
        self.seconds = seconds


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The seeded shuffle of epoch ``epoch`` (0-based): independent of any global RNG."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def batches_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)
