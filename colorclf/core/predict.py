"""Fast prediction straight from the trained weights.

``model.predict`` costs 60–90 ms per call and ``model(x)`` 2–4 ms; a NumPy forward pass over
the Dense layers' weights takes microseconds, so sliders and the decision map can ask
thousands of colours per frame. It agrees with the model's own output within 1e-5.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from colorclf.core.dataset import scale_rgb
from colorclf.core.labels import LABELS


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


ACTIVATIONS = {
    "linear": lambda z: z,
    "sigmoid": _sigmoid,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "softmax": _softmax,
}


@dataclass(frozen=True)
class Predictor:
    """A chain of Dense layers as NumPy arrays: (kernel, bias, activation name) each.

    ``colorclf.train.model.predictor_from_model`` copies them out of a Keras model.
    """

    layers: tuple[tuple[np.ndarray, np.ndarray, str], ...]

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """Probabilities (n×9) for colours given as 0–255 RGB rows, scaled as in training."""
        return self.forward(scale_rgb(rgb))

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        """Probabilities (n×9) for inputs already scaled to 0–1, in float64."""
        values = np.asarray(inputs, dtype=np.float64)
        for kernel, bias, activation in self.layers:
            values = ACTIVATIONS[activation](values @ kernel + bias)
        return values

    def predict_one(self, r: int, g: int, b: int) -> tuple[str, dict[str, float]]:
        """The label and all nine probabilities by name, for one colour."""
        probs = self.probabilities(np.array([[r, g, b]]))[0]
        return LABELS[int(np.argmax(probs))], {
            name: float(p) for name, p in zip(LABELS, probs, strict=True)
        }

    def predict_labels(self, rgb: np.ndarray) -> np.ndarray:
        return np.argmax(self.probabilities(rgb), axis=1)

    @property
    def parameter_count(self) -> int:
        """Weights and biases of all layers together."""
        return sum(int(kernel.size + bias.size) for kernel, bias, _ in self.layers)

    def summary(self) -> str:
        """The layers in one line, e.g. "3 inputs → 16 relu → 9 softmax · 217 parameters"."""
        inputs = self.layers[0][0].shape[0] if self.layers else 0
        steps = [f"{kernel.shape[1]} {activation}" for kernel, _, activation in self.layers]
        return " → ".join([f"{inputs} inputs", *steps]) + f" · {self.parameter_count:,} parameters"

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
