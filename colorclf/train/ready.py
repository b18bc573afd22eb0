"""A model whose training step TensorFlow has traced already, kept by a trainer for its next run.

Why: the first batch of a new Keras model waits for TensorFlow to trace its training step
into a graph, about 1 s on a 2-core machine (``bench/bench_page.py``: press Train → first
chart row 2.0 s, most of it that trace), while the same model's next ``fit`` starts in tens
of milliseconds. A trainer therefore keeps the model of its last run (and, from its warm-up,
one of the default preset) and gives it to the next run with the same layers and optimiser,
its weights and optimiser slots set back to exactly what ``build_model`` would start from:
the run is the one a new model would train, only sooner (``tests/test_training.py``).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np

from colorclf.core.hyperparams import Hyperparams
from colorclf.train.model import build_model

if TYPE_CHECKING:
    import keras


def architecture(hp: Hyperparams) -> Hashable:
    """What a kept model must share with a run to be given to it (everything ``build_model``
    reads but the seed, which only sets the initial weights)."""
    return hp.hidden_units, hp.activation, hp.optimizer, hp.learning_rate


def new_model(hp: Hyperparams) -> tuple[keras.Model, list[np.ndarray]]:
    """``build_model(hp)`` with its optimiser built, and the optimiser's untrained state."""
    model = build_model(hp)
    model.optimizer.build(model.trainable_variables)
    return model, [np.array(v) for v in model.optimizer.variables]


class ReadyModel:
    """At most one kept model, for the next run with the same architecture."""

    def __init__(self) -> None:
        self._kept: tuple[Hashable, keras.Model, list[np.ndarray]] | None = None

    def keep(self, model: keras.Model, hp: Hyperparams, untrained: list[np.ndarray]) -> None:
        self._kept = architecture(hp), model, untrained

    def take(self, hp: Hyperparams) -> tuple[keras.Model, list[np.ndarray]] | None:
        """The kept model and its optimiser's untrained state when its architecture matches
        ``hp`` (its weights as the last run left them: the caller sets them), else None."""
        kept, self._kept = self._kept, None
        if kept is None or kept[0] != architecture(hp):
            return None
        return kept[1], kept[2]
