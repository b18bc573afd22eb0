"""The live chart's data: a run's rows, consumed as they come, kept in full in growing NumPy
arrays, and the bounded table each redraw sends (``LiveChartData``; the spec: ``charts.py``).

Redrawing must cost the server almost nothing and send little, whatever the history length:
- at most ``MAX_BATCH_POINTS`` batch points are sent: older batches are averaged in
  power-of-two buckets aligned to the start, so buckets stay put until the bucket size doubles;
- the table holds float32 values and a dictionary-coded series name (small Arrow).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from colorclf.core.rows import Row, improves

# A redraw (the spec and these points) stays under 10 KB however long the run
# (bench/bench_page.py figure 3); the tutorial's run ends with 99 batch points either way.
MAX_BATCH_POINTS = 112
MAX_EPOCH_POINTS = 32  # the tuned preset's 30 epochs are all drawn
# The two panels' series: the loss panel on top, the accuracy panel below.
# "loss" and "accuracy" are the training values smoothed over about a tenth of an epoch.
LOSS_SERIES = ("batch loss", "loss", "val loss")
ACCURACY_SERIES = ("accuracy", "val accuracy")
BEST_EPOCH = "best epoch"  # one point: the epoch of the lowest validation loss (early stopping's)
SERIES = (*LOSS_SERIES, *ACCURACY_SERIES, BEST_EPOCH)
_SERIES_ARROW = pa.array(list(SERIES), pa.string())
# The smoothed lines follow about a tenth of an epoch (an exponential moving average,
# corrected for its start as TensorBoard does).
SMOOTHING_EPOCH_FRACTION = 0.1


class _Growable:
    """A float array that grows by doubling (appends are O(1) amortised)."""

    def __init__(self, columns: int) -> None:
        self.data = np.empty((256, columns), dtype=np.float64)
        self.size = 0

    def append(self, values: tuple[float, ...]) -> None:
        if self.size == len(self.data):
            self.data = np.concatenate([self.data, np.empty_like(self.data)])
        self.data[self.size] = values
        self.size += 1

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]


class LiveChartData:
    """Consumes a run's rows incrementally and builds the bounded table the chart shows.

    ``batches_per_epoch`` turns the rows' global batch step into the chart's x value, the
    epoch (2.5 = halfway through the third epoch).
    """

    def __init__(self, batches_per_epoch: int) -> None:
        self.batches_per_epoch = max(1, int(batches_per_epoch))
        self.consumed = 0
        self._batches = _Growable(5)  # step, loss, accuracy, smoothed loss, smoothed accuracy
        self._epochs = _Growable(3)  # step, val_loss, val_accuracy
        tau = max(1.0, SMOOTHING_EPOCH_FRACTION * self.batches_per_epoch)
        self._weight = float(np.exp(-1.0 / tau))
        self._best: Row | None = None  # the epoch row of the lowest validation loss
        self._ema_loss = self._ema_accuracy = 0.0
        self._ema_count = 0

    def update(self, rows: list[Row]) -> bool:
        """Take the rows not yet seen; True if there were any."""
        end = len(rows)
        for row in rows[self.consumed : end]:
            if row["kind"] == "batch":
                loss, accuracy, weight = row["loss"], row["accuracy"], self._weight
                self._ema_loss = weight * self._ema_loss + (1 - weight) * loss
                self._ema_accuracy = weight * self._ema_accuracy + (1 - weight) * accuracy
                self._ema_count += 1
                start = 1 - weight**self._ema_count  # the start correction
                smooth = (self._ema_loss / start, self._ema_accuracy / start)
                self._batches.append((row["step"], loss, accuracy, *smooth))
            else:
                self._epochs.append((row["step"], _nan(row["val_loss"]), _nan(row["val_accuracy"])))
                if improves(row["val_loss"], self._best):
                    self._best = row
        changed = end > self.consumed
        self.consumed = end
        return changed

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """epoch (float32), series code (int8, index into SERIES), value (float32);
        bounded, finite values only."""
        steps: list[np.ndarray] = []
        values: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        batch = _thin(self._batches.view, MAX_BATCH_POINTS)
        epoch = _thin_epochs(self._epochs.view, MAX_EPOCH_POINTS)
        sources = [(batch, 1), (batch, 3), (epoch, 1), (batch, 4), (epoch, 2)]
        for code, (table, column) in enumerate(sources):
            steps.append(table[:, 0])
            values.append(table[:, column])
            codes.append(np.full(len(table), code, dtype=np.int8))
        if self._best is not None:
            steps.append(np.array([self._best["step"]], dtype=np.float64))
            values.append(np.array([self._best["val_loss"]], dtype=np.float64))
            codes.append(np.array([SERIES.index(BEST_EPOCH)], dtype=np.int8))
        value = np.concatenate(values)
        keep = np.isfinite(value)
        epochs = np.concatenate(steps)[keep] / self.batches_per_epoch
        return (
            epochs.astype(np.float32),
            np.concatenate(codes)[keep],
            value[keep].astype(np.float32),
        )

    def table(self) -> pa.Table:
        """What the page sends: an Arrow table (epoch, series as a dictionary, value).

        Built straight from NumPy: a pandas frame costs ~1.5 ms to build and ~1.8 ms more
        for Streamlit to convert, at every redraw.
        """
        epoch, code, value = self._columns()
        series = pa.DictionaryArray.from_arrays(pa.array(code, pa.int8()), _SERIES_ARROW)
        return pa.table({"epoch": epoch, "series": series, "value": value})

    @property
    def batch_count(self) -> int:
        return self._batches.size

    @property
    def epoch_count(self) -> int:
        return self._epochs.size


def _nan(value: float | None) -> float:
    return np.nan if value is None else value


def _thin(table: np.ndarray, limit: int) -> np.ndarray:
    """Average rows in power-of-two buckets aligned to the first row, at most ``limit`` rows.

    Each bucket is drawn at its last step; the newest, partial bucket is averaged too, so the
    line always reaches the latest batch.
    """
    n = len(table)
    if n <= limit:
        return table
    size = 1 << int(np.ceil(np.log2(n / limit)))
    starts = np.arange(0, n, size)
    sums = np.add.reduceat(table[:, 1:], starts, axis=0)
    counts = np.diff(np.append(starts, n)).reshape(-1, 1)
    last_steps = table[np.minimum(starts + size, n) - 1, 0:1]
    return np.hstack([last_steps, sums / counts])


def _thin_epochs(table: np.ndarray, limit: int) -> np.ndarray:
    """Keep every k-th epoch (and always the last) when there are more than ``limit``."""
    n = len(table)
    if n <= limit:
        return table
    stride = -(-n // limit)
    keep = np.unique(np.append(np.arange(0, n, stride), n - 1))
    return table[keep]
