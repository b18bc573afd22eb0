"""The live loss chart: a fixed Vega-Lite spec (made once with Altair) and bounded data.

Redrawing must cost the server almost nothing and send little, whatever the history length:
- the spec is built once and never changes while a run trains (a changed spec or title
  makes the browser rebuild its view instead of updating the data);
- ``LiveChartData`` keeps the full history in growing NumPy arrays and sends at most
  ``MAX_BATCH_POINTS`` batch points: older batches are averaged in power-of-two buckets
  aligned to the start, so buckets stay put until the bucket size doubles;
- the data frame holds float32 values and a categorical series name (small Arrow).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from colorclf.core.labels import LABEL_COLORS, LABELS
from colorclf.core.rows import Row, improves

MAX_BATCH_POINTS = 160
MAX_EPOCH_POINTS = 60
SERIES = (
    "batch loss",
    "epoch loss",
    "val loss",
    "batch accuracy",
    "epoch accuracy",
    "val accuracy",
    "best epoch",  # one point: the epoch of the lowest validation loss (early stopping's)
)
_SERIES_ARROW = pa.array(list(SERIES), pa.string())
SERIES_COLORS = ("#9ecae1", "#1f5fd6", "#e6550d", "#c7e9c0", "#31a354", "#8e44ad", "#000000")


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
    """Consumes a run's rows incrementally and builds the bounded frame the chart shows."""

    def __init__(self) -> None:
        self.consumed = 0
        self._batches = _Growable(3)  # step, loss, accuracy
        self._epochs = _Growable(5)  # step, loss, accuracy, val_loss, val_accuracy
        self._best: Row | None = None  # the epoch row of the lowest validation loss

    def update(self, rows: list[Row]) -> bool:
        """Take the rows not yet seen; True if there were any."""
        end = len(rows)
        for row in rows[self.consumed : end]:
            if row["kind"] == "batch":
                self._batches.append((row["step"], row["loss"], row["accuracy"]))
            else:
                self._epochs.append(
                    (
                        row["step"],
                        row["loss"],
                        row["accuracy"],
                        _nan(row["val_loss"]),
                        _nan(row["val_accuracy"]),
                    )
                )
                if improves(row["val_loss"], self._best):
                    self._best = row
        changed = end > self.consumed
        self.consumed = end
        return changed

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """step (float32), series code (int8, index into SERIES), value (float32); bounded,
        finite values only."""
        steps: list[np.ndarray] = []
        values: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        batch = _thin(self._batches.view, MAX_BATCH_POINTS)
        epoch = _thin_epochs(self._epochs.view, MAX_EPOCH_POINTS)
        for code, (table, column) in enumerate(
            [(batch, 1), (epoch, 1), (epoch, 3), (batch, 2), (epoch, 2), (epoch, 4)]
        ):
            steps.append(table[:, 0])
            values.append(table[:, column])
            codes.append(np.full(len(table), code, dtype=np.int8))
        if self._best is not None:
            steps.append(np.array([self._best["step"]], dtype=np.float64))
            values.append(np.array([self._best["val_loss"]], dtype=np.float64))
            codes.append(np.array([SERIES.index("best epoch")], dtype=np.int8))
        value = np.concatenate(values)
        keep = np.isfinite(value)
        return (
            np.concatenate(steps)[keep].astype(np.float32),
            np.concatenate(codes)[keep],
            value[keep].astype(np.float32),
        )

    def table(self) -> pa.Table:
        """What the page sends: an Arrow table (step, series as a dictionary, value).

        Built straight from NumPy: a pandas frame costs ~1.5 ms to build and ~1.8 ms more
        for Streamlit to convert, at every redraw.
        """
        step, code, value = self._columns()
        series = pa.DictionaryArray.from_arrays(pa.array(code, pa.int8()), _SERIES_ARROW)
        return pa.table({"step": step, "series": series, "value": value})

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


@functools.cache
def loss_chart_spec() -> dict[str, Any]:
    """The live chart's Vega-Lite spec: loss (left axis) and accuracy (right) per step.

    Built once with Altair (without data); the page passes the frame separately, so each
    redraw only sends data.
    """
    import altair as alt

    placeholder = pd.DataFrame({"step": [0.0], "series": [SERIES[0]], "value": [0.0]})
    color = alt.Color(
        "series:N",
        scale=alt.Scale(domain=list(SERIES), range=list(SERIES_COLORS)),
        legend=alt.Legend(title=None, orient="bottom", columns=3),
    )
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=list(SERIES), range=[[1, 0], [1, 0], [5, 3]] * 2 + [[1, 0]]),
        legend=None,
    )

    def panel(
        name: str, y_axis: alt.Axis, y_scale: alt.Scale, *extra: alt.Chart
    ) -> alt.LayerChart:
        names = [s for s in SERIES if s.endswith(name)]
        base = alt.Chart(placeholder)
        y = alt.Y("value:Q", title=name, scale=y_scale, axis=y_axis)
        batches = (
            base.transform_filter(alt.FieldOneOfPredicate("series", names[:1]))
            .mark_line(strokeWidth=1, opacity=0.8)
            .encode(x=alt.X("step:Q", title="step (batch)"), y=y, color=color)
        )
        epochs = (
            base.transform_filter(alt.FieldOneOfPredicate("series", names[1:]))
            .mark_line(point=True, strokeWidth=2.5)
            .encode(
                x="step:Q",
                y=y,
                color=color,
                strokeDash=dash,
                tooltip=["series:N", "step:Q", alt.Tooltip("value:Q", format=".4f")],
            )
        )
        return alt.layer(batches, epochs, *extra)

    # The best epoch: a diamond on the validation loss line, in the loss panel's scale.
    best = (
        alt.Chart(placeholder)
        .transform_filter(alt.FieldEqualPredicate(field="series", equal="best epoch"))
        .mark_point(shape="diamond", size=150, filled=True, opacity=1)
        .encode(
            x="step:Q",
            y=alt.Y("value:Q"),
            color=color,
            tooltip=[
                alt.Tooltip("series:N", title="marker"),
                "step:Q",
                alt.Tooltip("value:Q", format=".4f", title="val loss"),
            ],
        )
    )
    # Loss on the left axis, accuracy (0–1) on its own scale on the right.
    chart = (
        alt.layer(
            panel("loss", alt.Axis(orient="left"), alt.Scale(zero=False), best),
            panel("accuracy", alt.Axis(orient="right", format="%"), alt.Scale(domain=[0, 1])),
        )
        .resolve_scale(y="independent")
        .properties(width="container", height=300)
    )
    spec = chart.to_dict()
    # The data travels separately on every redraw; the spec must not carry any.
    spec.pop("datasets", None)
    spec.pop("data", None)
    _strip_data(spec)
    _share_encodings(spec, ("color", "strokeDash"))
    # Ten redraws a second cost the browser far less on a canvas than as SVG nodes, and
    # without ARIA attributes for every point (Streamlit passes embedOptions to vega-embed).
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    spec.setdefault("config", {})["aria"] = False
    return spec


def _share_encodings(spec: dict[str, Any], channels: tuple[str, ...]) -> None:
    """Move ``channels`` out of the four layers into the top layer's ``encoding``, which
    they inherit: the spec travels with every redraw, and the colour scale written out four
    times was a third of it."""
    shared: dict[str, Any] = {}
    for panel in spec["layer"]:
        for leaf in panel["layer"]:
            for channel in channels:
                if channel in leaf.get("encoding", {}):
                    shared.setdefault(channel, leaf["encoding"].pop(channel))
    spec["encoding"] = {**spec.get("encoding", {}), **shared}


def _strip_data(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("data", None)
        for value in node.values():
            _strip_data(value)
    elif isinstance(node, list):
        for value in node:
            _strip_data(value)


def probability_spec() -> dict[str, Any]:
    """Bars of the nine probabilities, each in its label's colour."""
    return {
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "probability", "type": "quantitative", "scale": {"domain": [0, 1]}},
            "y": {
                "field": "label",
                "type": "nominal",
                "sort": list(LABELS),
                "title": None,
                "axis": {"labelOverlap": False},
            },
            "color": {
                "field": "label",
                "type": "nominal",
                "scale": {"domain": list(LABELS), "range": [LABEL_COLORS[x] for x in LABELS]},
                "legend": None,
            },
            "tooltip": [
                {"field": "label", "type": "nominal"},
                {"field": "probability", "type": "quantitative", "format": ".3f"},
            ],
        },
        "height": 250,
    }
