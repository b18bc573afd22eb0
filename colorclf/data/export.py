"""A data set summarised for people (its Coding Train JSON is ``core.dataset``'s)."""

from __future__ import annotations

from typing import Any

from colorclf.core.dataset import ColorDataset
from colorclf.data.validate import SKIP_REASONS


def describe(dataset: ColorDataset) -> dict[str, Any]:
    """A summary for people: rows kept, skipped per reason, rows per label, contributors."""
    skipped = {reason: int(dataset.skipped.get(reason, 0)) for reason in SKIP_REASONS}
    extra = {k: int(v) for k, v in dataset.skipped.items() if k not in skipped}
    return {
        "source": dataset.source,
        "rows": len(dataset),
        "skipped": {**skipped, **extra},
        "skipped_total": sum(skipped.values()) + sum(extra.values()),
        "labels": dataset.label_counts(),
        "contributors": dataset.contributor_count(),
    }
