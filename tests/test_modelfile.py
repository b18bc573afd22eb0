"""Model files: .keras bytes round trip, and every bad file → one-line ModelFileError."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from colorclf.core.errors import ModelFileError
from colorclf.core.hyperparams import Hyperparams
from colorclf.train.model import build_model, predictor_from_model
from colorclf.train.modelfile import load_model_bytes, load_model_file, model_to_bytes

PROBE = np.random.default_rng(0).integers(0, 256, (64, 3))


@pytest.fixture(scope="module")
def model_bytes() -> tuple[object, bytes]:
    model = build_model(Hyperparams(hidden_units=8, activation="relu", seed=11))
    return model, model_to_bytes(model)


def other_model(outputs: int = 9, activation: str = "softmax", heads: int = 1) -> bytes:
    import keras

    inputs = keras.Input(shape=(3,), name="rgb")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    outs = [
        keras.layers.Dense(outputs, activation=activation, name=f"out{i}")(hidden)
        for i in range(heads)
    ]
    return model_to_bytes(keras.Model(inputs, outs if heads > 1 else outs[0]))


def error_of(data: bytes, name: str = "model.keras", **kwargs: int) -> ModelFileError:
    with pytest.raises(ModelFileError) as info:
        load_model_bytes(data, name, **kwargs)
    err = info.value
    text = str(err)
    assert "\n" not in text and text
    assert err.__suppress_context__ or err.__context__ is None  # no chained Keras traceback
    return err


def test_round_trip_gives_the_same_predictions(model_bytes: tuple[object, bytes]) -> None:
    model, data = model_bytes
    assert zipfile.is_zipfile(io.BytesIO(data))
    loaded = load_model_bytes(data, "colour.keras")
    before = predictor_from_model(model).probabilities(PROBE)
    after = predictor_from_model(loaded).probabilities(PROBE)
    assert np.allclose(before, after, atol=1e-7)
    assert np.allclose(np.asarray(loaded(PROBE / 255.0)), after, atol=1e-5)


def test_load_model_file(model_bytes: tuple[object, bytes], tmp_path: Path) -> None:
    model, data = model_bytes
    path = tmp_path / "saved.keras"
    path.write_bytes(data)
    loaded = load_model_file(path)
    assert np.allclose(
        predictor_from_model(loaded).probabilities(PROBE),
        predictor_from_model(model).probabilities(PROBE),
    )
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model_file(tmp_path / "missing.keras")
    with pytest.raises(ModelFileError, match="too big"):
        load_model_file(path, max_bytes=100)


def test_wrong_extension(model_bytes: tuple[object, bytes]) -> None:
    err = error_of(model_bytes[1], "model.h5")
    assert ".keras" in str(err) and "model.h5" in str(err)


def test_oversize(model_bytes: tuple[object, bytes]) -> None:
    data = model_bytes[1]
    assert "too big" in str(error_of(data, max_bytes=len(data) - 1))


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda data: b"",
        lambda data: b"not a zip file at all",
        lambda data: data[: len(data) // 2],
        lambda data: data[:100] + bytes(200) + data[300:],
    ],
    ids=["empty", "text", "truncated", "overwritten"],
)
def test_corrupt_bytes(model_bytes: tuple[object, bytes], corrupt) -> None:
    err = error_of(corrupt(model_bytes[1]), "broken.keras")
    assert "broken.keras" in str(err)


def test_a_zip_that_is_not_a_model() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert "config.json" in str(error_of(buffer.getvalue()))


def test_four_outputs() -> None:
    err = error_of(other_model(outputs=4))
    assert "9 outputs" in str(err)


def test_two_output_heads() -> None:
    assert "2 output" in str(error_of(other_model(heads=2)))


def test_not_softmax() -> None:
    assert "softmax" in str(error_of(other_model(activation="linear")))


def test_lambda_layers_are_refused_by_safe_mode() -> None:
    import keras

    inputs = keras.Input(shape=(3,))
    doubled = keras.layers.Lambda(lambda z: z * 2)(inputs)
    outputs = keras.layers.Dense(9, activation="softmax")(doubled)
    err = error_of(model_to_bytes(keras.Model(inputs, outputs)))
    assert "could not be loaded" in str(err)
