"""The NumPy fast path agrees with Keras and refuses models it cannot reproduce."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from colorclf.core.dataset import scale_rgb  # noqa: E402
from colorclf.core.errors import ModelFileError  # noqa: E402
from colorclf.core.hyperparams import Hyperparams  # noqa: E402
from colorclf.core.labels import LABELS  # noqa: E402
from colorclf.train.model import build_model, predictor_from_model  # noqa: E402

RGB = np.random.default_rng(1).integers(0, 256, size=(200, 3))
RGB[:4] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [12, 200, 99]]


def _randomised(model, seed: int = 0):
    """Give every weight, biases included, a random non-trivial value (not the initial zeros)."""
    rng = np.random.default_rng(seed)
    shapes = [w.shape for w in model.get_weights()]
    model.set_weights([rng.normal(0, 1.5, size=s).astype(np.float32) for s in shapes])
    return model


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh", "elu"])
def test_predictor_agrees_with_the_keras_model(activation: str) -> None:
    model = _randomised(build_model(Hyperparams(activation=activation, hidden_units=20)))
    expected = np.asarray(model(scale_rgb(RGB)))
    predictor = predictor_from_model(model)
    got = predictor.probabilities(RGB)
    assert got.shape == (len(RGB), 9)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got, model.predict(scale_rgb(RGB), verbose=0), atol=1e-5)
    np.testing.assert_array_equal(predictor.predict_labels(RGB), np.argmax(expected, axis=1))
    # Not trivially uniform: the check above would pass for any constant model otherwise.
    assert got.max() > 0.3


def test_predictor_copies_the_weights() -> None:
    model = _randomised(build_model(Hyperparams()))
    predictor = predictor_from_model(model)
    before = predictor.probabilities(RGB)
    _randomised(model, seed=9)
    np.testing.assert_array_equal(predictor.probabilities(RGB), before)


def test_predict_one_gives_the_label_and_nine_named_probabilities() -> None:
    model = _randomised(build_model(Hyperparams(activation="relu")), seed=4)
    label, probabilities = predictor_from_model(model).predict_one(255, 128, 0)
    assert list(probabilities) == list(LABELS)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-9)
    expected = np.asarray(model(scale_rgb(np.array([[255, 128, 0]]))))[0]
    assert label == LABELS[int(np.argmax(expected))]
    assert probabilities[label] == pytest.approx(float(expected.max()), abs=1e-5)


def test_rejects_a_model_with_the_wrong_number_of_outputs() -> None:
    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Dense(5, activation="softmax")(keras.layers.Dense(4)(inputs))
    with pytest.raises(ModelFileError, match="9 outputs"):
        predictor_from_model(keras.Model(inputs, outputs))


def test_rejects_a_model_with_the_wrong_number_of_inputs() -> None:
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Dense(9, activation="softmax")(inputs)
    with pytest.raises(ModelFileError, match="3 inputs"):
        predictor_from_model(keras.Model(inputs, outputs))


def test_rejects_a_non_dense_layer() -> None:
    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    normalised = keras.layers.BatchNormalization(name="norm")(hidden)
    outputs = keras.layers.Dense(9, activation="softmax")(normalised)
    with pytest.raises(ModelFileError, match="norm"):
        predictor_from_model(keras.Model(inputs, outputs))


def test_rejects_an_unsupported_activation() -> None:
    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(8, activation="softplus", name="soft")(inputs)
    outputs = keras.layers.Dense(9, activation="softmax")(hidden)
    with pytest.raises(ModelFileError, match="softplus"):
        predictor_from_model(keras.Model(inputs, outputs))


def test_the_answer_says_not_sure_when_the_top_two_are_close_or_the_best_is_weak() -> None:
    from colorclf.views.answer import describe_answer

    grey = {"green-ish": 0.25, "grey-ish": 0.19, "blue-ish": 0.1}
    assert describe_answer(grey) == ("Not sure", "green-ish 25 % / grey-ish 19 %")
    assert describe_answer({"red-ish": 0.9, "pink-ish": 0.06}) == (
        "red-ish",
        "red-ish 90 % / pink-ish 6 %",
    )
    assert describe_answer({"red-ish": 0.55, "pink-ish": 0.45})[0] == "Not sure"  # close
    assert describe_answer({"red-ish": 0.45, "pink-ish": 0.1})[0] == "Not sure"  # weak


def test_packed_layers_carry_the_float32_weights_exactly() -> None:
    """What the browser's sliders run (colorclf/app/ask_widget/ask.js) is the trained
    network, bit for bit: base64 little-endian float32, row-major kernels."""
    import base64

    from colorclf.core.predict import Predictor
    from colorclf.views.answer import packed_layers

    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(3, 5)).astype(np.float32)
    bias = rng.normal(size=5).astype(np.float32)
    out = rng.normal(size=(5, 9)).astype(np.float32)
    predictor = Predictor(((kernel, bias, "elu"), (out, np.zeros(9, np.float32), "softmax")))
    packed = packed_layers(predictor)
    assert [(p["rows"], p["cols"], p["activation"]) for p in packed] == [
        (3, 5, "elu"),
        (5, 9, "softmax"),
    ]
    first = np.frombuffer(base64.b64decode(packed[0]["kernel"]), dtype="<f4").reshape(3, 5)
    assert np.array_equal(first, kernel) and first[1, 2] == kernel[1, 2]
    assert np.array_equal(np.frombuffer(base64.b64decode(packed[0]["bias"]), dtype="<f4"), bias)


def test_one_forward_pass_gives_every_layer_and_the_loss_keras_computes() -> None:
    """The predictor, the network view and the cross-entropy share ``activations``."""
    from colorclf.core.dataset import scale_rgb
    from colorclf.core.predict import Predictor, cross_entropy
    from colorclf.views.network import hidden_activations

    rng = np.random.default_rng(0)
    layers = (
        (rng.normal(size=(3, 5)), rng.normal(size=5), "tanh"),
        (rng.normal(size=(5, 9)), rng.normal(size=9), "softmax"),
    )
    predictor = Predictor(layers)
    rgb = rng.integers(0, 256, size=(40, 3))
    hidden, probs = predictor.activations(scale_rgb(rgb))
    np.testing.assert_allclose(hidden, np.tanh(scale_rgb(rgb) @ layers[0][0] + layers[0][1]))
    np.testing.assert_array_equal(probs, predictor.probabilities(rgb))
    np.testing.assert_array_equal(hidden_activations(predictor, rgb)[0], hidden)
    labels = rng.integers(0, 9, size=40)
    expected = -np.log(np.clip(probs[np.arange(40), labels], 1e-7, 1 - 1e-7)).mean()
    assert cross_entropy(probs, labels) == pytest.approx(expected)
    assert cross_entropy(probs, np.eye(9)[labels]) == pytest.approx(expected)
