"""Run comparison: the epoch curves of several runs of one session."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from colorclf.core.hyperparams import PARAMS
from colorclf.core.links import format_value

if TYPE_CHECKING:
    from colorclf.core.runs import Run

RESULT_COLUMNS = ("epochs done", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")

CURVE_METRICS: dict[str, tuple[str, str, str]] = {
    # choice → (training key, validation key, axis title)
    "Loss": ("loss", "val_loss", "Loss"),
    "Accuracy": ("accuracy", "val_accuracy", "Accuracy"),
}


def differing_settings(runs: Iterable[Run]) -> list[str]:
    """The settings (``PARAMS`` names, and ``"data"``) whose values are not the same in all
    of ``runs``, in the table's order."""
    runs = list(runs)
    names = [
        param.name
        for param in PARAMS
        if len({getattr(run.hyperparams, param.name) for run in runs}) > 1
    ]
    if len({run.data_source for run in runs}) > 1:
        names.insert(0, "data")
    return names


def _setting_text(run: Run, name: str) -> str:
    if name == "data":
        return run.data_source
    label = next(param.label for param in PARAMS if param.name == name)
    return f"{label.lower()} {format_value(getattr(run.hyperparams, name))}"


def run_labels(runs: Iterable[Run]) -> dict[str, str]:
    """Each run's name in a legend: with the settings that differ among ``runs``
    ("Run 2 · learning rate 2"), so the legend says what the comparison is about."""
    runs = list(runs)
    differ = differing_settings(runs)
    return {
        run.name: " · ".join([run.name, *(_setting_text(run, name) for name in differ)])
        for run in runs
    }


def shared_settings(runs: Iterable[Run]) -> str:
    """What all of ``runs`` have in common, as one line under the table:
    "All runs: built-in synthetic set · epochs 10 · batch size 32 · …"."""
    runs = list(runs)
    if not runs:
        return ""
    differ = set(differing_settings(runs))
    names = [name for name in ("data", *(param.name for param in PARAMS)) if name not in differ]
    return " · ".join(_setting_text(runs[0], name) for name in names)


def run_table(lines: list[dict[str, object]], runs: Iterable[Run]) -> pd.DataFrame:
    """The runs table, narrow enough for a laptop: the run, its status, only the settings
    that differ among ``runs`` (the rest is ``shared_settings``) and the results."""
    differ = differing_settings(runs)
    columns = ["run", "status", *differ, *RESULT_COLUMNS]
    return pd.DataFrame(lines).reindex(columns=columns)


def run_curves(runs: Iterable[Run], metric: str = "Loss") -> pd.DataFrame:
    """Epoch-level curves of several runs: ``run`` (its legend label, ``run_labels``),
    ``epoch``, ``set`` (training/validation), ``value``. Missing or non-finite values are
    left out."""
    train_key, val_key, _ = CURVE_METRICS[metric]
    runs = list(runs)
    labels = run_labels(runs)
    records = []
    for run in runs:
        for row in run.epoch_rows():
            for set_name, metric_key in (("training", train_key), ("validation", val_key)):
                value = row.get(metric_key)
                if value is None or not math.isfinite(float(value)):
                    continue
                records.append(
                    {
                        "run": labels[run.name],
                        "epoch": int(row["epoch"]),
                        "set": set_name,
                        "value": value,
                    }
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
            # On the right, where a long label ("Run 3 · learning rate 2 · seed 7") has room.
            **epoch_axes(title, legend={"orient": "right", "labelLimit": 320}),
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
