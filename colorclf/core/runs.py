"""A session's trainings, kept for comparison: each is a Run."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from colorclf.core.hyperparams import Hyperparams, preset_name_of
from colorclf.core.rows import ROW_KEYS, Row


@dataclass
class Run:
    """One training of the session: its settings, its rows (the full history) and its state.

    ``rows`` only grows (the training job appends); readers take ``len(rows)`` once and
    slice, which is safe while the job's thread (``serve.job``) appends what the trainer
    process sends.
    """

    number: int
    hyperparams: Hyperparams
    data_source: str
    rows: list[Row] = field(default_factory=list)
    status: str = "queued"  # queued | training | stopped | complete | failed

    @property
    def name(self) -> str:
        return f"Run {self.number}"

    @property
    def file_stem(self) -> str:
        """The start of this run's download names: ``colorclf-run3-coding-train`` (the preset
        its settings are, or ``custom``)."""
        return f"colorclf-run{self.number}-{preset_name_of(self.hyperparams)}"

    def epoch_rows(self) -> list[Row]:
        return [row for row in self.rows[: len(self.rows)] if row["kind"] == "epoch"]

    def final_metrics(self) -> dict[str, float | None]:
        epochs = self.epoch_rows()
        last = epochs[-1] if epochs else {}
        return {
            key: last.get(key)
            for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")
        }

    def history_frame(self) -> pd.DataFrame:
        """The full history as a table (one row per batch and per epoch), for CSV download."""
        return pd.DataFrame(self.rows[: len(self.rows)], columns=list(ROW_KEYS))

    def summary(self) -> dict[str, object]:
        """One line of the run table."""
        metrics = self.final_metrics()
        return {
            "run": self.name,
            "status": self.status,
            "data": self.data_source,
            **self.hyperparams.as_dict(),
            "epochs done": len(self.epoch_rows()),
            **{k: metrics[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")},
            "seconds": metrics["seconds"],
        }
