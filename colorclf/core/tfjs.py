"""The trained network as a TensorFlow.js layers model: ``model.json`` + one weights file.

``tf.loadLayersModel`` in ``@tensorflow/tfjs`` 4.x loads the two files as they are
(``tests/test_tfjs.py`` checks it with the real client in Node, for every activation the
page offers). The inputs are **r/255, g/255, b/255 (0–1)**, as the model was trained and
as the original sketch trained; the community sketch then predicted on 0–255 by mistake,
which this export does not repeat: divide by 255 before ``model.predict``.

Why the JSON is written here and not by the ``tensorflowjs`` converter (PyPI 4.22.0): the
converter requires the full ``tensorflow`` (not ``tensorflow-cpu``), ``tf-keras``, ``jax``,
``jaxlib``, ``flax``, ``tensorflow-hub``, ``packaging~=23.1`` (this project has 26) and
``tensorflow-decision-forests``, whose newest release pins ``tensorflow==2.19.0`` (this
project runs 2.21): it cannot be installed beside the app, and would add gigabytes to a
web server that never imports Keras. A network of Dense layers is ~40 lines of the layers
format, written from the NumPy ``Predictor``, so the page can offer the download without
Keras and the command line without a converter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from colorclf.core.errors import ColorclfError
from colorclf.core.predict import Predictor

MODEL_JSON = "model.json"
WEIGHTS_BIN = "colorclf.weights.bin"
INPUT_SCALING = "inputs r/255, g/255, b/255 (0–1)"
LAYER_NAMES = ("hidden", "label")  # as train.model names the Keras layers
# What tfjs-layers 4.x's own model.save() writes in these two fields; loadLayersModel
# reads neither, but a reader of the file sees where its format comes from.
KERAS_VERSION = "tfjs-layers 4.22.0"
BACKEND = "tensor_flow.js"


def _layer_name(index: int, count: int) -> str:
    if count == len(LAYER_NAMES):
        return LAYER_NAMES[index]
    return "label" if index == count - 1 else f"dense_{index + 1}"


def tfjs_artifacts(predictor: Predictor) -> tuple[dict[str, Any], bytes]:
    """The ``model.json`` object and the weights file's bytes (float32, little-endian, in
    the manifest's order: each layer's kernel, inputs × units row-major, then its bias)."""
    layers: list[dict[str, Any]] = []
    specs: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    count = len(predictor.layers)
    for index, (kernel, bias, activation) in enumerate(predictor.layers):
        name = _layer_name(index, count)
        config: dict[str, Any] = {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "units": int(kernel.shape[1]),
            "activation": activation,
            "use_bias": True,
        }
        if index == 0:
            config["batch_input_shape"] = [None, int(kernel.shape[0])]
        layers.append({"class_name": "Dense", "config": config})
        for part, values in (("kernel", kernel), ("bias", bias)):
            little = np.ascontiguousarray(values, dtype="<f4")
            specs.append(
                {"name": f"{name}/{part}", "shape": list(little.shape), "dtype": "float32"}
            )
            chunks.append(little.tobytes())
    model_json = {
        "format": "layers-model",
        "generatedBy": f"colorclf ({INPUT_SCALING})",
        "convertedBy": None,
        "modelTopology": {
            "class_name": "Sequential",
            "config": {"name": "color_classifier", "layers": layers},
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
        },
        "weightsManifest": [{"paths": [WEIGHTS_BIN], "weights": specs}],
    }
    return model_json, b"".join(chunks)


def tfjs_files(predictor: Predictor) -> dict[str, bytes]:
    """The two files by name, as they go into a folder or a zip."""
    model_json, weights = tfjs_artifacts(predictor)
    text = json.dumps(model_json, indent=1, ensure_ascii=False) + "\n"
    return {MODEL_JSON: text.encode("utf-8"), WEIGHTS_BIN: weights}


def tfjs_zip(predictor: Predictor) -> bytes:
    """The two files in one zip (the page's download)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in tfjs_files(predictor).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _written_by_us(path: Path) -> bool:
    try:
        model_json = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(model_json, dict) and str(model_json.get("generatedBy", "")).startswith(
        "colorclf"
    )


def check_tfjs_folder(folder: str | os.PathLike[str]) -> Path:
    """``folder`` as a place for an export: new (it will be created) or a folder such as a
    sketch's, whose other files stay untouched. An earlier export's two files are replaced;
    a ``model.json`` this project did not write is refused (ColorclfError): it may be
    someone's other model."""
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise ColorclfError(f"--tfjs: {target} is a file, not a folder")
    ours = target / MODEL_JSON
    if (ours.exists() or (target / WEIGHTS_BIN).exists()) and not _written_by_us(ours):
        raise ColorclfError(
            f"--tfjs: {ours} exists and was not written by colorclf; choose another folder "
            "(nothing was changed)"
        )
    return target


def write_tfjs(predictor: Predictor, folder: str | os.PathLike[str]) -> list[Path]:
    """Write the two files into ``folder`` (created, with its parents, when missing), after
    ``check_tfjs_folder``; returns their paths."""
    target = check_tfjs_folder(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in tfjs_files(predictor).items():
            path = target / name
            path.write_bytes(data)
            written.append(path)
    except OSError as error:
        raise ColorclfError(f"--tfjs: cannot write {target}: {error.strerror or error}") from None
    return written
