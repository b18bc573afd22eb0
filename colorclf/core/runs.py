"""A session's trainings, kept for comparison: each is a Run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import pandas as pd

from colorclf.core.hyperparams import Hyperparams, preset_name_of
from colorclf.core.rows import ROW_KEYS, Row


class RunStatus(StrEnum):
    """Where a run is; its moves are ``MOVES``. Being a ``str``, it shows as its own word."""

    QUEUED = "queued"  # waiting for room on the server, or about to start
    TRAINING = "training"
    STOPPED = "stopped"  # by Stop, a Step's end or early stopping: Resume or Step go on
    COMPLETE = "complete"  # the planned epochs are done: Step goes on
    FAILED = "failed"  # one line says why; Resume goes on where the server kept a state


ACTIVE: Final = frozenset({RunStatus.QUEUED, RunStatus.TRAINING})
"""Queued or training: the tutorial's ``istraining`` flag."""
MOVES: Final[dict[RunStatus, frozenset[RunStatus]]] = {
    # Let in by the gate, or left the queue (Stop, a closed session).
    RunStatus.QUEUED: frozenset({RunStatus.TRAINING, RunStatus.STOPPED}),
    RunStatus.TRAINING: frozenset({RunStatus.STOPPED, RunStatus.COMPLETE, RunStatus.FAILED}),
    RunStatus.STOPPED: frozenset({RunStatus.QUEUED}),  # Resume, Step
    RunStatus.COMPLETE: frozenset({RunStatus.QUEUED}),  # Step
    RunStatus.FAILED: frozenset({RunStatus.QUEUED}),  # Resume after the trainer died
}


class StatusMoveError(ValueError):
    """A run was told to move where its status cannot go (a bug, never a user's doing)."""


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
    status: RunStatus = RunStatus.QUEUED  # a run may be made in any status; it then moves

    def __setattr__(self, name: str, value: object) -> None:
        if name == "status":
            value = RunStatus(value)  # type: ignore[arg-type]
            current = self.__dict__.get("status")
            if current is not None and value != current and value not in MOVES[current]:
                raise StatusMoveError(f"a run cannot go from {current} to {value}")
        super().__setattr__(name, value)

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
