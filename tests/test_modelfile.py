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
from colorclf.train.modelfile import (
    load_model_bytes,
    load_model_file,
    model_to_bytes,
    zip_members,
)

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
    assert "is a Lambda; only Dense layers are supported" in str(err)  # before Keras loads it


# ---------------------------------------------------------------------------- lying files


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _zip(members: dict[str, bytes]) -> bytes:
    return zip_members(members, zipfile.ZIP_DEFLATED)


def _under_declare(data: bytes, member: str, declared: int) -> bytes:
    """The zip with ``member``'s uncompressed size in the central directory and the local
    header rewritten to ``declared`` (what a zip bomb does to pass a size check)."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    local = info.header_offset
    raw[local + 22 : local + 26] = declared.to_bytes(4, "little")
    start = 0
    while (start := raw.find(b"PK\x01\x02", start)) >= 0:
        name_length = int.from_bytes(raw[start + 28 : start + 30], "little")
        if raw[start + 46 : start + 46 + name_length] == member.encode():
            raw[start + 24 : start + 28] = declared.to_bytes(4, "little")
        start += 4
    return bytes(raw)


def test_a_zip_that_under_declares_a_member_is_refused_while_inflating(
    model_bytes: tuple[object, bytes],
) -> None:
    members = _members(model_bytes[1])
    members["model.weights.h5"] = members["model.weights.h5"] + bytes(300 * 1024 * 1024)
    bomb = _under_declare(_zip(members), "model.weights.h5", 20_000)
    assert len(bomb) < 1024 * 1024  # a small file …
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:  # … whose directory says it is small
        assert sum(info.file_size for info in archive.infolist()) < 30_000
    err = error_of(bomb, "bomb.keras")
    assert str(err) in (
        "bomb.keras unpacks to more than 32 MB, too big for this model",
        "bomb.keras is a damaged zip archive: Bad CRC-32 for file 'model.weights.h5'",
    )


def test_a_zip_that_declares_a_huge_member_is_refused(model_bytes: tuple[object, bytes]) -> None:
    members = _members(model_bytes[1])
    members["model.weights.h5"] = bytes(40 * 1024 * 1024)
    err = error_of(_zip(members), "big.keras")
    assert str(err) == "big.keras unpacks to more than 32 MB, too big for this model"


def _two_wide_layers(layers: list[dict]) -> None:
    """hidden (4,000 units) → another 4,000 → the output: 16 million weights."""
    import copy

    layers[1]["config"]["units"] = 4000
    second = copy.deepcopy(layers[1])
    second["config"]["name"] = second["name"] = "wide"
    layers.insert(2, second)


def _with_config(data: bytes, change) -> bytes:
    import json

    members = _members(data)
    config = json.loads(members["config.json"])
    change(config["config"]["layers"])
    members["config.json"] = json.dumps(config).encode()
    return _zip(members)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda layers: layers[1]["config"].update(units=20_000_000),
         "a Dense layer asks for 20000000 units (at most 4,096)"),
        (lambda layers: layers[1]["config"].update(units=True), "asks for True units"),
        (lambda layers: layers[1]["config"].update(units="8"), "asks for 8 units"),
        (lambda layers: _two_wide_layers(layers), "more than 2,000,000 parameters"),
        (lambda layers: layers[0]["config"].update(batch_shape=[None, 10**9]),
         "must take 3 inputs"),
        (lambda layers: layers.extend([layers[1]] * 40), "a short chain of Dense layers"),
        (lambda layers: layers[1].update(class_name="Conv2D"),
         "is a Conv2D; only Dense layers are supported"),
    ],
    ids=["20M-units", "bool-units", "text-units", "too-many-params", "huge-input", "many-layers",
         "conv"],
)  # fmt: skip
def test_a_config_that_asks_for_too_much_is_refused_before_keras_builds_it(
    model_bytes: tuple[object, bytes], change, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    def no_keras(*args: object, **kwargs: object) -> None:
        raise AssertionError("Keras was asked to build it")

    monkeypatch.setattr(keras.saving, "load_model", no_keras)
    err = error_of(_with_config(model_bytes[1], change), "big.keras")
    assert message in str(err)
