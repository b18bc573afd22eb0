"""The confusion matrix of the validation colours and the accuracy per label."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from colorclf.core.labels import LABELS, NUM_LABELS
from colorclf.views.palette import LABEL_LIST

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor


def _label_indices(labels: Sequence[int] | Sequence[str] | np.ndarray) -> np.ndarray:
    array = np.asarray(labels)
    if array.dtype.kind in "iu":
        return array.astype(np.int64).reshape(-1)
    index = {name: i for i, name in enumerate(LABELS)}
    return np.array([index[str(name)] for name in array.reshape(-1)], dtype=np.int64)


def confusion_matrix(
    predictor: Predictor, rgb: np.ndarray, labels: Sequence[int] | Sequence[str] | np.ndarray
) -> pd.DataFrame:
    """Counts of (true, predicted) label pairs, all 81 of them in LABELS order.

    ``labels`` are the true labels (indices or names). Columns: ``true``, ``predicted``,
    ``count`` (summing to the number of colours) and ``share`` (of the true label's colours).
    """
    truth = _label_indices(labels)
    rgb = np.asarray(rgb).reshape(-1, 3)
    if len(truth):
        predicted = np.argmax(np.asarray(predictor.probabilities(rgb)), axis=1)
    else:
        predicted = np.zeros(0, dtype=np.int64)
    counts = np.bincount(truth * NUM_LABELS + predicted, minlength=NUM_LABELS**2).reshape(
        NUM_LABELS, NUM_LABELS
    )
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, np.maximum(totals, 1))
    return pd.DataFrame(
        {
            "true": np.repeat(LABEL_LIST, NUM_LABELS),
            "predicted": LABEL_LIST * NUM_LABELS,
            "count": counts.ravel().astype(np.int64),
            "share": shares.ravel(),
        }
    )


def per_class_accuracy(confusion: pd.DataFrame) -> pd.DataFrame:
    """Per true label: ``colours``, ``correct`` and ``accuracy`` (NaN for a label with no colour),
    from a ``confusion_matrix`` frame."""
    # NumPy over the 81 cells: pandas filtering here cost ~10 ms, once a second per trainee.
    true = confusion["true"].to_numpy(dtype=object)
    predicted = confusion["predicted"].to_numpy(dtype=object)
    count = confusion["count"].to_numpy()
    rows = []
    for name in LABELS:
        in_row = true == name
        total = int(count[in_row].sum())
        correct = int(count[in_row & (predicted == name)].sum())
        rows.append(
            {
                "label": name,
                "colours": total,
                "correct": correct,
                "accuracy": correct / total if total else math.nan,
            }
        )
    return pd.DataFrame(rows)


_CONFUSION_SPEC: dict[str, Any] = {
    "title": "Confusion matrix",
    "height": 380,
    "encoding": {
        "x": {
            "field": "predicted",
            "type": "nominal",
            "sort": LABEL_LIST,
            "axis": {"title": "Predicted label", "labelAngle": -40, "labelOverlap": False},
        },
        "y": {
            "field": "true",
            "type": "nominal",
            "sort": LABEL_LIST,
            "axis": {"title": "True label", "labelOverlap": False},
        },
    },
    "layer": [
        {
            "mark": {"type": "rect"},
            "encoding": {
                "color": {
                    "field": "share",
                    "type": "quantitative",
                    "scale": {"scheme": "blues", "domain": [0, 1]},
                    "legend": {"title": "Share of row", "format": ".0%"},
                },
                "tooltip": [
                    {"field": "true", "type": "nominal", "title": "True"},
                    {"field": "predicted", "type": "nominal", "title": "Predicted"},
                    {"field": "count", "type": "quantitative", "title": "Colours"},
                    {"field": "share", "type": "quantitative", "format": ".0%"},
                ],
            },
        },
        {
            "mark": {"type": "text", "fontSize": 11},
            "encoding": {
                "text": {"field": "count", "type": "quantitative"},
                "color": {
                    "condition": {"test": "datum.share > 0.5", "value": "white"},
                    "value": "black",
                },
            },
        },
    ],
}


_CONFUSION_SPEC_JSON = json.dumps(_CONFUSION_SPEC)


def confusion_matrix_spec() -> dict[str, Any]:
    """Fixed spec "Confusion matrix": a heatmap (rows = true label, columns = predicted label),
    shaded by the share of the row, with each cell's count written in it."""
    return json.loads(_CONFUSION_SPEC_JSON)  # a fresh copy, ~20× faster than deepcopy
