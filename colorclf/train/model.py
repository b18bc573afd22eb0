"""The colour classifier network, built from a Hyperparams.

Safe to build while other sessions of the same server build theirs: every layer has an
explicit name (Streamlit calls ``keras.backend.clear_session()`` after each script run,
which resets Keras' automatic name counters) and every initialiser its own seed (never
``keras.utils.set_random_seed``, which is process-wide).
"""

from __future__ import annotations

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
        model.optimizer.build(model.trainable_variables)
        for variable, value in zip(model.optimizer.variables, state.optimizer, strict=True):
            variable.assign(value)
