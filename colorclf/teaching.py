"""The teaching views' data and chart specs: decision map, confusion matrix, run comparison,
dataset explorer and cleaning. Headless: no Streamlit here.

Every chart is a FIXED Vega-Lite dict spec plus a pandas frame, drawn by the page with
``st.vega_lite_chart(frame, spec)``: redrawing with new data and the same spec costs a few
milliseconds and the browser keeps its view (no flicker), so the decision map can follow
the weights epoch by epoch.

Colour geometry: hue in degrees (0–360, as in HSL and HSV), saturation and lightness as
fractions 0–1 (HSL). A colour with r = g = b has no hue; by convention its hue is 0.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from colorclf.core.colour import hue_degrees
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABEL_COLORS, LABELS, NUM_LABELS

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor
    from colorclf.core.runs import Run

LABEL_LIST: list[str] = list(LABELS)
COLOR_LIST: list[str] = [LABEL_COLORS[name] for name in LABELS]
# The one colour scale of every chart coloured by label: the nine names in LABELS order.
LABEL_SCALE: dict[str, list[str]] = {"domain": LABEL_LIST, "range": COLOR_LIST}
_LABEL_ARRAY = np.array(LABEL_LIST)
_COLOR_ARRAY = np.array(COLOR_LIST)


# ---------------------------------------------------------------------------- colour geometry


def hsl_to_rgb(hue: np.ndarray, saturation: np.ndarray, lightness: np.ndarray) -> np.ndarray:
    """RGB rows (n×3 ints 0–255) for HSL colours: hue in degrees, saturation/lightness 0–1."""
    h = np.mod(np.asarray(hue, dtype=np.float64), 360.0) / 60.0
    s = np.clip(np.asarray(saturation, dtype=np.float64), 0.0, 1.0)
    lum = np.clip(np.asarray(lightness, dtype=np.float64), 0.0, 1.0)
    h, s, lum = np.broadcast_arrays(h, s, lum)
    chroma = (1.0 - np.abs(2.0 * lum - 1.0)) * s
    x = chroma * (1.0 - np.abs(np.mod(h, 2.0) - 1.0))
    zero = np.zeros_like(chroma)
    sector = np.floor(h).astype(int) % 6
    r = np.choose(sector, [chroma, x, zero, zero, x, chroma])
    g = np.choose(sector, [x, chroma, chroma, x, zero, zero])
    b = np.choose(sector, [zero, zero, x, chroma, chroma, x])
    m = lum - chroma / 2.0
    rgb = np.stack([r + m, g + m, b + m], axis=-1)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.int64).reshape(-1, 3)


def rgb_to_hsl(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue (degrees 0–360), saturation and lightness (0–1) of n×3 RGB rows in 0–255.

    The hue is computed from the integers, so a hue of exactly 20° comes out as 20.0 (what a
    hue rule's edge expects).
    """
    hue, mx, mn, chroma = hue_degrees(rgb)
    lightness = (mx + mn) / 510.0
    denominator = 1.0 - np.abs(2.0 * lightness - 1.0)
    defined = denominator > 1e-12
    sat = np.where(defined, chroma / 255.0 / np.where(defined, denominator, 1.0), 0.0)
    return hue, np.clip(sat, 0.0, 1.0), lightness


_HEX_BYTE = np.array([f"{i:02x}" for i in range(256)])


def hex_colors(rgb: np.ndarray) -> np.ndarray:
    """``#rrggbb`` for each RGB row (vectorised: a string array)."""
    x = np.asarray(rgb, dtype=np.int64).reshape(-1, 3)
    text = np.strings.add("#", _HEX_BYTE[x[:, 0]])
    text = np.strings.add(text, _HEX_BYTE[x[:, 1]])
    return np.strings.add(text, _HEX_BYTE[x[:, 2]])


# ---------------------------------------------------------------------------- decision map


@functools.lru_cache(maxsize=64)
def _grid(saturation: float, hue_steps: int, lightness_steps: int) -> dict[str, np.ndarray]:
    """The map's cells for one saturation (weights do not matter): geometry and colours."""
    hue_width = 360.0 / hue_steps
    light_height = 1.0 / lightness_steps
    hs, ls = np.meshgrid(
        np.arange(hue_steps) * hue_width, np.arange(lightness_steps) * light_height, indexing="ij"
    )
    hs, ls = hs.ravel(), ls.ravel()
    hue = hs + hue_width / 2.0
    lightness = ls + light_height / 2.0
    rgb = hsl_to_rgb(hue, np.full_like(hue, saturation), lightness)
    grid = {
        "hue": hue,
        "lightness": lightness,
        "hue_start": hs,
        "hue_end": hs + hue_width,
        "lightness_start": ls,
        "lightness_end": ls + light_height,
        "r": rgb[:, 0],
        "g": rgb[:, 1],
        "b": rgb[:, 2],
        "rgb": hex_colors(rgb),
    }
    for array in grid.values():
        array.flags.writeable = False
    return grid


def decision_map(
    predictor: Predictor,
    saturation: float = 1.0,
    hue_steps: int = 72,
    lightness_steps: int = 24,
) -> pd.DataFrame:
    """What the model calls every colour of one HSL saturation slice: a hue × lightness grid.

    One row per cell (``hue_steps * lightness_steps``): ``hue`` and ``lightness`` of the cell's
    centre, its bounds (``hue_start``/``hue_end``, ``lightness_start``/``lightness_end``), the
    centre's ``r``, ``g``, ``b`` (0–255 ints), ``rgb`` (hex), the predicted ``label``, its
    ``color`` (LABEL_COLORS) and ``probability``. All cells are predicted in one call.
    """
    grid = _grid(float(saturation), max(int(hue_steps), 1), max(int(lightness_steps), 1))
    rgb = np.column_stack([grid["r"], grid["g"], grid["b"]])
    probs = np.asarray(predictor.probabilities(rgb))
    best = np.argmax(probs, axis=1)
    return pd.DataFrame(
        {
            **grid,
            "label": _LABEL_ARRAY[best],
            "color": _COLOR_ARRAY[best],
            "probability": probs[np.arange(len(best)), best],
        }
    )


def overlay_frame(
    dataset: ColorDataset,
    saturation: float | None = None,
    *,
    window: float = 0.15,
    max_points: int = 400,
    seed: int = 0,
) -> pd.DataFrame:
    """Training colours to draw over the decision map: ``hue``, ``lightness``, true ``label``
    and ``rgb``.

    With ``saturation``, only colours whose HSL saturation lies within ``window`` of it (the
    colours near the slice the map shows). At most ``max_points``, a seeded sample that stays
    the same from epoch to epoch.
    """
    hue, sat, lightness = rgb_to_hsl(dataset.rgb)
    rows = np.arange(len(dataset))
    if saturation is not None:
        rows = rows[np.abs(sat - float(saturation)) <= window + 1e-9]
    if len(rows) > max_points:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(rows, size=max_points, replace=False))
    return pd.DataFrame(
        {
            "hue": hue[rows],
            "lightness": lightness[rows],
            "label": _LABEL_ARRAY[dataset.label[rows]],
            "rgb": hex_colors(dataset.rgb[rows]),
        }
    )


def decision_map_frame(
    predictor: Predictor,
    saturation: float = 1.0,
    overlay: pd.DataFrame | None = None,
    *,
    hue_steps: int = 72,
    lightness_steps: int = 24,
) -> pd.DataFrame:
    """The one data frame ``decision_map_spec`` draws, built straight from the cached grid
    (a few ms): the cells as in ``decision_map`` (``layer`` = "map", only the columns the spec
    uses) and the optional ``overlay_frame`` points (``layer`` = "data")."""
    grid = _grid(float(saturation), max(int(hue_steps), 1), max(int(lightness_steps), 1))
    rgb = np.column_stack([grid["r"], grid["g"], grid["b"]])
    probs = np.asarray(predictor.probabilities(rgb))
    best = np.argmax(probs, axis=1)
    columns: dict[str, np.ndarray] = {name: grid[name] for name in _MAP_COLUMNS[:7]}
    columns["label"] = _LABEL_ARRAY[best]
    columns["probability"] = probs[np.arange(len(best)), best]
    n_map, n_data = len(best), 0 if overlay is None else len(overlay)
    if overlay is not None and n_data:
        for name, values in columns.items():
            extra = overlay[name].to_numpy() if name in overlay else np.full(n_data, np.nan)
            columns[name] = np.concatenate([values, extra])
    columns["layer"] = np.repeat(np.array(["map", "data"]), [n_map, n_data])
    return pd.DataFrame(columns)


_MAP_COLUMNS = (
    "hue",
    "lightness",
    "hue_start",
    "hue_end",
    "lightness_start",
    "lightness_end",
    "rgb",
    "label",
    "probability",
)

_DECISION_MAP_SPEC: dict[str, Any] = {
    "height": 300,
    # ~2,200 cells (and the overlay's points): as SVG that is ~2,200 DOM nodes, which made
    # every redraw of the page (ten a second while training) restyle them all; a canvas is
    # one node. Streamlit passes ``usermeta.embedOptions`` to vega-embed.
    "usermeta": {"embedOptions": {"renderer": "canvas"}},
    "config": {"axis": {"grid": False}, "aria": False},
    "layer": [
        {
            "transform": [{"filter": "datum.layer === 'map'"}],
            "mark": {"type": "rect", "strokeWidth": 0},
            "encoding": {
                "x": {
                    "field": "hue_start",
                    "type": "quantitative",
                    "scale": {"domain": [0, 360], "nice": False, "zero": False},
                    "axis": {"title": "Hue (°)", "values": [0, 60, 120, 180, 240, 300, 360]},
                },
                "x2": {"field": "hue_end"},
                "y": {
                    "field": "lightness_start",
                    "type": "quantitative",
                    "scale": {"domain": [0, 1], "nice": False},
                    "axis": {"title": "Lightness", "format": ".0%"},
                },
                "y2": {"field": "lightness_end"},
                "color": {
                    "field": "label",
                    "type": "nominal",
                    "scale": LABEL_SCALE,
                    "legend": {"title": "Label"},
                },
                "opacity": {
                    "field": "probability",
                    "type": "quantitative",
                    "scale": {"domain": [1 / NUM_LABELS, 1], "range": [0.35, 1], "clamp": True},
                    "legend": None,
                },
                "tooltip": [
                    {"field": "label", "type": "nominal", "title": "Prediction"},
                    {"field": "probability", "type": "quantitative", "format": ".0%"},
                    {"field": "rgb", "type": "nominal", "title": "Colour"},
                    {"field": "hue", "type": "quantitative", "format": ".0f", "title": "Hue"},
                    {
                        "field": "lightness",
                        "type": "quantitative",
                        "format": ".0%",
                        "title": "Lightness",
                    },
                ],
            },
        },
        {
            "transform": [{"filter": "datum.layer === 'data'"}],
            "mark": {
                "type": "point",
                "filled": True,
                "size": 22,
                "stroke": "white",
                "strokeWidth": 0.7,
                "opacity": 1,
            },
            "encoding": {
                "x": {"field": "hue", "type": "quantitative"},
                "y": {"field": "lightness", "type": "quantitative"},
                "color": {"field": "label", "type": "nominal", "scale": LABEL_SCALE},
                "tooltip": [
                    {"field": "label", "type": "nominal", "title": "Training label"},
                    {"field": "rgb", "type": "nominal", "title": "Colour"},
                ],
            },
        },
    ],
}


def decision_map_spec() -> dict[str, Any]:
    """The decision map's fixed Vega-Lite spec (a fresh copy): coloured cells of the predicted
    label (faded where the model is unsure) and, where present, training colours as points
    coloured by their true label. Draw it with ``decision_map_frame(...)``; the spec never
    changes, so the browser keeps its view and only swaps the data."""
    return copy.deepcopy(_DECISION_MAP_SPEC)


# ---------------------------------------------------------------------------- confusion matrix


def _label_indices(labels: Sequence[int] | Sequence[str] | np.ndarray) -> np.ndarray:
    array = np.asarray(labels)
    if array.dtype.kind in "iu":
        return array.astype(np.int64).reshape(-1)
    index = {name: i for i, name in enumerate(LABELS)}
    return np.array([index[str(name)] for name in array.reshape(-1)], dtype=np.int64)


def confusion_matrix(
    predictor: Predictor, rgb: np.ndarray, labels: Sequence[int] | Sequence[str] | np.ndarray
) -> pd.DataFrame:
    """Counts of (true, predicted) label pairs, all 81 of them in LABELS order.

    ``labels`` are the true labels (indices or names). Columns: ``true``, ``predicted``,
    ``count`` (summing to the number of colours) and ``share`` (of the true label's colours).
    """
    truth = _label_indices(labels)
    rgb = np.asarray(rgb).reshape(-1, 3)
    if len(truth):
        predicted = np.argmax(np.asarray(predictor.probabilities(rgb)), axis=1)
    else:
        predicted = np.zeros(0, dtype=np.int64)
    counts = np.bincount(truth * NUM_LABELS + predicted, minlength=NUM_LABELS**2).reshape(
        NUM_LABELS, NUM_LABELS
    )
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, np.maximum(totals, 1))
    return pd.DataFrame(
        {
            "true": np.repeat(LABEL_LIST, NUM_LABELS),
            "predicted": LABEL_LIST * NUM_LABELS,
            "count": counts.ravel().astype(np.int64),
            "share": shares.ravel(),
        }
    )


def per_class_accuracy(confusion: pd.DataFrame) -> pd.DataFrame:
    """Per true label: ``colours``, ``correct`` and ``accuracy`` (NaN for a label with no colour),
    from a ``confusion_matrix`` frame."""
    # NumPy over the 81 cells: pandas filtering here cost ~10 ms, once a second per trainee.
    true = confusion["true"].to_numpy(dtype=object)
    predicted = confusion["predicted"].to_numpy(dtype=object)
    count = confusion["count"].to_numpy()
    rows = []
    for name in LABELS:
        in_row = true == name
        total = int(count[in_row].sum())
        correct = int(count[in_row & (predicted == name)].sum())
        rows.append(
            {
                "label": name,
                "colours": total,
                "correct": correct,
                "accuracy": correct / total if total else math.nan,
            }
        )
    return pd.DataFrame(rows)


_CONFUSION_SPEC: dict[str, Any] = {
    "title": "Confusion matrix",
    "height": 380,
    "encoding": {
        "x": {
            "field": "predicted",
            "type": "nominal",
            "sort": LABEL_LIST,
            "axis": {"title": "Predicted label", "labelAngle": -40, "labelOverlap": False},
        },
        "y": {
            "field": "true",
            "type": "nominal",
            "sort": LABEL_LIST,
            "axis": {"title": "True label", "labelOverlap": False},
        },
    },
    "layer": [
        {
            "mark": {"type": "rect"},
            "encoding": {
                "color": {
                    "field": "share",
                    "type": "quantitative",
                    "scale": {"scheme": "blues", "domain": [0, 1]},
                    "legend": {"title": "Share of row", "format": ".0%"},
                },
                "tooltip": [
                    {"field": "true", "type": "nominal", "title": "True"},
                    {"field": "predicted", "type": "nominal", "title": "Predicted"},
                    {"field": "count", "type": "quantitative", "title": "Colours"},
                    {"field": "share", "type": "quantitative", "format": ".0%"},
                ],
            },
        },
        {
            "mark": {"type": "text", "fontSize": 11},
            "encoding": {
                "text": {"field": "count", "type": "quantitative"},
                "color": {
                    "condition": {"test": "datum.share > 0.5", "value": "white"},
                    "value": "black",
                },
            },
        },
    ],
}


def confusion_matrix_spec() -> dict[str, Any]:
    """Fixed spec "Confusion matrix": a heatmap (rows = true label, columns = predicted label),
    shaded by the share of the row, with each cell's count written in it."""
    return copy.deepcopy(_CONFUSION_SPEC)


# ---------------------------------------------------------------------------- run comparison

CURVE_METRICS: dict[str, tuple[str, str, str]] = {
    # choice → (training key, validation key, axis title)
    "Loss": ("loss", "val_loss", "Loss"),
    "Accuracy": ("accuracy", "val_accuracy", "Accuracy"),
}


def run_curves(runs: Iterable[Run], metric: str = "Loss") -> pd.DataFrame:
    """Epoch-level curves of several runs: ``run``, ``epoch``, ``set`` (training/validation),
    ``value``. Missing or non-finite values are left out."""
    train_key, val_key, _ = CURVE_METRICS[metric]
    records = []
    for run in runs:
        for row in run.epoch_rows():
            for set_name, metric_key in (("training", train_key), ("validation", val_key)):
                value = row.get(metric_key)
                if value is None or not math.isfinite(float(value)):
                    continue
                records.append(
                    {"run": run.name, "epoch": int(row["epoch"]), "set": set_name, "value": value}
                )
    return pd.DataFrame(records, columns=["run", "epoch", "set", "value"])


def run_curves_spec(metric: str = "Loss") -> dict[str, Any]:
    """Fixed spec of ``run_curves``: one colour per run, solid training, dashed validation
    (say so next to the chart: the dash has no legend)."""
    _, _, title = CURVE_METRICS[metric]
    return {
        "title": f"{title} per epoch",
        "height": 300,
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {
                "field": "epoch",
                "type": "quantitative",
                "axis": {"title": "Epoch", "tickMinStep": 1, "format": "d"},
            },
            "y": {"field": "value", "type": "quantitative", "axis": {"title": title}},
            "color": {
                "field": "run",
                "type": "nominal",
                "scale": {"scheme": "tableau10"},
                "legend": {"title": "Run"},
            },
            "strokeDash": {
                "field": "set",
                "type": "nominal",
                "scale": {"domain": ["training", "validation"], "range": [[1, 0], [5, 3]]},
                "legend": None,
            },
            "tooltip": [
                {"field": "run", "type": "nominal"},
                {"field": "set", "type": "nominal"},
                {"field": "epoch", "type": "quantitative"},
                {"field": "value", "type": "quantitative", "format": ".4f", "title": title},
            ],
        },
    }


# ---------------------------------------------------------------------------- explorer


def label_counts(dataset: ColorDataset) -> pd.DataFrame:
    """Colours per label in LABELS order: ``label``, ``count``, ``color``."""
    counts = dataset.label_counts()
    return pd.DataFrame(
        {
            "label": LABEL_LIST,
            "count": [counts[name] for name in LABELS],
            "color": COLOR_LIST,
        }
    )


def label_counts_spec() -> dict[str, Any]:
    """Bars per label in the label's colour: ``count`` solid, ``before`` (the uncleaned count,
    when the frame has it) as a faded bar behind."""
    bar_x = {
        "field": "label",
        "type": "nominal",
        "sort": LABEL_LIST,
        "axis": {"title": None, "labelAngle": -40, "labelOverlap": False},
    }
    color = {"field": "label", "type": "nominal", "scale": LABEL_SCALE, "legend": None}
    tooltip = [
        {"field": "label", "type": "nominal"},
        {"field": "count", "type": "quantitative", "title": "Colours (kept)"},
        {"field": "dropped", "type": "quantitative", "title": "Dropped"},
    ]
    return {
        "title": "Colours per label",
        "height": 260,
        "layer": [
            {
                "mark": {"type": "bar", "opacity": 0.3},
                "encoding": {
                    "x": bar_x,
                    "y": {"field": "before", "type": "quantitative"},
                    "color": color,
                    "tooltip": tooltip,
                },
            },
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "x": bar_x,
                    "y": {"field": "count", "type": "quantitative", "axis": {"title": "Colours"}},
                    "color": color,
                    "tooltip": tooltip,
                },
            },
        ],
    }


def contributor_counts(dataset: ColorDataset) -> pd.DataFrame:
    """Colours per contributor, most first (ties by id): ``contributor``, ``colours``, ``share``,
    ``top label`` (the label they gave most often; on a tie the first in LABELS order)."""
    ids, inverse = np.unique(dataset.contributor.astype(str), return_inverse=True)
    per_label = np.zeros((len(ids), NUM_LABELS), dtype=np.int64)
    np.add.at(per_label, (inverse, dataset.label), 1)
    colours = per_label.sum(axis=1)
    result = pd.DataFrame(
        {
            "contributor": ids.astype(object),
            "colours": colours,
            "share": colours / max(len(dataset), 1),
            "top label": [LABELS[int(k)] for k in per_label.argmax(axis=1)],
        }
    )
    result = result.sort_values(["colours", "contributor"], ascending=[False, True], kind="stable")
    return result.reset_index(drop=True)


def _hue_order(hue: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Sort keys for hues that start opposite the colours' mean hue (circular, weighted), so
    the typical hues sit together in the middle (red 330°…20° stays together) and the
    outliers at both ends."""
    if len(hue) == 0:
        return hue
    angle = np.radians(hue)
    mean = np.degrees(np.arctan2((weight * np.sin(angle)).sum(), (weight * np.cos(angle)).sum()))
    return np.mod(hue - (mean + 180.0), 360.0)


def mosaic(
    dataset: ColorDataset,
    label: str,
    rules: CleaningRules | None = None,
    *,
    columns: int = 40,
    max_tiles: int = 2400,
    seed: int = 0,
) -> pd.DataFrame:
    """All colours of one label as a grid of tiles sorted by hue (then lightness), starting
    opposite the label's mean hue so its typical colours sit together; pure greys last.

    Columns: ``row_index`` (row in ``dataset``), ``col``/``row`` (tile position, 0-based),
    ``r``, ``g``, ``b``, ``rgb`` (hex), ``hue``, ``lightness``, ``contributor`` and ``kept``
    (False for colours the cleaning ``rules`` drop). At most ``max_tiles`` (a seeded sample).
    """
    label_index = LABELS.index(label)
    rows = np.flatnonzero(dataset.label == label_index)
    if len(rows) > max_tiles:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_tiles, replace=False))
    rgb = dataset.rgb[rows]
    hue, _, lightness = rgb_to_hsl(rgb)
    chroma = rgb.max(axis=1).astype(np.float64) - rgb.min(axis=1)
    sort_hue = np.where(chroma > 0, _hue_order(hue, chroma), 361.0)
    order = np.lexsort((lightness, sort_hue))
    rows, rgb, hue, lightness = rows[order], rgb[order], hue[order], lightness[order]
    keep = np.ones(len(dataset), dtype=bool) if rules is None else keep_mask(dataset, rules)
    position = np.arange(len(rows))
    columns = max(int(columns), 1)
    return pd.DataFrame(
        {
            "row_index": rows,
            "col": position % columns,
            "row": position // columns,
            "r": rgb[:, 0].astype(np.int64),
            "g": rgb[:, 1].astype(np.int64),
            "b": rgb[:, 2].astype(np.int64),
            "rgb": hex_colors(rgb),
            "hue": hue,
            "lightness": lightness,
            "contributor": dataset.contributor[rows].astype(str),
            "kept": keep[rows],
        }
    )


def mosaic_spec(tiles: int, *, columns: int = 40, tile_px: int = 14) -> dict[str, Any]:
    """Spec of a ``mosaic`` frame of ``tiles`` tiles: each tile in its own colour, dropped tiles
    faded."""
    grid_rows = max(math.ceil(tiles / max(columns, 1)), 1)
    return {
        "height": grid_rows * tile_px,
        "transform": [
            {"calculate": "datum.col + 0.92", "as": "col_end"},
            {"calculate": "datum.row + 0.92", "as": "row_end"},
        ],
        "mark": {"type": "rect"},
        "encoding": {
            "x": {
                "field": "col",
                "type": "quantitative",
                "scale": {"domain": [0, columns], "nice": False},
                "axis": None,
            },
            "x2": {"field": "col_end"},
            "y": {
                "field": "row",
                "type": "quantitative",
                "scale": {"domain": [0, grid_rows], "nice": False, "reverse": True},
                "axis": None,
            },
            "y2": {"field": "row_end"},
            "color": {"field": "rgb", "type": "nominal", "scale": None, "legend": None},
            "opacity": {
                "field": "kept",
                "type": "nominal",
                "scale": {"domain": [True, False], "range": [1, 0.15]},
                "legend": None,
            },
            "tooltip": [
                {"field": "rgb", "type": "nominal", "title": "Colour"},
                {"field": "hue", "type": "quantitative", "format": ".0f", "title": "Hue"},
                {"field": "contributor", "type": "nominal", "title": "Contributor"},
                {"field": "kept", "type": "nominal", "title": "Kept"},
            ],
        },
        "config": {"view": {"stroke": None}},
    }


# ---------------------------------------------------------------------------- cleaning


def hue_in_range(hue: np.ndarray, low: float, high: float) -> np.ndarray:
    """Whether each hue lies in [low, high] (degrees); ``low > high`` wraps through 0°
    (330–20 keeps 330…360 and 0…20)."""
    hue = np.asarray(hue, dtype=np.float64)
    if low <= high:
        inside = (hue >= low) & (hue <= high)
        return inside | (hue <= high - 360.0) if high >= 360 else inside  # 360° is 0°
    return (hue >= low) | (hue <= high)


def hue_range_from_slider(low: float, high: float) -> tuple[float, float] | None:
    """A hue rule from a range slider over −180…360 (negative = that many degrees below 360°,
    so −30…20 is the red band 330–20). None when the span covers the whole circle."""
    if high - low >= 360:
        return None
    return (low + 360 if low < 0 else low, high + 360 if high < 0 else high)


def hue_range_to_slider(hue_range: tuple[float, float] | None) -> tuple[float, float]:
    """The inverse of ``hue_range_from_slider``; the whole circle is 0…360."""
    if hue_range is None:
        return (0.0, 360.0)
    low, high = hue_range
    return (low - 360, high) if low > high else (low, high)


@dataclass(frozen=True)
class CleaningRules:
    """What to drop before training.

    ``hue_ranges``: label name → (low, high) hue in degrees to KEEP; that label's colours whose
    hue lies outside are dropped (``low > high`` wraps through 0°, e.g. red 330–20). A pure
    grey (r = g = b) has no hue and is never dropped by a hue rule.
    ``drop_contributors``: contributor ids whose colours are all dropped.
    """

    hue_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    drop_contributors: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        ranges: dict[str, tuple[float, float]] = {}
        for name, (low, high) in self.hue_ranges.items():
            if name not in LABELS:
                raise ValueError(f"unknown label {name!r}")
            low, high = float(low), float(high)
            if not (0 <= low <= 360 and 0 <= high <= 360):
                raise ValueError(f"hue range for {name} must lie within 0–360, got {low}–{high}")
            ranges[name] = (low, high)
        object.__setattr__(self, "hue_ranges", {n: ranges[n] for n in LABELS if n in ranges})
        object.__setattr__(
            self, "drop_contributors", frozenset(str(c) for c in self.drop_contributors)
        )

    @property
    def active(self) -> bool:
        return bool(self.hue_ranges or self.drop_contributors)

    def with_hue_range(self, label: str, hue_range: tuple[float, float] | None) -> CleaningRules:
        """A copy with ``label``'s range set (None removes it)."""
        ranges = dict(self.hue_ranges)
        ranges.pop(label, None)
        if hue_range is not None:
            ranges[label] = hue_range
        return CleaningRules(ranges, self.drop_contributors)

    def with_dropped(self, contributors: Iterable[str]) -> CleaningRules:
        """A copy dropping exactly ``contributors``."""
        return CleaningRules(self.hue_ranges, frozenset(contributors))


def _drop_reasons(dataset: ColorDataset, rules: CleaningRules) -> tuple[np.ndarray, dict[str, int]]:
    """Per row, False if dropped; and rows dropped per reason. A row counts once: under its
    contributor when that contributor is dropped, else under its label's hue range."""
    keep = np.ones(len(dataset), dtype=bool)
    report: dict[str, int] = {}
    if rules.drop_contributors:
        ids = dataset.contributor.astype(str)
        for contributor in sorted(rules.drop_contributors):
            hit = ids == contributor
            report[f"from contributor {contributor}"] = int(hit.sum())
            keep &= ~hit
    if rules.hue_ranges:
        hue, _, _ = rgb_to_hsl(dataset.rgb)
        chromatic = dataset.rgb.max(axis=1) != dataset.rgb.min(axis=1)
        for name, (low, high) in rules.hue_ranges.items():
            hit = (
                keep
                & (dataset.label == LABELS.index(name))
                & chromatic
                & ~hue_in_range(hue, low, high)
            )
            report[f"outside hue range for {name}"] = int(hit.sum())
            keep &= ~hit
    return keep, report


def keep_mask(dataset: ColorDataset, rules: CleaningRules) -> np.ndarray:
    """True for the rows ``clean`` keeps."""
    return _drop_reasons(dataset, rules)[0]


def clean(dataset: ColorDataset, rules: CleaningRules) -> tuple[ColorDataset, dict[str, int]]:
    """The data set without the rows ``rules`` drop, and rows dropped per reason
    ("from contributor X", "outside hue range for L"), one entry per active rule.

    With no active rule, returns ``dataset`` itself.
    """
    if not rules.active:
        return dataset, {}
    keep, report = _drop_reasons(dataset, rules)
    dropped = int((~keep).sum())
    source = f"{dataset.source}, cleaned (-{dropped} rows)" if dropped else dataset.source
    return dataset.subset(keep, source=source), report


def cleaning_caption(report: Mapping[str, int]) -> str:
    """The caption "N rows dropped: X outside hue range for label …, Y from contributor …"."""
    total = sum(report.values())
    noun = "row" if total == 1 else "rows"
    if not report:
        return f"{total} {noun} dropped."
    return f"{total} {noun} dropped: " + ", ".join(f"{n} {reason}" for reason, n in report.items())
