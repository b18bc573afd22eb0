"""The command line's view of a training: Keras' own ``Progbar`` on a terminal, plain lines
elsewhere. A sink like any other (``colorclf.core.rows``)."""

from __future__ import annotations

import contextlib
import math
from typing import Any, TextIO

import keras

from colorclf.core.rows import Row


class ProgressSink:
    """Shows training rows as Keras' own ``Progbar`` (one bar per epoch) on a terminal, or as
    one plain line per epoch elsewhere. Either way it writes to ``stream``."""

    def __init__(self, epochs: int, batches: int, stream: TextIO, *, bar: bool) -> None:
        self.epochs = epochs
        self.batches = batches
        self.stream = stream
        self.bar = bar
        self._progbar: Any = None

    def __call__(self, row: Row) -> None:
        if self.bar:
            self._draw(row)
        elif row["kind"] == "epoch":
            self.stream.write(epoch_line(row, self.epochs) + "\n")
            self.stream.flush()

    def _draw(self, row: Row) -> None:
        # Progbar writes to sys.stdout; point it at our stream while it draws.
        with contextlib.redirect_stdout(self.stream):
            if row["kind"] == "batch":
                if self._progbar is None:
                    print(f"Epoch {row['epoch']}/{self.epochs}", flush=True)
                    self._progbar = keras.utils.Progbar(self.batches, verbose=1)
                # Stateless: the bar shows the epoch's running mean, as Keras' fit does.
                values = [("loss", row["loss"]), ("accuracy", row["accuracy"])]
                self._progbar.update(row["batch"], values, finalize=False)
            else:
                if self._progbar is None:  # an epoch row without batches (resumed at its end)
                    self._progbar = keras.utils.Progbar(self.batches, verbose=1)
                values = [
                    (key, row[key])
                    for key in ("loss", "accuracy", "val_loss", "val_accuracy")
                    if row[key] is not None and math.isfinite(row[key])
                ]
                self._progbar.update(row["batch"], values, finalize=True)
                self._progbar = None


def epoch_line(row: Row, epochs: int) -> str:
    parts = [f"epoch {row['epoch']}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        value = row[key]
        shown = "n/a" if value is None or not math.isfinite(value) else f"{value:.4f}"
        parts.append(f"{key} {shown}")
    parts.append(f"{row['seconds']:.1f} s")
    return " - ".join(parts)
