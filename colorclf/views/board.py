"""The class board's data and chart: shared runs as a table (best first) and their validation
curves overlaid."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from colorclf.views.compare import CURVE_METRICS, epoch_axes, run_tooltip

if TYPE_CHECKING:
    from colorclf.store.runs import SharedRun

MAX_OVERLAID = 10
TABLE_COLUMNS: tuple[str, ...] = (
    "rank",
    "name",
    "best val accuracy",
    "final val accuracy",
    "best val loss",
    "final val loss",
    "epochs",
    "seconds",
    "data",
    "epochs planned",
    "batch size",
    "learning rate",
    "hidden units",
    "activation",
    "optimizer",
    "val split",
    "seed",
    "open",
    "id",
)


def run_label(rank: int, run: SharedRun) -> str:
    """How a run is named in the chart and the pickers: ``#rank name``."""
    return f"#{rank} {run.contributor}"


def board_table(
    runs: Sequence[SharedRun], link: Callable[[SharedRun], str] | None = None
) -> pd.DataFrame:
    """One row per run in the order given (the board's: best first); ``open`` is the link
    that opens the training page with the run's settings (``link(run)``)."""
    records = []
    for rank, run in enumerate(runs, start=1):
        metrics = run.metrics()
        hp = run.hyperparams
        records.append(
            {
                "rank": rank,
                "name": run.contributor,
                "best val accuracy": metrics["best_val_accuracy"],
                "final val accuracy": metrics["final_val_accuracy"],
                "best val loss": metrics["best_val_loss"],
                "final val loss": metrics["final_val_loss"],
                "epochs": run.epochs,
                "seconds": run.seconds,
                "data": run.data_source,
                "epochs planned": hp.epochs,
                "batch size": hp.batch_size,
                "learning rate": hp.learning_rate,
                "hidden units": hp.hidden_units,
                "activation": hp.activation,
                "optimizer": hp.optimizer,
                "val split": hp.val_split,
                "seed": hp.seed,
                "open": link(run) if link is not None else None,
                "id": run.id,
            }
        )
    return pd.DataFrame(records, columns=list(TABLE_COLUMNS))


def board_curves(ranked: Iterable[tuple[int, SharedRun]], metric: str = "Loss") -> pd.DataFrame:
    """The validation curves of (rank, run) pairs: ``run``, ``epoch``, ``value``; at most
    ``MAX_OVERLAID`` runs, missing values left out."""
    _, key, _ = CURVE_METRICS[metric]
    records = []
    for rank, run in list(ranked)[:MAX_OVERLAID]:
        label = run_label(rank, run)
        for epoch, value in enumerate(run.curve.get(key, []), start=1):
            if value is not None:
                records.append({"run": label, "epoch": epoch, "value": value})
    return pd.DataFrame(records, columns=["run", "epoch", "value"])


def board_curves_spec(metric: str = "Loss", *, large: bool = False) -> dict[str, Any]:
    """Fixed spec of ``board_curves``: one line per run; bigger text for a projector."""
    _, _, title = CURVE_METRICS[metric]
    font = 22 if large else 12
    return {
        "title": {"text": f"Validation {title.lower()} per epoch", "fontSize": font + 4},
        "height": 520 if large else 320,
        "mark": {"type": "line", "point": True, "strokeWidth": 4 if large else 2},
        "encoding": {
            **epoch_axes(title, legend={"labelLimit": 400}),
            "tooltip": run_tooltip(title),
        },
        "config": {
            "axis": {"labelFontSize": font, "titleFontSize": font + 2},
            "legend": {"labelFontSize": font, "titleFontSize": font + 2},
        },
    }
