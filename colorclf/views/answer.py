"""The sliders' answer in words, and the weights as the browser's forward pass reads them."""

from __future__ import annotations

import base64

import numpy as np

from colorclf.core.predict import Predictor

SURE_PROBABILITY = 0.5  # below this, or ...
SURE_MARGIN = 0.15  # ... this close to the runner-up, the answer is "Not sure"


def describe_answer(probabilities: dict[str, float]) -> tuple[str, str]:
    """The answer as the sliders show it: a headline (the label, or "Not sure" when the top
    two are close or the best is under even odds) and the top two with their percentages,
    e.g. ("Not sure", "green-ish 25 % / grey-ish 19 %")."""
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)
    (best, p1), (second, p2) = ranked[0], ranked[1]
    detail = f"{best} {p1:.0%} / {second} {p2:.0%}".replace("%", " %")
    sure = p1 >= SURE_PROBABILITY and p1 - p2 >= SURE_MARGIN
    return (best if sure else "Not sure"), detail


def packed_layers(predictor: Predictor) -> list[dict[str, object]]:
    """The layers as the browser's forward pass reads them (``app/ask_widget/ask.js``): each
    kernel (row-major) and bias as base64 little-endian float32, the values training gave,
    in a fifth of the bytes of JSON numbers."""
    packed = []
    for kernel, bias, activation in predictor.layers:
        rows, cols = kernel.shape
        packed.append(
            {
                "rows": int(rows),
                "cols": int(cols),
                "kernel": _base64_float32(kernel),
                "bias": _base64_float32(bias),
                "activation": activation,
            }
        )
    return packed


def _base64_float32(values: np.ndarray) -> str:
    little = np.ascontiguousarray(values, dtype="<f4")
    return base64.b64encode(little.tobytes()).decode("ascii")
