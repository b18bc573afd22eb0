"""The decision map: what the model calls every colour of one HSL saturation slice (hue across,
lightness up), with training colours of about that saturation as points."""

from __future__ import annotations

import functools
import json
import threading
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from colorclf.core.colour import hex_colors, hsl_to_rgb, rgb_to_hsl
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import NUM_LABELS
from colorclf.views.palette import COLOR_ARRAY, LABEL_ARRAY, LABEL_SCALE

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor


@functools.lru_cache(maxsize=64)
def grid_cells(saturation: float, hue_steps: int, lightness_steps: int) -> dict[str, np.ndarray]:
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


def _predicted_cells(
    predictor: Predictor, saturation: float, hue_steps: int, lightness_steps: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The cached grid of one slice, each cell's predicted label index and its probability;
    all cells are predicted in one call."""
    grid = grid_cells(float(saturation), max(int(hue_steps), 1), max(int(lightness_steps), 1))
    rgb = np.column_stack([grid["r"], grid["g"], grid["b"]])
    probs = np.asarray(predictor.probabilities(rgb))
    best = np.argmax(probs, axis=1)
    return grid, best, probs[np.arange(len(best)), best]


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
    grid, best, probability = _predicted_cells(predictor, saturation, hue_steps, lightness_steps)
    return pd.DataFrame(
        {
            **grid,
            "label": LABEL_ARRAY[best],
            "color": COLOR_ARRAY[best],
            "probability": probability,
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
            "label": LABEL_ARRAY[dataset.label[rows]],
            "rgb": hex_colors(dataset.rgb[rows]),
        }
    )


HUE_STEPS, LIGHTNESS_STEPS = 72, 24  # the decision map's grid (the spec knows the cell size)
_LABEL_TYPE = pd.CategoricalDtype(list(LABEL_ARRAY))
_LABELS = pa.array(list(LABEL_ARRAY), type=pa.string())
_LAYERS = pa.array(["map", "data"], type=pa.string())
_NO_POINTS = pd.DataFrame({"hue": [], "lightness": [], "label": [], "rgb": []})


def decision_map_table(
    predictor: Predictor, saturation: float = 1.0, overlay: pd.DataFrame | None = None
) -> pa.Table:
    """The one table ``decision_map_spec`` draws, built straight from the cached grid as
    Arrow (what ``st.vega_lite_chart`` sends): it is drawn again at each epoch while a run
    trains, for every student. Only the labels and probabilities change with the weights;
    the rest is kept per grid and overlay (``_fixed_columns``).

    ``layer`` "map": one row per cell, ``x``/``y`` its lower-left corner (hue in degrees,
    lightness 0–1; the spec adds the cell's size), the predicted ``label`` and its
    ``probability``. ``layer`` "data": the optional ``overlay_frame`` points at their
    ``x``/``y`` (hue, lightness), with their true ``label`` and ``rgb``. Labels and layers
    are dictionaries and the numbers float32: ~43 KB for 2,100 rows, where the same
    table with every column of ``decision_map`` as float64 and strings took 215 KB.
    """
    grid, best, probability = _predicted_cells(predictor, saturation, HUE_STEPS, LIGHTNESS_STEPS)
    points = overlay if overlay is not None else _NO_POINTS
    fixed = _fixed_columns(grid, points)
    labels = np.concatenate([best.astype(np.int8), fixed.point_codes])
    # The points have no probability: nulls, as pandas' NaN became.
    probabilities = np.concatenate([probability.astype(np.float32), fixed.no_probability])
    return pa.table(
        {
            "layer": fixed.layer,
            "x": fixed.x,
            "y": fixed.y,
            "label": pa.DictionaryArray.from_arrays(labels, _LABELS),
            "probability": pa.array(probabilities, from_pandas=True),
            "rgb": fixed.rgb,
        }
    )


class _FixedColumns(NamedTuple):
    """The columns of ``decision_map_table`` that the weights do not change."""

    layer: pa.Array
    x: pa.Array
    y: pa.Array
    rgb: pa.Array
    point_codes: np.ndarray  # the overlay's true labels, as int8 codes of LABEL_ARRAY
    no_probability: np.ndarray  # NaN for each point


# (grid, overlay) by identity → their fixed columns, and the two objects, kept so that an id
# is not reused while its entry lives. Both are long-lived: the grid is lru-cached and the
# page keeps one overlay per data set and saturation.
_FIXED: dict[tuple[int, int], tuple[object, object, _FixedColumns]] = {}
_FIXED_MOST = 32  # a class's sessions at a handful of saturations
_FIXED_LOCK = threading.Lock()  # every session's script thread draws maps at once


def _fixed_columns(grid: dict[str, np.ndarray], points: pd.DataFrame) -> _FixedColumns:
    """The weight-independent columns for ``grid`` and ``points``: built once per pair, as
    building them took half of a redraw's ~2.6 ms (pandas on the overlay)."""
    key = (id(grid), id(points))
    with _FIXED_LOCK:
        held = _FIXED.get(key)
    if held is not None and held[0] is grid and held[1] is points:
        return held[2]
    n_map, n_data = len(grid["hue_start"]), len(points)
    x = np.concatenate([grid["hue_start"], points["hue"].to_numpy(dtype=np.float64)])
    y = np.concatenate([grid["lightness_start"], points["lightness"].to_numpy(dtype=np.float64)])
    layers = np.repeat(np.array([0, 1], dtype=np.int8), [n_map, n_data])
    fixed = _FixedColumns(
        layer=pa.DictionaryArray.from_arrays(layers, _LAYERS),
        x=pa.array(x.astype(np.float32)),
        y=pa.array(y.astype(np.float32)),
        rgb=pa.array([None] * n_map + points["rgb"].tolist(), type=pa.string()),
        point_codes=pd.Categorical(points["label"], dtype=_LABEL_TYPE).codes.astype(np.int8),
        no_probability=np.full(n_data, np.nan, dtype=np.float32),
    )
    with _FIXED_LOCK:
        while len(_FIXED) >= _FIXED_MOST:
            _FIXED.pop(next(iter(_FIXED)))  # the oldest: dicts keep insertion order
        _FIXED[key] = (grid, points, fixed)
    return fixed


def decision_map_frame(
    predictor: Predictor, saturation: float = 1.0, overlay: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``decision_map_table`` as a data frame (labels and layers as categories)."""
    return decision_map_table(predictor, saturation, overlay).to_pandas()


_CELL_WIDTH, _CELL_HEIGHT = 360.0 / HUE_STEPS, 1.0 / LIGHTNESS_STEPS

_DECISION_MAP_SPEC: dict[str, Any] = {
    "height": 300,
    # A screen reader's name for the canvas (vega-embed makes it the chart's aria-label);
    # what it shows is in ``decision_map_summary``'s line under it.
    "description": "Decision map: the label the model gives every colour of one saturation, "
    "hue across and lightness up.",
    # ~2,200 cells (and the overlay's points): as SVG that is ~2,200 DOM nodes, which made
    # every redraw of the page (ten a second while training) restyle them all; a canvas is
    # one node. Streamlit passes ``usermeta.embedOptions`` to vega-embed.
    "usermeta": {"embedOptions": {"renderer": "canvas"}},
    "config": {"axis": {"grid": False}, "aria": False},
    "layer": [
        {
            "transform": [
                {"filter": "datum.layer === 'map'"},
                {"calculate": f"datum.x + {_CELL_WIDTH}", "as": "x2"},
                {"calculate": f"datum.y + {_CELL_HEIGHT}", "as": "y2"},
                {"calculate": f"datum.x + {_CELL_WIDTH / 2}", "as": "hue"},
                {"calculate": f"datum.y + {_CELL_HEIGHT / 2}", "as": "lightness"},
            ],
            "mark": {"type": "rect", "strokeWidth": 0},
            "encoding": {
                "x": {
                    "field": "x",
                    "type": "quantitative",
                    "scale": {"domain": [0, 360], "nice": False, "zero": False},
                    "axis": {"title": "Hue (°)", "values": [0, 60, 120, 180, 240, 300, 360]},
                },
                "x2": {"field": "x2"},
                "y": {
                    "field": "y",
                    "type": "quantitative",
                    "scale": {"domain": [0, 1], "nice": False},
                    "axis": {"title": "Lightness", "format": ".0%"},
                },
                "y2": {"field": "y2"},
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
                "x": {"field": "x", "type": "quantitative"},
                "y": {"field": "y", "type": "quantitative"},
                "color": {"field": "label", "type": "nominal", "scale": LABEL_SCALE},
                "tooltip": [
                    {"field": "label", "type": "nominal", "title": "Training label"},
                    {"field": "rgb", "type": "nominal", "title": "Colour"},
                ],
            },
        },
    ],
}


_DECISION_MAP_SPEC_JSON = json.dumps(_DECISION_MAP_SPEC)


def decision_map_spec() -> dict[str, Any]:
    """The decision map's fixed Vega-Lite spec (a fresh copy): coloured cells of the predicted
    label (faded where the model is unsure) and, where present, training colours as points
    coloured by their true label. Draw it with ``decision_map_frame(...)``; the spec never
    changes, so the browser keeps its view and only swaps the data."""
    return json.loads(_DECISION_MAP_SPEC_JSON)  # a fresh copy, ~20× faster than deepcopy
