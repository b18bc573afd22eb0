"""The colour classifier network, built from a Hyperparams.

Safe to build while other sessions of the same server build theirs: every layer has an
explicit name (Streamlit calls ``keras.backend.clear_session()`` after each script run,
which resets Keras' automatic name counters) and every initialiser its own seed (never
``keras.utils.set_random_seed``, which is process-wide).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from colorclf.core.errors import ModelFileError
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.labels import LABELS, NUM_LABELS
from colorclf.core.predict import ACTIVATIONS, Predictor
from colorclf.core.protocol import ModelState

if TYPE_CHECKING:
    import keras


def build_model(hp: Hyperparams) -> keras.Model:
    """inputs r/255, g/255, b/255 → Dense(hidden, activation) → Dense(9, softmax), compiled."""
    model = _network(hp)
    model.compile(
        optimizer=make_optimizer(hp),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    _build_metrics(model)
    return model


def initial_weights(hp: Hyperparams) -> list:
    """The weights ``build_model(hp)`` starts from (seeded: the same on every call)."""
    return _network(hp).get_weights()


def _network(hp: Hyperparams) -> keras.Model:
    import keras

    inputs = keras.Input(shape=(3,), name="rgb")
    hidden = keras.layers.Dense(
        hp.hidden_units,
        activation=hp.activation,
        kernel_initializer=keras.initializers.GlorotUniform(seed=hp.seed),
        name="hidden",
    )(inputs)
    outputs = keras.layers.Dense(
        NUM_LABELS,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=hp.seed + 1),
        name="label",
    )(hidden)
    return keras.Model(inputs, outputs, name="color_classifier")


def _build_metrics(model: keras.Model) -> None:
    """Create the compiled metrics' variables now, outside ``fit``.

    Otherwise Keras creates them while tracing the first train step, TensorFlow lifts their
    initialisers into ``cond`` functions, and those stay registered in the eager context
    for ever: about 1 MB per trained model that no collection returns (measured with
    ``bench/bench_class.py --part memory``).
    """
    import numpy as np

    x = np.zeros((2, 3), dtype=np.float32)
    y = np.eye(NUM_LABELS, dtype=np.float32)[[0, 1]]
    model.compute_metrics(x, y, model(x, training=False), sample_weight=None)
    model.reset_metrics()


def make_optimizer(hp: Hyperparams) -> keras.optimizers.Optimizer:
    import keras

    if hp.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=hp.learning_rate)
    return keras.optimizers.SGD(learning_rate=hp.learning_rate)


def predictor_from_model(model: keras.Model) -> Predictor:
    """Copy the weights of a model made only of Dense layers (3 inputs, 9 outputs)."""
    import keras
    import numpy as np

    chain = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise ModelFileError(
                f"layer {layer.name!r} is a {type(layer).__name__}; only Dense layers "
                "can be used by the colour classifier"
            )
        activation = keras.activations.serialize(layer.activation)
        if isinstance(activation, dict):
            activation = activation.get("config", {}).get("name", activation.get("class_name"))
        if activation not in ACTIVATIONS:
            raise ModelFileError(f"layer {layer.name!r} uses unsupported activation {activation!r}")
        kernel, bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
        chain.append((kernel, bias, str(activation)))
    if not chain or chain[0][0].shape[0] != 3 or chain[-1][0].shape[1] != len(LABELS):
        raise ModelFileError("the model must take 3 inputs (r, g, b) and give 9 outputs")
    return Predictor(tuple(chain))


def capture_state(
    model: keras.Model,
    weights: list[np.ndarray] | None = None,
    best_weights: list[np.ndarray] | None = None,
) -> ModelState:
    """The model's state; ``weights`` instead of the model's own (after early stopping put
    the best epoch's weights back, a Resume goes on from the last ones)."""
    optimizer = model.optimizer
    return ModelState(
        weights=[np.array(w) for w in (model.get_weights() if weights is None else weights)],
        optimizer=[np.array(v) for v in optimizer.variables] if optimizer.built else [],
        best_weights=best_weights,
    )


def restore_state(model: keras.Model, state: ModelState) -> None:
    model.set_weights(state.weights)
    if state.optimizer:
        if not model.optimizer.built:  # building twice would add a second set of slots
            model.optimizer.build(model.trainable_variables)
        for variable, value in zip(model.optimizer.variables, state.optimizer, strict=True):
            variable.assign(value)


KEPT_MODELS = 32  # a class's runs at once (~5 MB for 30 models of the default preset)


class BuiltModels:
    """Keras models of ended runs, kept for the next run with the same settings.

    Building and compiling a model cost ~17 ms, about a tenth of a class's run at full pace
    (bench/bench_class.py); a kept model is put back exactly where ``build_model`` starts
    (the seeded initial weights, a fresh optimizer with its slots built), so a run on it is
    the run on a new one. At most ``most`` models are kept, whatever their settings.
    """

    def __init__(self, most: int = KEPT_MODELS) -> None:
        self._most = most
        self._lock = threading.Lock()
        self._kept: dict[Hyperparams, list[keras.Model]] = {}
        self._fresh: dict[Hyperparams, ModelState] = {}  # what build_model gives, per setting

    def take(self, hp: Hyperparams) -> keras.Model:
        """A model as ``build_model(hp)`` gives it, its optimizer built."""
        with self._lock:
            kept = self._kept.get(hp)
            model = kept.pop() if kept else None
            fresh = self._fresh.get(hp)
        if model is None or fresh is None:
            return self._build(hp)
        restore_state(model, fresh)
        model.stop_training = False
        return model

    def _build(self, hp: Hyperparams) -> keras.Model:
        model = build_model(hp)
        model.optimizer.build(model.trainable_variables)
        with self._lock:
            if len(self._fresh) >= self._most:
                self._fresh.clear()
            self._fresh.setdefault(hp, capture_state(model))
        return model

    def stock(self, hp: Hyperparams, want: int) -> bool:
        """Build one more model for ``hp`` if fewer than ``want`` (and ``most`` in all) are
        kept; True if it built one. An idle trainer stocks the default preset, so a class
        that presses Train together does not build thirty models at that moment (~0.5 s of
        the trainer's CPU then, bench/bench_class.py)."""
        with self._lock:
            kept = len(self._kept.get(hp, ()))
            if kept >= want or sum(len(k) for k in self._kept.values()) >= self._most:
                return False
        self.give_back(hp, self._build(hp))
        return True

    def give_back(self, hp: Hyperparams, model: keras.Model) -> None:
        """A model whose run has ended and that nothing uses any more."""
        with self._lock:
            if sum(len(kept) for kept in self._kept.values()) < self._most:
                self._kept.setdefault(hp, []).append(model)


BUILT_MODELS = BuiltModels()  # the trainer's: every scheduler thread takes from it
