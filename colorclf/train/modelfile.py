"""Model files: save a trained classifier as a ``.keras`` file and load one back, safely.

Loading checks, in order: the name ends in ``.keras``, (for a file on disk) it exists and is a
regular file, the size is under the cap, it is not empty, the bytes are a zip archive (what a
``.keras`` file is) holding ``config.json``; every member is inflated here with a running
count (a zip's directory may lie about sizes) and the archive Keras reads is re-packed from
what was counted; the config asks only for Dense layers of at most ``MAX_UNITS`` units and
``MAX_PARAMS`` parameters in all, on 3 inputs, before Keras builds anything; Keras loads it
with ``safe_mode=True`` (no arbitrary code from lambdas), it takes 3 inputs
and gives 9 outputs, its layers are a chain of Dense layers the fast predictor can run, and
its outputs are probabilities that agree with the predictor. Any failure raises
``ModelFileError`` with a one-line message, never a Keras traceback.

The web server never calls ``load_model_bytes``: an uploaded file goes to a trainer process
(``colorclf.serve.modelcheck``), which runs ``predictor_from_upload`` there; the server only
runs ``precheck`` (name, size, not empty) before sending the bytes.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from colorclf.core.errors import ModelFileError
from colorclf.core.labels import NUM_LABELS
from colorclf.core.text import one_line, size_text
from colorclf.train.model import predictor_from_model

if TYPE_CHECKING:
    import keras

    from colorclf.core.predict import Predictor

MAX_MODEL_BYTES = 20 * 1024 * 1024
# A .keras zip for this tiny network unpacks to kilobytes; refuse zip bombs early: more than
# MAX_UNPACKED_FACTOR times the size cap, and never more than MAX_UNPACKED_BYTES.
MAX_UNPACKED_FACTOR = 10
MAX_UNPACKED_BYTES = 32 * 1024 * 1024  # 2 million float32 weights are 8 MB
MODEL_FILE_NAME = "color-classifier.keras"
MAX_MEMBERS = 16  # a .keras file holds three: metadata.json, config.json, model.weights.h5
MAX_CONFIG_BYTES = 1024 * 1024
MAX_UNITS = 4096  # per Dense layer (this app's own networks have at most 256)
MAX_PARAMS = 2_000_000  # weights and biases of all layers together
MAX_LAYERS = 32
_CHUNK = 64 * 1024


def model_to_bytes(model: keras.Model) -> bytes:
    """The model as the bytes of a ``.keras`` file (a zip: config and weights)."""
    with tempfile.TemporaryDirectory(prefix="colorclf-") as folder:
        path = Path(folder) / MODEL_FILE_NAME
        model.save(path)
        return path.read_bytes()


def _unpack(data: bytes, name: str, max_bytes: int) -> dict[str, bytes]:
    """Every member of the zip, inflated with a running count: refused as soon as the total
    passes the limit, whatever the zip's directory declares."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelFileError(f"{name} is not a Keras model file (it is not a .keras zip archive)")
    limit = min(max_bytes * MAX_UNPACKED_FACTOR, MAX_UNPACKED_BYTES)
    members: dict[str, bytes] = {}
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            if len(infos) > MAX_MEMBERS:
                raise ModelFileError(f"{name} holds {len(infos)} files; a .keras file holds 3")
            for info in infos:
                parts: list[bytes] = []
                with archive.open(info) as handle:
                    while chunk := handle.read(_CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise ModelFileError(
                                f"{name} unpacks to more than {size_text(limit)}, too big for "
                                "this model"
                            )
                        parts.append(chunk)
                members[info.filename] = b"".join(parts)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            zlib.error, NotImplementedError, RuntimeError) as err:  # fmt: skip
        raise ModelFileError(f"{name} is a damaged zip archive: {one_line(err, 200)}") from None
    if "config.json" not in members:
        raise ModelFileError(f"{name} is not a .keras model file (no config.json inside)")
    return members


def zip_members(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip of ``members`` whose directory tells the truth (Keras reads the members of an
    upload as counted by ``_unpack``, re-packed here)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return buffer.getvalue()


def _check_config(raw: bytes, name: str) -> None:
    """What the config asks Keras to build, checked before Keras builds it: layers that are
    Dense (or the input), on 3 inputs, at most ``MAX_UNITS`` units each and ``MAX_PARAMS``
    parameters in all (a 2 KB config can ask for gigabytes of weights)."""
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelFileError(f"{name}: its config.json is {size_text(len(raw))}, far too big")
    try:
        config = json.loads(raw)
        layers = config["config"]["layers"]
    except (ValueError, RecursionError, KeyError, TypeError):
        raise ModelFileError(f"{name}: its config.json does not describe a model") from None
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise ModelFileError(f"{name}: the model must be a short chain of Dense layers")
    fan_in, params = 3, 0
    for layer in layers:
        kind = layer.get("class_name") if isinstance(layer, dict) else None
        settings = layer.get("config") if isinstance(layer, dict) else None
        if not isinstance(settings, dict):
            raise ModelFileError(f"{name}: its config.json does not describe a model")
        if kind == "InputLayer":
            shape = settings.get("batch_shape") or settings.get("batch_input_shape")
            if not (isinstance(shape, list) and shape and shape[-1] == 3):
                raise ModelFileError(f"{name}: the model must take 3 inputs (r, g, b)")
            continue
        if kind != "Dense":
            raise ModelFileError(
                f"{name}: layer {one_line(settings.get('name', '?'), 40)!r} is a "
                f"{one_line(kind, 40)}; only Dense layers are supported"
            )
        units = settings.get("units")
        if not isinstance(units, int) or isinstance(units, bool) or not 1 <= units <= MAX_UNITS:
            raise ModelFileError(
                f"{name}: a Dense layer asks for {one_line(units, 40)} units "
                f"(at most {MAX_UNITS:,})"
            )
        params += fan_in * units + units
        fan_in = units
        if params > MAX_PARAMS:
            raise ModelFileError(
                f"{name}: the model would have more than {MAX_PARAMS:,} parameters, too big "
                "for a colour classifier"
            )


def _check_shape(model: keras.Model, name: str) -> None:
    try:
        inputs = [tuple(t.shape) for t in getattr(model, "inputs", None) or []]
        outputs = [tuple(t.shape) for t in getattr(model, "outputs", None) or []]
    except (AttributeError, ValueError):  # e.g. a model that was never built
        raise ModelFileError(f"{name}: the model has no defined inputs and outputs") from None
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelFileError(
            f"{name}: the model must have one input of 3 values (r, g, b) and one output of "
            f"{NUM_LABELS} probabilities; it has {len(inputs)} input(s) and "
            f"{len(outputs)} output(s)"
        )
    in_shape, out_shape = inputs[0], outputs[0]
    shapes_fit = len(in_shape) == 2 and in_shape[-1] == 3
    shapes_fit = shapes_fit and len(out_shape) == 2 and out_shape[-1] == NUM_LABELS
    if not shapes_fit:
        raise ModelFileError(
            f"{name}: the model must take 3 inputs (r, g, b) and give {NUM_LABELS} outputs; "
            f"its input shape is {in_shape} and output shape {out_shape}"
        )


def _check_predictor(model: keras.Model, name: str) -> None:
    try:
        predictor = predictor_from_model(model)
    except ModelFileError as err:
        raise ModelFileError(f"{name}: {err}") from None
    # The predictor walks the Dense layers in order; a model whose layers are not a simple
    # chain (or that is not a softmax classifier) would be run wrongly: check on probe colours.
    levels = np.array([0, 64, 128, 191, 255])
    probe = np.array(np.meshgrid(levels, levels, levels)).reshape(3, -1).T
    try:
        expected = np.asarray(model(probe.astype(np.float32) / 255.0, training=False))
    except MemoryError:
        raise
    except Exception as err:
        raise ModelFileError(f"{name}: the model cannot be run: {one_line(err, 200)}") from None
    ours = predictor.probabilities(probe)
    if not np.all(np.isfinite(ours)):
        raise ModelFileError(f"{name}: the model's weights are not finite numbers")
    if not np.allclose(ours.sum(axis=1), 1.0, atol=1e-3):
        raise ModelFileError(
            f"{name}: the model's outputs are not probabilities (its last layer must use softmax)"
        )
    if expected.shape != ours.shape or not np.allclose(expected, ours, atol=1e-4):
        raise ModelFileError(f"{name}: the model's layers are not a simple chain of Dense layers")


def _check_suffix(name: str) -> None:
    if not name.lower().endswith(".keras") or Path(name).suffix.lower() != ".keras":
        raise ModelFileError(f"{name}: model files must end in .keras")


def precheck(data: bytes, name: str, max_bytes: int = MAX_MODEL_BYTES) -> str:
    """The checks that need no parsing: the name ends in ``.keras``, the file is not empty
    and not bigger than ``max_bytes``. Returns the name to show (``upload`` when none)."""
    name = name or "upload"
    _check_suffix(name)
    if len(data) > max_bytes:
        raise ModelFileError(
            f"{name} is too big: {size_text(len(data))} (the limit is {size_text(max_bytes)})"
        )
    if not data:
        raise ModelFileError(f"{name} is empty")
    return name


def load_model_bytes(
    data: bytes, name: str, max_bytes: int = MAX_MODEL_BYTES, *, compile: bool = True
) -> keras.Model:
    """A colour classifier from the bytes of a ``.keras`` file called ``name``.

    Raises ModelFileError (one line, naming the file) when the file is not a model this app
    can use. ``compile=False`` loads it without its optimiser (enough to predict and
    evaluate, and Keras then prints no warnings about the optimiser's state).
    """
    name = precheck(data, name, max_bytes)
    members = _unpack(data, name, max_bytes)
    _check_config(members["config.json"], name)
    import keras

    with tempfile.TemporaryDirectory(prefix="colorclf-") as folder:
        path = Path(folder) / "upload.keras"
        path.write_bytes(zip_members(members))
        del members
        try:
            model = keras.saving.load_model(path, compile=compile, safe_mode=True)
        except MemoryError:
            raise
        except Exception as err:
            raise ModelFileError(
                f"{name} could not be loaded as a Keras model: {one_line(err, 200)}"
            ) from None
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{name} does not hold a Keras model")
    _check_shape(model, name)
    _check_predictor(model, name)
    return model


def load_model_file(
    path: str | os.PathLike[str], max_bytes: int = MAX_MODEL_BYTES, *, compile: bool = True
) -> keras.Model:
    """``load_model_bytes`` for a file on disk (the name, existence, kind and size are checked
    before reading)."""
    name = os.fspath(path)
    _check_suffix(name)
    p = Path(name)
    try:
        if not p.exists():
            raise ModelFileError(f"no such model file: {name}")
        if p.is_dir():
            raise ModelFileError(f"{name} is a directory, not a model file")
        if not p.is_file():
            raise ModelFileError(f"{name} is not a regular file")
        size = p.stat().st_size
        if size > max_bytes:
            raise ModelFileError(
                f"{name} is too big: {size_text(size)} (the limit is {size_text(max_bytes)})"
            )
        data = p.read_bytes()
    except OSError as err:
        raise ModelFileError(f"cannot read {name}: {err.strerror or err}") from None
    return load_model_bytes(data, name, max_bytes=max_bytes, compile=compile)


def predictor_from_upload(data: bytes, name: str, max_bytes: int = MAX_MODEL_BYTES) -> Predictor:
    """Every check of ``load_model_bytes``, then the model's weights as a NumPy ``Predictor``
    (what a trainer process sends back to the server for an uploaded file). A file that
    needs more memory than the process may use is refused in one line too."""
    name = name or "upload"
    try:
        return predictor_from_model(load_model_bytes(data, name, max_bytes, compile=False))
    except MemoryError:
        raise ModelFileError(f"{name} needs more memory than a model file may use") from None
