"""The messages between the web server and its trainer process, as dataclasses both sides import.

A trainer serves many runs at once, so every message about a run names its task (a number the
server gives each request, counted from 1 per trainer). The exchange:

    server → trainer   Train(task, TrainTask)   Check(task, CheckTask)   Save(task, SaveTask)
                       Exit()
                       (stops travel on the trainer's standard input: ``stop N``)
    trainer → server   Ready(pid)                once, after importing TensorFlow
                       Rows(task, rows)          the loss-stream rows of one chunk of batches
                       EpochEnd(task, predictor, checkpoint)
                                                 at each epoch end: the weights for the page,
                                                 and what a Resume needs should the trainer die
                       Done(task, TrainResult)   after the last epoch, or after a stop
                       Checked(task, predictor)  an uploaded model file that passed
                       Saved(task, data)         a finished run's .keras file, made when asked
                       Failed(task, message)     a one-line error
                       Alive()                   every second while any task runs

Nothing here imports Keras: the server unpickles these without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from colorclf.core.dataset import Split
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.predict import Predictor
from colorclf.core.rows import Progress, Row


@dataclass
class ModelState:
    """Everything that makes a resumed run continue exactly: weights and optimiser slots,
    and with early stopping the best epoch's weights so far."""

    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    best_weights: list[np.ndarray] | None = None


@dataclass
class TrainTask:
    hp: Hyperparams
    split: Split
    progress: Progress
    state: ModelState | None  # None: a fresh model
    until_epoch: int | None = None  # Step: stop once this many epochs are done


@dataclass
class TrainResult:
    stopped: bool
    progress: Progress
    state: ModelState
    predictor: Predictor
    # What the model holds at the end (with early stopping the best epoch's weights) and its
    # optimiser's slots: what its .keras file holds, made only when asked (SaveTask).
    model_state: ModelState


@dataclass
class CheckTask:
    """An uploaded ``.keras`` file to open in the trainer rather than in the web server, with
    the address space (bytes) the check may add to that process."""

    data: bytes
    name: str
    max_memory_bytes: int


@dataclass
class SaveTask:
    """A finished run's model to write as a ``.keras`` file: its settings (the layers) and
    ``model_state`` (a ``TrainResult``'s)."""

    hp: Hyperparams
    state: ModelState


@dataclass
class Checkpoint:
    """A run at an epoch's end: where a Resume goes on from if the trainer dies later."""

    progress: Progress
    state: ModelState


# ----- server → trainer -----------------------------------------------------------------
@dataclass
class Train:
    task: int
    work: TrainTask


@dataclass
class Check:
    task: int
    work: CheckTask


@dataclass
class Save:
    task: int
    work: SaveTask


@dataclass
class Exit:
    pass


# ----- trainer → server -----------------------------------------------------------------
@dataclass
class Ready:
    pid: int


@dataclass
class Alive:
    pass


@dataclass
class Rows:
    task: int
    rows: list[Row] = field(default_factory=list)


@dataclass
class EpochEnd:
    task: int
    predictor: Predictor
    checkpoint: Checkpoint


@dataclass
class Done:
    task: int
    result: TrainResult


@dataclass
class Checked:
    task: int
    predictor: Predictor


@dataclass
class Saved:
    task: int
    data: bytes


@dataclass
class Failed:
    task: int
    message: str


TaskMessage = Rows | EpochEnd | Done | Checked | Saved | Failed
"""A message about one task; the others (Ready, Alive) are about the trainer itself."""
