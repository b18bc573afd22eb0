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
SERIES_COLORS = ("#9ecae1", "#1f5fd6", "#e6550d", "#31a354", "#8e44ad", "#000000")
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


# Pixels of the whole chart (legend and axis included) and how its plot is shared: tall
# enough for a laptop's first screen to show both panels readably (issue 31: 236 px left
# the plots ~60 px each), and half a 720 px projector in presenter mode.
CHART_HEIGHT = 330
LARGE_CHART_HEIGHT = 364  # presenter mode, in large type
LOSS_PANEL_HEIGHT = 100
ACCURACY_PANEL_HEIGHT = 76
PANEL_GAP = 18
# Dashes tell the series apart without their colours (WCAG 1.4.1): validation dashed, with
# a point per epoch; the batches' loss thin, the smoothed lines thick.
SERIES_DASHES = ([1, 0], [1, 0], [5, 3], [1, 0], [5, 3], [1, 0])
# What a screen reader says the chart is (vega-embed makes it the chart's aria-label); what
# it shows now is in the one-line summary under it (``summary``).
DESCRIPTION = (
    "Live training chart: the loss (above) and the accuracy (below) by epoch, for the "
    "training batches and the validation colours."
)
HOVER = "hover"  # the selection of the batch nearest the pointer


@functools.cache
def loss_chart_spec(large: bool = False) -> dict[str, Any]:
    """The live chart's Vega-Lite spec (``large``: presenter mode's, taller, its axes and
    legend in type readable on a projector): two aligned panels over one epoch axis, the loss
    above (each batch's loss, quiet, with a smoothed line through it, and the validation
    loss after each epoch) and the accuracy below (smoothed, and validation). Pointing
    anywhere over the plot draws a rule at the nearest batch and one tooltip with its epoch
    and every series' value there (``_hover_layers``).

    Two panels rather than two y-axes over one plot: a falling loss and a rising accuracy
    drawn over each other cross in an X that reads as one thing. The panels are one layered
    view whose two y scales map to two bands of its height (Vega-Lite cannot stretch a
    ``vconcat`` to its container's width). Built once with Altair (without data); the page
    passes the table separately, so each redraw only sends data.
    """
    import altair as alt

    placeholder = pd.DataFrame({"epoch": [0.0], "series": [SERIES[0]], "value": [0.0]})
    font = 20 if large else 12
    height = LOSS_PANEL_HEIGHT + PANEL_GAP + ACCURACY_PANEL_HEIGHT
    loss_share = LOSS_PANEL_HEIGHT / height
    accuracy_top = (LOSS_PANEL_HEIGHT + PANEL_GAP) / height
    # The best epoch's diamond explains itself by its tooltip and the status line; in the
    # legend it would take a second row from the plot.
    legend = alt.Legend(
        title=None,
        orient="top",
        direction="horizontal",
        columns=5,
        symbolSize=160 if large else 60,
        symbolType="stroke",
        symbolStrokeWidth=3 if large else 2,
        padding=0,
        values=[*LOSS_SERIES, *ACCURACY_SERIES],
    )
    color = alt.Color(
        "series:N", scale=alt.Scale(domain=list(SERIES), range=list(SERIES_COLORS)), legend=legend
    )
    # The same field and legend as the colour: Vega-Lite merges the two into one legend whose
    # symbols show each line's dash.
    dash = alt.StrokeDash(
        "series:N", scale=alt.Scale(domain=list(SERIES), range=list(SERIES_DASHES)), legend=legend
    )
    x = alt.X(
        "epoch:Q",
        title="epoch",
        scale=alt.Scale(domainMin=0, nice=False),
        axis=alt.Axis(tickMinStep=1, grid=True, orient="bottom", titlePadding=2),
    )

    def only(*names: str) -> alt.FieldOneOfPredicate:
        return alt.FieldOneOfPredicate("series", list(names))

    def panel(names: tuple[str, ...], title: str, band: tuple[str, str]) -> alt.LayerChart:
        accuracy = title == "accuracy"
        y = alt.Y(
            "value:Q",
            title=title,
            scale=alt.Scale(
                domain=[0, 1] if accuracy else alt.Undefined,
                zero=False,
                range=[{"expr": band[0]}, {"expr": band[1]}],
            ),
            axis=alt.Axis(
                format="%" if accuracy else "~g", tickCount=3 if accuracy else 4, orient="left"
            ),
        )
        base = alt.Chart(placeholder).encode(x=x, y=y, color=color, strokeDash=dash)
        layers = []
        noisy = [name for name in names if name.startswith("batch")]
        if noisy:
            layers.append(base.transform_filter(only(*noisy)).mark_line(strokeWidth=1))
        smooth = [name for name in names if name in ("loss", "accuracy")]
        layers.append(base.transform_filter(only(*smooth)).mark_line(strokeWidth=2.5))
        validation = [name for name in names if name.startswith("val")]
        layers.append(
            base.transform_filter(only(*validation)).mark_line(point={"size": 40}, strokeWidth=2)
        )
        if not accuracy:  # the best epoch: a diamond on the validation loss line
            layers.append(
                base.transform_filter(only(BEST_EPOCH)).mark_point(
                    shape="diamond", size=150, filled=True, opacity=1
                )
            )
        return alt.layer(*layers)

    chart = (
        alt.layer(
            # Bands as fractions of the plot's height: Vega shrinks the plot to leave room
            # for the axis and the legend inside the chart's height.
            panel(LOSS_SERIES, "loss", (f"height * {loss_share:.3f}", "0")),
            panel(ACCURACY_SERIES, "accuracy", ("height", f"height * {accuracy_top:.3f}")),
            *_hover_layers(placeholder, x),
        )
        .resolve_scale(y="independent")
        .resolve_axis(y="independent")
        .properties(
            width="container",
            height=LARGE_CHART_HEIGHT if large else CHART_HEIGHT,
            description=DESCRIPTION,
        )
        .configure_axis(labelFontSize=font, titleFontSize=font, titleFontWeight="normal")
        .configure_legend(labelFontSize=font - 1)
    )
    spec = chart.to_dict()
    # The data travels separately on every redraw; the spec must not carry any.
    spec.pop("datasets", None)
    spec.pop("data", None)
    _strip_data(spec)
    for panel_spec in spec["layer"][:2]:
        _share_encodings(panel_spec, ("x", "y", "color", "strokeDash"))
    pointer = _share_transforms(spec["layer"][2:])
    spec["layer"][2:] = [pointer]
    # One epoch axis and one legend for the whole chart: the panels' series colours and dashes
    # (the same in both) go up too, and the pointer, which has no series, draws in its own.
    _share_encodings(pointer, ("x",))
    _share_encodings(spec, ("x", "color", "strokeDash"))
    pointer["encoding"] = {"color": {"value": HOVER_COLOR}, "strokeDash": {"value": [1, 0]}}
    # Ten redraws a second cost the browser far less on a canvas than as SVG nodes, and
    # without ARIA attributes for every point (Streamlit passes embedOptions to vega-embed).
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    spec.setdefault("config", {})["aria"] = False
    return spec


HOVER_COLOR = "#555555"  # the rule at the batch the pointer picked
# The hover tooltip's lines: (field computed in ``_hover_layers``, title).
HOVER_TOOLTIP = (
    ("at", "epoch"),
    ("batch loss", "batch loss"),
    ("loss", "loss (smoothed)"),
    ("accuracy", "accuracy (smoothed)"),
    ("val loss at", "val loss"),
    ("val accuracy at", "val accuracy"),
)


def _hover_layers(placeholder: pd.DataFrame, x: Any) -> list[Any]:
    """An invisible point per sent batch, over the whole plot (no y: Vega-Lite's ``nearest``
    then picks the batch nearest the pointer along x alone), carrying one tooltip with every
    series there, and a rule drawn at the chosen batch.

    The long table is pivoted in the browser into one row per batch, and each row looks up
    the validation values of the nearest finished epoch (validation rows sit on whole
    epochs): the page sends no second table.
    """
    import altair as alt

    hover = alt.selection_point(
        name=HOVER,
        nearest=True,
        on="pointerover",
        fields=["epoch"],
        empty=False,
        clear="pointerout",
    )
    shown = [*LOSS_SERIES, *ACCURACY_SERIES]
    value = "format(datum[{0!r}], '.4f')"
    rows = (
        alt.Chart(placeholder)
        .transform_filter(alt.FieldOneOfPredicate("series", shown))
        .transform_pivot("series", value="value", groupby=["epoch"])
        # The last finished epoch: the pointer past it still shows the newest validation.
        .transform_calculate(finished="isValid(datum['val loss']) ? datum.epoch : null")
        .transform_joinaggregate(last="max(finished)")
        .transform_calculate(near="clamp(round(datum.epoch), 1, datum.last || 1)")
        .transform_joinaggregate(
            val_loss="max(val loss)", val_accuracy="max(val accuracy)", groupby=["near"]
        )
        .transform_filter("isValid(datum['loss'])")
        .transform_calculate(
            at="format(datum.epoch, '.1f')",
            **{name: value.format(name) for name in ("batch loss", "loss")},
            accuracy="format(datum.accuracy, '.1%')",
            **{
                "val loss at": "isValid(datum.val_loss) ? format(datum.val_loss, '.4f') + "
                "' (epoch ' + datum.near + ')' : 'after the first epoch'",
                "val accuracy at": "isValid(datum.val_accuracy) ? "
                "format(datum.val_accuracy, '.1%') + ' (epoch ' + datum.near + ')' : "
                "'after the first epoch'",
            },
        )
        .encode(x=x)
    )
    points = (
        rows.mark_point(opacity=0, size=1)
        .encode(tooltip=[alt.Tooltip(f"{field}:N", title=title) for field, title in HOVER_TOOLTIP])
        .add_params(hover)
    )
    rule = rows.mark_rule(color=HOVER_COLOR, strokeWidth=1).transform_filter(hover)
    return [points, rule]


def _share_encodings(panel: dict[str, Any], channels: tuple[str, ...]) -> None:
    """Move ``channels`` out of a panel's layers into the panel's own ``encoding``, which
    they inherit: the spec travels with every redraw, and the scales written out in every
    layer were most of it."""
    shared: dict[str, Any] = {}
    for leaf in panel["layer"]:
        for channel in channels:
            if channel in leaf.get("encoding", {}):
                encoding = leaf["encoding"].pop(channel)
                if shared.setdefault(channel, encoding) != encoding:
                    raise ValueError(f"the layers' {channel} encodings differ: none is shared")
    panel["encoding"] = {**panel.get("encoding", {}), **shared}


def _share_transforms(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """One layer over ``layers`` holding the transforms they all begin with, which they
    inherit: the pointer's tooltip and rule each carried the same ~1.3 KB of them, a sixth
    of every redraw."""
    shared: list[Any] = layers[0].get("transform", [])
    for leaf in layers[1:]:
        transforms = leaf.get("transform", [])
        common = 0
        while common < min(len(shared), len(transforms)) and shared[common] == transforms[common]:
            common += 1
        shared = shared[:common]
    for leaf in layers:
        rest = leaf.pop("transform", [])[len(shared) :]
        if rest:
            leaf["transform"] = rest
    return {"transform": shared, "layer": layers}


def _strip_data(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("data", None)
        for value in node.values():
            _strip_data(value)
    elif isinstance(node, list):
        for value in node:
            _strip_data(value)
