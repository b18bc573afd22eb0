"""``python -m colorclf``: real subprocesses for what a user types, in-process for the rest.

Subprocesses that import TensorFlow cost seconds each, so only three do (train, evaluate,
predict on one saved model); error cases exit before TensorFlow is imported.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from colorclf.cli import main
from colorclf.commands import load_model_file
from colorclf.core.errors import ModelFileError
from colorclf.core.labels import LABELS

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m colorclf ARGS`` from the repository root, as a user would type it."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, "-m", "colorclf", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("colorclf: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


def write_csv(path: Path, rows: list[tuple[int, int, int, str]]) -> Path:
    lines = [f"{r},{g},{b},{lab},u{i % 3}\n" for i, (r, g, b, lab) in enumerate(rows)]
    path.write_text("r,g,b,label,uid\n" + "".join(lines))
    return path


def small_rows(n: int = 120, seed: int = 0) -> list[tuple[int, int, int, str]]:
    rng = np.random.default_rng(seed)
    names = ["red-ish", "green-ish", "blue-ish"]
    rows = []
    for _ in range(n):
        rgb = rng.integers(0, 256, size=3)
        rows.append((*(int(v) for v in rgb), names[int(np.argmax(rgb))]))
    return rows


# ---------------------------------------------------------------------------- subprocesses


def test_data_builtin_prints_the_counts() -> None:
    result = run_cli("data", "builtin")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "rows kept: 5600" in out
    assert "contributors:" in out
    for name in LABELS:
        assert name in out


def test_data_json_and_no_tensorflow(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "c.csv", small_rows(10))
    with data.open("a") as handle:
        handle.write("300,0,0,red-ish,x\n1,2,3,teal-ish,x\n")
    code = (
        "import sys; from colorclf.cli import main; code = main(['data', sys.argv[1], '--json']);"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(data)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 10
    assert summary["skipped"]["out of range"] == 1
    assert summary["skipped"]["unknown label"] == 1
    assert sum(summary["labels"].values()) == 10
    assert summary["contributors"] == 3


@pytest.mark.parametrize(
    "case", ["broken-file", "missing-file", "bad-url", "epochs-0", "rgb-300", "no-keras-suffix"]
)
def test_user_errors_are_one_line_exit_2(case: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"entries": [{"r": 1, ')
    args, fragments = {
        "broken-file": (["data", str(broken)], ["broken.json", "JSON"]),
        "missing-file": (["data", str(tmp_path / "nope.json")], ["nope.json"]),
        "bad-url": (["data", f"http://127.0.0.1:{closed_port()}/x"], ["127.0.0.1"]),
        "epochs-0": (["train", "--epochs", "0"], ["--epochs", "1", "200"]),
        "rgb-300": (["predict", "--model", str(tmp_path / "m.keras"), "300", "0", "0"], ["300"]),
        "no-keras-suffix": (["train", "--save", str(tmp_path / "m.h5")], [".keras"]),
    }[case]
    result = run_cli(*args)
    assert_one_line_error(result, *fragments)
    assert result.stdout == ""


def test_a_damaged_model_file_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    result = run_cli("predict", "--model", str(bad), "1", "2", "3")
    assert_one_line_error(result, "bad.keras")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One real ``train --epochs 1 --json --save m.keras`` run, shared by the checks below."""
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "m.keras"
    result = run_cli("train", "--epochs", "1", "--json", "--save", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no TensorFlow log spam, no progress bar off a terminal
    return path, json.loads(result.stdout)  # stdout is exactly one JSON object


def test_train_json_reports_the_run(trained: tuple[Path, dict]) -> None:
    path, report = trained
    assert path.is_file()
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "epochs", "steps", "seconds"):
        assert isinstance(report[key], int | float), key
    assert report["epochs"] == 1
    assert report["data"]["source"] == "builtin"
    assert report["data"]["rows"] == 5600
    assert report["steps"] == -(-report["data"]["train_rows"] // 32)
    assert report["hyperparams"]["hidden_units"] == 16
    assert report["hyperparams"]["activation"] == "sigmoid"
    assert 0 <= report["val_accuracy"] <= 1 and report["seconds"] > 0


def test_evaluate_and_predict_use_the_saved_model(trained: tuple[Path, dict]) -> None:
    path, _ = trained
    evaluated = run_cli("evaluate", "--model", str(path), "--data", "builtin", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["total"] == 5600
    assert set(report["per_label"]) == set(LABELS)
    assert sum(e["correct"] for e in report["per_label"].values()) == report["correct"]
    assert report["accuracy"] == pytest.approx(report["correct"] / 5600)

    predicted = run_cli("predict", "--model", str(path), "--json", "0", "0", "255")
    assert predicted.returncode == 0, predicted.stderr
    answer = json.loads(predicted.stdout)
    assert list(answer["probabilities"]) == list(LABELS)
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
    assert answer["label"] == max(answer["probabilities"], key=answer["probabilities"].get)
    assert answer["rgb"] == [0, 0, 255]


# ---------------------------------------------------------------------------- in-process


def test_flags_override_the_preset_and_hidden_is_an_alias(tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "c.csv", small_rows())
    code = main(
        [
            "train",
            "--data",
            str(data),
            "--preset",
            "tuned",
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--seed",
            "4",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    hp = report["hyperparams"]
    assert hp["preset"] == "tuned"
    assert (hp["hidden_units"], hp["epochs"], hp["seed"]) == (8, 2, 4)
    assert hp["optimizer"] == "adam"  # from the preset, not overridden
    assert report["epochs"] == 2
    assert report["data"]["rows"] == 120


def test_plain_output_prints_one_line_per_epoch(tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "c.csv", small_rows())
    assert main(["train", "--data", str(data), "--epochs", "3", "--batch-size", "64"]) == 0
    out = capsys.readouterr().out.splitlines()
    epoch_lines = [line for line in out if line.startswith("epoch ")]
    assert [line.split(" - ")[0] for line in epoch_lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert "val_accuracy" in epoch_lines[0]


def test_evaluate_reports_labels_without_rows_as_not_available(tmp_path: Path, capsys) -> None:
    import keras

    from colorclf.core.hyperparams import Hyperparams
    from colorclf.train.model import build_model

    model_path = tmp_path / "m.keras"
    build_model(Hyperparams(hidden_units=4)).save(model_path)
    data = write_csv(tmp_path / "c.csv", small_rows(30))
    assert main(["evaluate", "--model", str(model_path), "--data", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["per_label"]["grey-ish"] == {"correct": 0, "total": 0, "accuracy": None}
    assert report["per_label"]["red-ish"]["total"] > 0
    assert main(["evaluate", "--model", str(model_path), "--data", str(data)]) == 0
    grey = next(line for line in capsys.readouterr().out.splitlines() if "grey-ish" in line)
    assert "n/a" in grey
    assert isinstance(load_model_file(model_path), keras.Model)


def test_load_model_file_rejects_bad_files(tmp_path: Path) -> None:
    import keras

    with pytest.raises(ModelFileError, match="no such model file"):
        load_model_file(tmp_path / "missing.keras")
    with pytest.raises(ModelFileError, match=r"\.keras"):
        load_model_file(tmp_path / "model.h5")
    (tmp_path / "text.keras").write_text("hello")
    with pytest.raises(ModelFileError, match="not a Keras model file"):
        load_model_file(tmp_path / "text.keras")
    with zipfile.ZipFile(tmp_path / "junk.keras", "w") as archive:
        archive.writestr("config.json", "{nonsense")
    with pytest.raises(ModelFileError, match=r"its config\.json does not describe a model"):
        load_model_file(tmp_path / "junk.keras")
    big = tmp_path / "big.keras"
    with big.open("wb") as handle:
        handle.truncate(21 * 1024 * 1024)
    with pytest.raises(ModelFileError, match="too big"):
        load_model_file(big)

    inputs = keras.Input(shape=(4,))
    four = keras.Model(inputs, keras.layers.Dense(9, activation="softmax")(inputs))
    four.save(tmp_path / "four.keras")
    with pytest.raises(ModelFileError, match="3 inputs"):
        load_model_file(tmp_path / "four.keras")
    inputs = keras.Input(shape=(3,))
    five = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(inputs))
    five.save(tmp_path / "five.keras")
    with pytest.raises(ModelFileError, match="9 outputs"):
        load_model_file(tmp_path / "five.keras")


def test_predict_refuses_a_model_with_a_non_dense_layer(tmp_path: Path, capsys) -> None:
    import keras

    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.BatchNormalization(name="norm")(keras.layers.Dense(4)(inputs))
    path = tmp_path / "bn.keras"
    keras.Model(inputs, keras.layers.Dense(9, activation="softmax")(hidden)).save(path)
    assert main(["predict", "--model", str(path), "1", "2", "3"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("colorclf: error: ") and "norm" in err[0]


def test_help_lists_every_hyperparameter_flag(capsys) -> None:
    from colorclf.core.hyperparams import PARAMS

    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for param in PARAMS:
        assert param.flag in out
        assert param.help.split()[0] in out
    assert re.search(r"--hidden\b(?!-)", out)


def test_progress_sink_draws_keras_progbar_per_epoch() -> None:
    import io

    from colorclf.core.rows import make_row
    from colorclf.train.console import ProgressSink

    stream = io.StringIO()
    sink = ProgressSink(epochs=2, batches=3, stream=stream, bar=True)
    for epoch in (1, 2):
        for batch in (1, 2, 3):
            sink(make_row("batch", step=batch, epoch=epoch, batch=batch, loss=2.0, accuracy=0.5))
        sink(
            make_row(
                "epoch",
                epoch=epoch,
                batch=3,
                loss=1.2345,
                accuracy=0.625,
                val_loss=1.5,
                val_accuracy=0.75,
                seconds=0.1,
            )
        )
    out = stream.getvalue()
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "3/3" in out and "━" in out  # Keras' bar
    assert out.count("val_accuracy: 0.7500") == 2  # one finished line per epoch
    assert "loss: 1.2345" in out


def test_train_json_reports_the_early_stop_and_the_best_epoch(
    tmp_path, capsys, monkeypatch
) -> None:
    """In process, with the validation losses scripted: best at epoch 2, patience 2, so the
    run stops after epoch 4 and reports the best epoch's figures (the weights it keeps)."""
    pytest.importorskip("keras")
    import colorclf.train.loop as loop

    rng = np.random.default_rng(0)
    rows = ["r,g,b,label"] + [
        f"{r},{g},{b},{LABELS[int(np.argmax([r, g, b]))]}"
        for r, g, b in rng.integers(0, 256, size=(120, 3))
    ]
    data = tmp_path / "colours.csv"
    data.write_text("\n".join(rows) + "\n")
    losses = iter([0.9, 0.5, 0.7, 0.6, 0.1, 0.1])
    monkeypatch.setattr(loop, "evaluate_arrays", lambda model, x, y: (next(losses), 0.25))
    code = main(["train", "--data", str(data), "--epochs", "6", "--patience", "2", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["epochs"] == 4 and report["best_epoch"] == 2
    assert report["stopped_early"] is True
    assert report["val_loss"] == pytest.approx(0.5)
    assert report["hyperparams"]["patience"] == 2


def test_patience_out_of_range_is_one_line(capsys) -> None:
    assert main(["train", "--patience", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "patience" in err[0]


def test_train_on_too_little_data_warns_in_one_line_on_stderr(tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "c.csv", small_rows(10))
    assert main(["train", "--data", str(data), "--epochs", "1", "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # stdout holds only the JSON
    (warning,) = [line for line in captured.err.splitlines() if "warning" in line]
    assert warning.startswith("colorclf: warning: Too little data to train meaningfully: only 10 ")
    assert f"a validation set of {report['data']['val_rows']} colours" in warning
    assert "no colours labelled orange-ish" in warning

    # Enough data: no warning.
    assert main(["train", "--data", "builtin", "--epochs", "1", "--json"]) == 0
    assert "warning" not in capsys.readouterr().err
