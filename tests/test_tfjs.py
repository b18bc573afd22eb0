"""The TensorFlow.js export, checked by the real client: ``@tensorflow/tfjs`` 4.22.0 (its
pure JavaScript CPU backend) in Node loads ``model.json`` + the weights file with
``tf.loadLayersModel`` and must give our probabilities on 1,000 random colours, for every
activation the page offers.

The npm package is pinned in ``tests/tfjs/package-lock.json``; the first test installs it
(``npm ci``) when ``tests/tfjs/node_modules`` lacks it. Without Node or the package the
tests skip, unless COLORCLF_REQUIRE_NODE is set (as in CI), where they fail.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from colorclf.core.hyperparams import PARAMS, preset
from colorclf.core.predict import Predictor
from colorclf.core.tfjs import MODEL_JSON, WEIGHTS_BIN, tfjs_files, tfjs_zip, write_tfjs
from tests.test_cli import assert_one_line_error, run_cli

CLIENT = Path(__file__).resolve().parent / "tfjs"
PACKAGE = CLIENT / "node_modules" / "@tensorflow" / "tfjs" / "package.json"
TOLERANCE = 1e-5
ACTIVATIONS = next(p for p in PARAMS if p.name == "activation").choices


def _unavailable(reason: str) -> None:
    if os.environ.get("COLORCLF_REQUIRE_NODE"):
        pytest.fail(f"COLORCLF_REQUIRE_NODE is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node() -> str:
    """Node with ``@tensorflow/tfjs`` installed from the lockfile (``npm ci`` once)."""
    path = shutil.which("node")
    if path is None:
        _unavailable("no node on PATH (apt-get install nodejs npm)")
    if not PACKAGE.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("no npm on PATH to install @tensorflow/tfjs (apt-get install npm)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=CLIENT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0 or not PACKAGE.is_file():
            _unavailable(f"npm ci in tests/tfjs failed: {done.stderr.strip()[-500:]}")
    version = json.loads(PACKAGE.read_text())["version"]
    assert version == "4.22.0", version  # the lockfile's version, not some other install
    return str(path)


def tfjs_probabilities(node: str, folder: Path, rgb: np.ndarray) -> np.ndarray:
    """What ``tf.loadLayersModel`` + ``model.predict`` in Node say for ``rgb`` (0–255)."""
    colours = folder.parent / f"{folder.name}-colours.json"
    colours.write_text(json.dumps(np.asarray(rgb).tolist()))
    done = subprocess.run(
        [node, str(CLIENT / "predict.js"), str(folder), str(colours)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["backend"] == "cpu"
    return np.asarray(answer["probabilities"], dtype=np.float64)


def random_colours(seed: int = 7, n: int = 1000) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3))


def keras_model(activation: str, seed: int = 3) -> object:
    """The page's network with this activation and weights large enough that the nine
    probabilities differ a lot between colours (freshly initialised ones are nearly flat)."""
    from colorclf.train.model import build_model

    model = build_model(preset("coding-train").replace(activation=activation, seed=seed))
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 3, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_tfjs_gives_our_probabilities(node: str, activation: str, tmp_path: Path) -> None:
    from colorclf.train.model import predictor_from_model

    model = keras_model(activation)
    predictor = predictor_from_model(model)
    write_tfjs(predictor, tmp_path / "model")
    rgb = random_colours()
    theirs = tfjs_probabilities(node, tmp_path / "model", rgb)
    ours = predictor.probabilities(rgb)
    keras_says = np.asarray(model(rgb.astype(np.float32) / np.float32(255)), dtype=np.float64)
    assert theirs.shape == (1000, 9)
    assert np.abs(theirs - ours).max() <= TOLERANCE
    assert np.abs(theirs - keras_says).max() <= TOLERANCE
    # Not a flat answer that any wiring would match: the colours get different names.
    assert len(set(theirs.argmax(axis=1))) >= 3


def test_inputs_are_0_to_1(node: str, tmp_path: Path) -> None:
    """The export expects r/255: fed 0–255 (the community sketch's mistake) it answers
    differently, so the scaling the docs state is the one that matters."""
    from colorclf.train.model import predictor_from_model

    predictor = predictor_from_model(keras_model("sigmoid"))
    write_tfjs(predictor, tmp_path / "model")
    rgb = random_colours(n=200)
    scaled_wrongly = predictor.probabilities(rgb * 255)  # the model then sees r, not r/255
    theirs = tfjs_probabilities(node, tmp_path / "model", rgb)
    assert np.abs(theirs - predictor.probabilities(rgb)).max() <= TOLERANCE
    assert np.abs(theirs - scaled_wrongly).max() > 0.1


def test_cli_export_is_loaded_by_tfjs(node: str, tmp_path: Path) -> None:
    """``python -m colorclf export --tfjs DIR --model m.keras``, as a user types it."""
    from colorclf.train.model import predictor_from_model

    model = keras_model("tanh")
    saved = tmp_path / "m.keras"
    model.save(saved)
    out = tmp_path / "site" / "model"  # created with its parent
    result = run_cli("export", "--tfjs", str(out), "--model", str(saved))
    assert result.returncode == 0, result.stderr
    assert "0–1" in result.stdout and "model.json" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted([MODEL_JSON, WEIGHTS_BIN])
    rgb = random_colours(seed=11)
    theirs = tfjs_probabilities(node, out, rgb)
    assert np.abs(theirs - predictor_from_model(model).probabilities(rgb)).max() <= TOLERANCE
    again = run_cli("export", "--tfjs", str(out), "--model", str(saved))  # its own files
    assert again.returncode == 0, again.stderr


def small_predictor(activation: str = "relu") -> Predictor:
    rng = np.random.default_rng(0)
    return Predictor(
        (
            (rng.normal(size=(3, 4)), rng.normal(size=4), activation),
            (rng.normal(size=(4, 9)), rng.normal(size=9), "softmax"),
        )
    )


def test_zip_holds_the_two_files() -> None:
    predictor = small_predictor()
    with zipfile.ZipFile(io.BytesIO(tfjs_zip(predictor))) as archive:
        assert sorted(archive.namelist()) == sorted([MODEL_JSON, WEIGHTS_BIN])
        files = {name: archive.read(name) for name in archive.namelist()}
    assert files == tfjs_files(predictor)


def test_model_json_layout() -> None:
    """The manifest lists each layer's kernel then bias, float32 little-endian, in file order."""
    predictor = small_predictor("elu")
    model_json = json.loads(tfjs_files(predictor)[MODEL_JSON])
    weights = tfjs_files(predictor)[WEIGHTS_BIN]
    assert model_json["format"] == "layers-model"
    layers = model_json["modelTopology"]["config"]["layers"]
    assert [layer["config"]["activation"] for layer in layers] == ["elu", "softmax"]
    assert layers[0]["config"]["batch_input_shape"] == [None, 3]
    (group,) = model_json["weightsManifest"]
    assert group["paths"] == [WEIGHTS_BIN]
    assert [w["name"] for w in group["weights"]] == [
        "hidden/kernel",
        "hidden/bias",
        "label/kernel",
        "label/bias",
    ]
    values = np.frombuffer(weights, dtype="<f4")
    assert values.size == 3 * 4 + 4 + 4 * 9 + 9
    np.testing.assert_array_equal(values[:12], predictor.layers[0][0].astype("<f4").ravel())


def test_cli_export_mistakes_are_one_line_exit_2(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "model.json").write_text('{"format": "layers-model", "generatedBy": "keras"}')
    missing = tmp_path / "missing.keras"
    result = run_cli("export", "--tfjs", str(theirs), "--model", str(missing))
    assert_one_line_error(result, "model.json", "not written by colorclf")
    assert "keras" in (theirs / "model.json").read_text() and len(list(theirs.iterdir())) == 1
    result = run_cli("export", "--tfjs", str(tmp_path / "new"), "--model", str(missing))
    assert_one_line_error(result, "missing.keras")
    assert not (tmp_path / "new").exists()
    result = run_cli("export", "--model", str(missing))
    assert_one_line_error(result, "--tfjs")
    (tmp_path / "a-file").write_text("x")
    result = run_cli("export", "--tfjs", str(tmp_path / "a-file"), "--model", str(missing))
    assert_one_line_error(result, "a-file", "not a folder")


def test_a_sketch_folder_keeps_its_files(tmp_path: Path) -> None:
    """Exporting into a sketch's folder adds the two files and replaces only an earlier
    export of ours."""
    sketch = tmp_path / "sketch"
    sketch.mkdir()
    (sketch / "sketch.js").write_text("function setup() {}")
    write_tfjs(small_predictor("relu"), sketch)
    write_tfjs(small_predictor("tanh"), sketch)  # again: our own files are replaced
    assert sorted(p.name for p in sketch.iterdir()) == sorted(
        [MODEL_JSON, WEIGHTS_BIN, "sketch.js"]
    )
    assert (sketch / "sketch.js").read_text() == "function setup() {}"
    assert (sketch / MODEL_JSON).read_bytes() == tfjs_files(small_predictor("tanh"))[MODEL_JSON]
