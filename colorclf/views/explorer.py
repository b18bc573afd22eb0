"""The data explorer: colours per label and per contributor, and one label's colours as a
mosaic sorted by hue."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from colorclf.core.colour import hex_colors, rgb_to_hsl
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS, NUM_LABELS
from colorclf.views.cleaning import CleaningRules, keep_mask
from colorclf.views.palette import COLOR_LIST, LABEL_LIST, LABEL_SCALE


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
