"""The network view (TensorFlow Playground's picture, for colours): inputs R, G, B, every hidden
unit, the nine outputs in the labels' colours, each weight a line coloured by its sign and as
wide as its size, and in each hidden unit a small map of what it responds to.

A unit's map is its activation over the decision map's grid (hue across, lightness up, one
saturation), computed here in NumPy straight from the weights, so it follows the training
epoch by epoch at no cost to the trainer. Everything is one data frame for one fixed
Vega-Lite spec drawn on a canvas (``network_frame`` and ``network_spec``); the unit under the
pointer shows its incoming weights and the outputs it pushes most, and lights up its lines.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from colorclf.core.dataset import scale_rgb
from colorclf.core.labels import LABEL_COLORS, LABELS
from colorclf.views.decision_map import grid_cells

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor

MAP_HUE_STEPS = 12  # a unit's map: a coarse copy of the decision map's 72 × 24 grid
MAP_LIGHTNESS_STEPS = 6
INPUT_NAMES = ("R", "G", "B")
INPUT_COLORS = ("#e41a1c", "#33a02c", "#1f5fd6")
POSITIVE, NEGATIVE = "#f59322", "#0877bd"  # Playground's weight colours: orange +, blue −
MAP_WIDTH = 0.5  # of a hidden unit's map, in the diagram's x units (one per layer)
BOUNDED = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}  # activations with a fixed range


@dataclass(frozen=True)
class Column:
    """One layer of units in the diagram: its x, its units' names and centres (y)."""

    x: float
    names: tuple[str, ...]
    y: np.ndarray


def _columns(predictor: Predictor) -> list[Column]:
    layers = predictor.layers
    hidden = len(layers) - 1
    sizes = [3, *(kernel.shape[1] for kernel, _, _ in layers)]
    columns = []
    for index, size in enumerate(sizes):
        if index == 0:
            names: tuple[str, ...] = INPUT_NAMES
        elif index == len(sizes) - 1:
            names = tuple(LABELS[:size]) if size == len(LABELS) else _unit_names(index, size, 0)
        else:
            names = _unit_names(index, size, hidden)
        y = 1.0 - (np.arange(size) + 0.5) / size  # the first unit on top
        columns.append(Column(float(index), names, y))
    return columns


def _unit_names(layer: int, size: int, hidden_layers: int) -> tuple[str, ...]:
    if hidden_layers <= 1:
        return tuple(f"unit {u + 1}" for u in range(size))
    return tuple(f"unit {layer}.{u + 1}" for u in range(size))


def hidden_units(predictor: Predictor) -> list[tuple[int, int, str]]:
    """Every hidden unit as (layer index into ``predictor.layers``, unit index, name)."""
    columns = _columns(predictor)
    return [
        (layer - 1, unit, name)
        for layer, column in enumerate(columns[1:-1], start=1)
        for unit, name in enumerate(column.names)
    ]


def hidden_activations(predictor: Predictor, rgb: np.ndarray) -> list[np.ndarray]:
    """Each hidden layer's activations (n × units) for colours given as 0–255 RGB rows."""
    return predictor.activations(scale_rgb(rgb))[:-1]


def response(activation: np.ndarray, name: str) -> np.ndarray:
    """Activations (cells × units) on −1…1 for the map's colours: a bounded activation's own
    range (sigmoid 0…1, tanh −1…1) mapped onto it; others (relu, elu) divided by each unit's
    largest size on the grid, so a unit shows where it fires however large its weights."""
    if name in BOUNDED:
        low, high = BOUNDED[name]
        return 2.0 * (activation - low) / (high - low) - 1.0
    scale = np.abs(activation).max(axis=0, keepdims=True)
    return activation / np.where(scale > 0, scale, 1.0)


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def _top(names: tuple[str, ...], weights: np.ndarray, count: int = 3) -> str:
    order = np.argsort(-np.abs(weights), kind="stable")[:count]
    return " · ".join(f"{names[i]} {_signed(float(weights[i]))}" for i in order)


def network_frame(
    predictor: Predictor,
    saturation: float = 1.0,
    *,
    hue_steps: int = MAP_HUE_STEPS,
    lightness_steps: int = MAP_LIGHTNESS_STEPS,
) -> pd.DataFrame:
    """The one frame ``network_spec`` draws; ``part`` says what each row is:

    - ``edge``: one weight, from (``x``, ``y``) to (``x2``, ``y2``); ``weight``, ``sign``
      ("+"/"−"), ``width`` (pixels, 0.3–5 by its size relative to the largest weight) and
      ``unit`` (the hidden unit it belongs to, for the hover highlight);
    - ``cell``: one cell of a hidden unit's map (the rectangle ``x``–``x2``, ``y``–``y2``):
      ``activation`` of the cell's colour and its ``response`` on −1…1 (the cell's colour
      is ``grid_cells``' for the same saturation and steps, unit after unit);
    - ``unit``: a hidden unit's frame, with the tooltip's ``incoming`` weights and bias and
      the units or outputs it ``pushes`` most;
    - ``input`` / ``output``: the nodes, with ``name`` and ``color``.
    """
    columns = _columns(predictor)
    grid = grid_cells(float(saturation), max(int(hue_steps), 1), max(int(lightness_steps), 1))
    rgb = np.column_stack([grid["r"], grid["g"], grid["b"]])
    activations = hidden_activations(predictor, rgb)
    biggest = max(float(np.abs(kernel).max()) for kernel, _, _ in predictor.layers) or 1.0
    parts: list[dict[str, Any]] = []

    def half_width(layer: int) -> float:
        return MAP_WIDTH / 2 if 0 < layer < len(columns) - 1 else 0.0

    for index, (kernel, bias, activation_name) in enumerate(predictor.layers):
        source, target = columns[index], columns[index + 1]
        n_in, n_out = kernel.shape
        src, dst = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
        src, dst = src.ravel(), dst.ravel()
        weight = kernel.ravel()
        touching = target.names if index < len(predictor.layers) - 1 else source.names
        parts.append(
            {
                "part": "edge",
                "x": source.x + half_width(index),
                "y": source.y[src],
                "x2": target.x - half_width(index + 1),
                "y2": target.y[dst],
                "weight": weight,
                "sign": np.where(weight >= 0, "+", "−"),
                "width": 0.3 + 4.7 * np.abs(weight) / biggest,
                "unit": np.asarray(touching)[dst if index < len(predictor.layers) - 1 else src],
            }
        )
        if index == len(predictor.layers) - 1:
            continue
        # The maps and frames of the target column's units (a hidden layer).
        acts = activations[index]
        shown = response(acts, activation_name)
        height = min(0.8 / n_out, 0.16)
        cells, units = len(rgb), n_out
        hue_pos = (grid["hue_start"] / 360.0)[:, None]
        hue_end = (grid["hue_end"] / 360.0)[:, None]
        light_pos, light_end = grid["lightness_start"][:, None], grid["lightness_end"][:, None]
        left = target.x - MAP_WIDTH / 2
        bottom = target.y[None, :] - height / 2
        parts.append(
            {
                "part": "cell",
                "x": np.broadcast_to(left + hue_pos * MAP_WIDTH, (cells, units)).T.ravel(),
                "x2": np.broadcast_to(left + hue_end * MAP_WIDTH, (cells, units)).T.ravel(),
                "y": (bottom + light_pos * height).T.ravel(),
                "y2": (bottom + light_end * height).T.ravel(),
                "activation": acts.T.ravel(),
                "response": shown.T.ravel(),
                "unit": np.repeat(np.asarray(target.names), cells),
            }
        )
        following = predictor.layers[index + 1][0]
        after = columns[index + 2].names
        parts.append(
            {
                "part": "unit",
                "x": left,
                "x2": left + MAP_WIDTH,
                "y": target.y - height / 2,
                "y2": target.y + height / 2,
                "unit": np.asarray(target.names),
                "incoming": [
                    _top(source.names, kernel[:, u], 3) + f" · bias {_signed(float(bias[u]))}"
                    for u in range(units)
                ],
                "pushes": [_top(after, following[u], 3) for u in range(units)],
            }
        )
    for part, column, colors in (
        ("input", columns[0], INPUT_COLORS),
        ("output", columns[-1], tuple(LABEL_COLORS.get(n, "#777777") for n in columns[-1].names)),
    ):
        parts.append(
            {
                "part": part,
                "x": column.x,
                "y": column.y,
                "name": np.asarray(column.names),
                "color": np.asarray(colors),
            }
        )
    return _stack([_broadcast(part) for part in parts])


_TEXT_COLUMNS = ("sign", "incoming", "pushes", "name", "color")
_CATEGORIES = ("part", "unit", "sign")


def _broadcast(columns: dict[str, Any]) -> dict[str, Any]:
    """Scalars repeated to the length of the part's arrays."""
    length = max(len(v) for v in columns.values() if not isinstance(v, (str, float, int)))
    return {
        k: (np.full(length, v) if isinstance(v, (str, float, int)) else np.asarray(v))
        for k, v in columns.items()
    }


def _stack(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The parts one under the other (a column a part lacks: NaN or None), built straight
    from NumPy (``pd.concat`` of one frame per part cost ~10× more at 128 units); numbers as
    float32, half the bytes each redraw sends."""
    names = list(dict.fromkeys(name for part in parts for name in part))
    data: dict[str, Any] = {}
    for name in names:
        text = name in _TEXT_COLUMNS or name in _CATEGORIES
        pieces = []
        for part in parts:
            length = len(next(iter(part.values())))
            if name in part:
                pieces.append(part[name].astype(object if text else np.float32))
            else:
                pieces.append(
                    np.full(length, None if text else np.nan, dtype=object if text else np.float32)
                )
        values = np.concatenate(pieces)
        data[name] = pd.Categorical(values) if name in _CATEGORIES else values
    return pd.DataFrame(data)


def unit_detail(predictor: Predictor, layer: int, unit: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One hidden unit's weights: incoming (``from``, ``weight``; the bias last) and outgoing
    (``to``, ``weight``), the outgoing sorted by how much the unit pushes (largest size
    first): a positive weight pushes towards that output, a negative one away from it."""
    columns = _columns(predictor)
    kernel, bias, _ = predictor.layers[layer]
    incoming = pd.DataFrame(
        {
            "from": [*columns[layer].names, "bias"],
            "weight": [*kernel[:, unit].astype(float), float(bias[unit])],
        }
    )
    following = predictor.layers[layer + 1][0][unit].astype(float)
    order = np.argsort(-np.abs(following), kind="stable")
    outgoing = pd.DataFrame(
        {"to": np.asarray(columns[layer + 2].names)[order], "weight": following[order]}
    )
    return incoming, outgoing


def network_height(predictor: Predictor) -> int:
    """The diagram's height in pixels: ~22 per unit of the tallest column, 320–1,200."""
    tallest = max([9, *(kernel.shape[1] for kernel, _, _ in predictor.layers)])
    return int(min(max(22 * tallest, 320), 1200))


_SCALE_X = {"nice": False, "zero": False}
_SCALE_Y = {"domain": [0, 1], "nice": False, "zero": False}
_HOVER = "unit_hover"


def network_spec(layers: int = 2, height: int = 400) -> dict[str, Any]:
    """The fixed Vega-Lite spec of a chain of ``layers`` Dense layers, ``height`` pixels tall
    (a fresh copy; fixed for one network shape, so a redraw only swaps the data)."""
    x = {
        "field": "x",
        "type": "quantitative",
        "axis": None,
        "scale": {**_SCALE_X, "domain": [-0.45, layers + 0.75]},
    }
    y = {"field": "y", "type": "quantitative", "axis": None, "scale": _SCALE_Y}

    def only(part: str) -> list[dict[str, Any]]:
        return [{"filter": f"datum.part === '{part}'"}]

    box = {"x": x, "y": y, "x2": {"field": "x2"}, "y2": {"field": "y2"}}  # x–x2, y–y2

    spec: dict[str, Any] = {
        "height": height,
        # A screen reader's name for the canvas (vega-embed makes it the aria-label).
        "description": "Network diagram: each weight a line between units, orange positive, "
        "blue negative, wider when larger; each hidden unit a small map of its response.",
        "usermeta": {"embedOptions": {"renderer": "canvas"}},
        "config": {"view": {"stroke": None}, "aria": False},
        "layer": [
            {
                "transform": only("edge"),
                "mark": {"type": "rule"},
                "encoding": {
                    **box,
                    "color": {
                        "field": "sign",
                        "type": "nominal",
                        "scale": {"domain": ["+", "−"], "range": [POSITIVE, NEGATIVE]},
                        "legend": {"title": "Weight"},
                    },
                    "strokeWidth": {"field": "width", "type": "quantitative", "scale": None},
                    "opacity": {
                        "condition": {"param": _HOVER, "empty": True, "value": 0.8},
                        "value": 0.08,
                    },
                    "tooltip": [
                        {"field": "unit", "type": "nominal", "title": "Unit"},
                        {"field": "weight", "type": "quantitative", "format": "+.3f"},
                    ],
                },
            },
            {
                "transform": only("cell"),
                "mark": {"type": "rect", "strokeWidth": 0},
                "encoding": {
                    **box,
                    "color": {
                        "field": "response",
                        "type": "quantitative",
                        "scale": {
                            "domain": [-1, 1],
                            "range": [NEGATIVE, "#f7f7f7", POSITIVE],
                            "clamp": True,
                        },
                        "legend": {"title": "Unit response", "format": ".0%"},
                    },
                },
            },
            {
                "transform": only("unit"),
                "params": [
                    {
                        "name": _HOVER,
                        "select": {
                            "type": "point",
                            "on": "pointerover",
                            "clear": "pointerout",
                            "fields": ["unit"],
                        },
                    }
                ],
                "mark": {
                    "type": "rect",
                    "fill": "#ffffff",
                    "fillOpacity": 0.01,
                    "stroke": "#555555",
                    "strokeWidth": 0.6,
                    "cursor": "pointer",
                },
                "encoding": {
                    **box,
                    "tooltip": [
                        {"field": "unit", "type": "nominal", "title": "Unit"},
                        {"field": "incoming", "type": "nominal", "title": "Weights in"},
                        {"field": "pushes", "type": "nominal", "title": "Pushes most"},
                    ],
                },
            },
            *(
                {
                    "transform": only(part),
                    "mark": {"type": "circle", "size": 220, "opacity": 1, "stroke": "#333333"},
                    "encoding": {
                        "x": x,
                        "y": y,
                        "color": {"field": "color", "type": "nominal", "scale": None},
                        "tooltip": [{"field": "name", "type": "nominal", "title": part}],
                    },
                }
                for part in ("input", "output")
            ),
            *(
                {
                    "transform": only(part),
                    "mark": {"type": "text", "align": align, "dx": dx, "fontSize": 12},
                    "encoding": {"x": x, "y": y, "text": {"field": "name"}},
                }
                for part, align, dx in (("input", "right", -12), ("output", "left", 12))
            ),
        ],
    }
    return copy.deepcopy(spec)
