"""What a run's status element says: a label, the state and a progress fraction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from colorclf.core.rows import Row
from colorclf.core.runs import RunStatus

if TYPE_CHECKING:
    from colorclf.serve.job import TrainingJob


def describe_status(job: TrainingJob) -> dict[str, Any]:
    """What the status element shows: a label, the state and a progress fraction (0–1)."""
    progress = job.progress
    per_epoch = job.batches_per_epoch
    planned = max(job.hp.epochs, progress.epochs_planned)
    fraction = min(1.0, progress.step / max(1, planned * per_epoch))
    state = job.state
    if job.stopping:  # at once, not when the trainer has answered
        label = "Stopping after this batch…"
    elif state == RunStatus.QUEUED:
        position = job.queue_position()
        # Not yet (or no longer) in the gate's line: about to take a slot, not training yet.
        label = (
            f"Waiting for room on the server (it has memory for {job.gate_limit} trainings "
            f"at once): place {position} in the queue"
            if position
            else "Waiting for room on the server"
        )
    elif state == RunStatus.TRAINING and job.starting_trainer:
        label = "Starting a trainer (loading TensorFlow)…"
    elif state == RunStatus.TRAINING:
        last = progress.last_epoch_row
        # Before the first epoch ends (seconds on a busy machine): which epoch is under way.
        label = _epoch_label(last, planned) if last else f"Training epoch 1 of {planned}…"
    elif state == RunStatus.COMPLETE:
        label = f"Training complete in {progress.seconds:.1f} s"
    elif state == RunStatus.STOPPED and progress.stopped_early:
        label = f"Stopped early at epoch {progress.epoch} (best: epoch {progress.best_epoch})"
    elif (
        state == RunStatus.STOPPED
        and job.stepping
        and progress.batch == 0
        and progress.last_epoch_row
    ):
        label = _epoch_label(progress.last_epoch_row, planned)  # a Step's epoch, done
    elif state == RunStatus.STOPPED:
        epoch, batch = progress.epoch + 1, progress.batch
        if batch == 0 and progress.epoch > 0:  # stopped right at an epoch's end
            epoch, batch = progress.epoch, per_epoch
        label = f"Stopped at epoch {epoch}, batch {batch}"
    else:
        label = f"Training failed: {job.error}"
    return {"label": label, "state": state, "fraction": fraction}


def _epoch_label(row: Row, planned: int) -> str:
    return (
        f"Epoch {row['epoch']}/{planned} · loss {row['loss']:.4f} · val_loss {row['val_loss']:.4f}"
    )
