"""Rows as the training callback produces them, for the benchmarks (no training needed)."""

from __future__ import annotations

import math
from typing import Any

BATCHES_PER_EPOCH = 158  # coding-train preset on the built-in data: 5,040 colours / 32


def synthetic_rows(batches: int) -> list[dict[str, Any]]:
    """Rows as the training callback produces them: one per batch, one per epoch."""
    from colorclf.core.rows import make_row

    rows: list[dict[str, Any]] = []
    loss = 2.2
    for step in range(1, batches + 1):
        epoch, batch = divmod(step - 1, BATCHES_PER_EPOCH)
        loss = max(0.3, loss * 0.9995)
        rows.append(
            make_row(
                "batch",
                step=step,
                epoch=epoch + 1,
                batch=batch + 1,
                loss=loss + 0.05 * math.sin(step),
                accuracy=min(1.0, 0.3 + step / (batches + 1) * 0.6),
                seconds=step * 0.002,
            )
        )
        if batch + 1 == BATCHES_PER_EPOCH:
            rows.append(
                make_row(
                    "epoch",
                    step=step,
                    epoch=epoch + 1,
                    batch=BATCHES_PER_EPOCH,
                    loss=loss,
                    accuracy=0.7,
                    val_loss=loss * 1.05,
                    val_accuracy=0.68,
                    seconds=step * 0.002,
                )
            )
    return rows
