"""Fast prediction straight from the trained weights.

``model.predict`` costs 60–90 ms per call and ``model(x)`` 2–4 ms; a NumPy forward pass over
the Dense layers' weights takes microseconds, so sliders and the decision map can ask
thousands of colours per frame. It agrees with the model's own output within 1e-5.
"""

from __future__ import annotations

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
        return self.activations(inputs)[-1]

    def activations(self, inputs: np.ndarray) -> list[np.ndarray]:
        """The one forward pass: every layer's outputs (n × units each, the last the
        probabilities) for inputs already scaled to 0–1, in float64."""
        values = np.asarray(inputs, dtype=np.float64)
        outputs = []
        for kernel, bias, activation in self.layers:
            values = ACTIVATIONS[activation](values @ kernel + bias)
            outputs.append(values)
        return outputs

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


CLIP = 1e-7  # Keras' epsilon: probabilities are clipped to [CLIP, 1 - CLIP] before the log


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean categorical cross-entropy as Keras computes it (rows normalised, clipped), for
    label indices or one-hot rows."""
    probs = np.asarray(probabilities, dtype=np.float64)
    probs = np.clip(probs / probs.sum(axis=1, keepdims=True), CLIP, 1 - CLIP)
    labels = np.asarray(labels)
    picked = (
        probs[np.arange(len(probs)), labels]
        if labels.ndim == 1
        else (np.sum(labels * probs, axis=1))
    )
    return float(np.mean(-np.log(picked)))
