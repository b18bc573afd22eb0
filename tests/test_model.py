"""The network built from a Hyperparams: names, seeding, shape, thread safety."""

from __future__ import annotations

import threading

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from colorclf.core.hyperparams import Hyperparams  # noqa: E402
from colorclf.train.model import build_model  # noqa: E402


def _weights(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def test_layers_are_named_and_shaped_per_hyperparams() -> None:
    model = build_model(Hyperparams(hidden_units=24, activation="tanh"))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.name for layer in dense] == ["hidden", "label"]
    hidden, label = dense
    assert hidden.units == 24
    assert hidden.activation is keras.activations.tanh
    assert label.units == 9
    assert label.activation is keras.activations.softmax
    assert tuple(model.inputs[0].shape) == (None, 3)
    assert tuple(model.outputs[0].shape) == (None, 9)


@pytest.mark.parametrize(("optimizer", "cls"), [("sgd", "SGD"), ("adam", "Adam")])
def test_optimizer_and_learning_rate_per_hyperparams(optimizer: str, cls: str) -> None:
    model = build_model(Hyperparams(optimizer=optimizer, learning_rate=0.0123))
    assert type(model.optimizer).__name__ == cls
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0123)
    assert model.loss == "categorical_crossentropy"


def test_outputs_are_probabilities() -> None:
    model = build_model(Hyperparams())
    probs = np.asarray(model(np.random.default_rng(0).random((5, 3), dtype=np.float32)))
    assert probs.shape == (5, 9)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_same_seed_same_initial_weights() -> None:
    first = _weights(build_model(Hyperparams(seed=7)))
    keras.backend.clear_session()
    second = _weights(build_model(Hyperparams(seed=7)))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_different_seed_different_initial_weights() -> None:
    first = _weights(build_model(Hyperparams(seed=7)))
    second = _weights(build_model(Hyperparams(seed=8)))
    assert not np.array_equal(first[0], second[0])
    assert not np.array_equal(first[2], second[2])


def test_seeded_weights_ignore_the_global_random_state() -> None:
    keras.utils.set_random_seed(1)
    first = _weights(build_model(Hyperparams(seed=3)))
    keras.utils.set_random_seed(2)
    np.random.seed(99)
    second = _weights(build_model(Hyperparams(seed=3)))
    np.testing.assert_array_equal(first[0], second[0])


def test_concurrent_builds_survive_clear_session() -> None:
    """Two sessions build at once while a third clears Keras' global state (as Streamlit does
    after every script run): explicit names mean no collisions and the right layers."""
    errors: list[BaseException] = []
    names: list[list[str]] = []
    done = threading.Event()
    clears: list[int] = []
    start = threading.Barrier(3)

    def builder(seed: int) -> None:
        try:
            start.wait()
            for i in range(8):
                model = build_model(Hyperparams(seed=seed + i, hidden_units=8))
                names.append([layer.name for layer in model.layers])
        except BaseException as error:  # reported below
            errors.append(error)

    def clearer() -> None:
        start.wait()
        while not done.wait(0.002):
            # What Streamlit calls after each run, minus its gc.collect (0.3-0.6 s with TF
            # loaded): resetting the global state is what used to make unnamed layers collide.
            keras.backend.clear_session(free_memory=False)
            clears.append(1)

    threads = [threading.Thread(target=builder, args=(s,)) for s in (0, 100)]
    cleaning = threading.Thread(target=clearer)
    for t in [*threads, cleaning]:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    cleaning.join(timeout=30)
    assert errors == []
    assert len(names) == 16
    assert len(clears) > 5  # the clearing really overlapped the builds
    assert all(n == ["rgb", "hidden", "label"] for n in names)
