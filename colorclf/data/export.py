"""Data sets out: the Coding Train's JSON, and a summary for people."""

from __future__ import annotations

import json
from typing import Any

from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS
from colorclf.data.validate import SKIP_REASONS


def to_coding_train_json(dataset: ColorDataset) -> bytes:
    """The data set in the Coding Train's format, ``{"entries": [{r, g, b, label, uid}]}``."""
    entries = [
        {"r": int(r), "g": int(g), "b": int(b), "label": LABELS[int(label)], "uid": str(uid)}
        for (r, g, b), label, uid in zip(
            dataset.rgb.tolist(), dataset.label.tolist(), dataset.contributor.tolist(), strict=True
        )
    ]
    return (json.dumps({"entries": entries}, indent=2, ensure_ascii=False) + "\n").encode()


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
