"""Run comparison: the epoch curves of several runs of one session."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from colorclf.core.runs import Run

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
            **epoch_axes(title),
            "strokeDash": {
                "field": "set",
                "type": "nominal",
                "scale": {"domain": ["training", "validation"], "range": [[1, 0], [5, 3]]},
                "legend": None,
            },
            "tooltip": run_tooltip(title, "set"),
        },
    }


def epoch_axes(title: str, legend: dict[str, Any] | None = None) -> dict[str, Any]:
    """Epoch across, ``value`` up, one colour per ``run``: the encodings of every chart of
    runs' epoch curves."""
    return {
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
            "legend": {"title": "Run", **(legend or {})},
        },
    }


def run_tooltip(title: str, *extra: str) -> list[dict[str, Any]]:
    """Run, the ``extra`` nominal fields, epoch and value."""
    return [
        {"field": "run", "type": "nominal"},
        *({"field": name, "type": "nominal"} for name in extra),
        {"field": "epoch", "type": "quantitative"},
        {"field": "value", "type": "quantitative", "format": ".4f", "title": title},
    ]
