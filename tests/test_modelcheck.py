"""Uploaded model files are opened in a trainer process: good files come back as a NumPy
predictor, hostile ones as one line, a check that hangs or needs too much memory is ended,
and the web server never imports Keras."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from colorclf.core.hyperparams import Hyperparams
from colorclf.serve.gate import FairGate
from colorclf.serve.modelcheck import ModelCheck
from colorclf.serve.pool import TrainerPool
from tests.conftest import rendered, wait_until
from tests.test_modelfile import _members, _under_declare, _with_config, _zip, other_model

ROOT = Path(__file__).resolve().parent.parent
PROBE = np.random.default_rng(0).integers(0, 256, (64, 3))
WAIT = 180.0  # a check may first start a trainer process (importing TensorFlow)


@pytest.fixture(scope="module")
def pool() -> Iterator[TrainerPool]:
    pool = TrainerPool(1)
    yield pool
    pool.shutdown()


@pytest.fixture(scope="module")
def model_and_bytes() -> tuple[object, bytes]:
    from colorclf.train.model import build_model
    from colorclf.train.modelfile import model_to_bytes

    model = build_model(Hyperparams(hidden_units=8, activation="relu", seed=11))
    return model, model_to_bytes(model)


def checked(data: bytes, name: str, pool: TrainerPool, **kwargs: object) -> ModelCheck:
    check = ModelCheck(data, name, pool=pool, gate=FairGate(1), **kwargs)
    assert check.wait(WAIT), check.status()
    assert check.done
    return check


def error_of(data: bytes, name: str, pool: TrainerPool, **kwargs: object) -> str:
    check = checked(data, name, pool, **kwargs)
    assert check.predictor is None and check.error
    assert "\n" not in check.error
    return check.error


def test_a_good_file_comes_back_as_the_same_predictor(model_and_bytes, pool) -> None:
    from colorclf.train.model import predictor_from_model

    model, data = model_and_bytes
    check = ModelCheck(data, "mine.keras", pool=pool, gate=FairGate(1))
    # The first check of a fresh pool starts a trainer: the page can say so at once.
    assert wait_until(lambda: check.done or "starting a trainer" in check.status())
    assert check.wait(WAIT)
    assert check.error is None
    expected = predictor_from_model(model)
    np.testing.assert_allclose(
        check.predictor.probabilities(PROBE), expected.probabilities(PROBE), atol=1e-7
    )
    assert check.predictor.summary() == "3 inputs → 8 relu → 9 softmax · 113 parameters"
    assert check.status() == "Checking the model file mine.keras…"  # stays readable when done


def test_a_check_waits_its_turn_and_says_where_it_is(model_and_bytes, pool) -> None:
    gate = FairGate(1)
    assert gate.acquire("another upload", lambda: False)
    check = ModelCheck(model_and_bytes[1], "mine.keras", pool=pool, gate=gate)
    try:
        assert wait_until(lambda: gate.position(check) == 1)
        assert check.status() == "Waiting to check mine.keras: place 1 in the queue…"
    finally:
        gate.release()
    assert check.wait(WAIT) and check.predictor is not None


def _bomb(data: bytes) -> bytes:
    members = _members(data)
    members["model.weights.h5"] = members["model.weights.h5"] + bytes(300 * 1024 * 1024)
    return _under_declare(_zip(members), "model.weights.h5", 20_000)


def _lambda_model() -> bytes:
    import keras

    from colorclf.train.modelfile import model_to_bytes

    inputs = keras.Input(shape=(3,))
    doubled = keras.layers.Lambda(lambda z: z * 2)(inputs)
    outputs = keras.layers.Dense(9, activation="softmax")(doubled)
    return model_to_bytes(keras.Model(inputs, outputs))


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (lambda data: b"", "empty.keras", "empty.keras is empty"),
        (lambda data: data, "model.h5", "model.h5: model files must end in .keras"),
        (lambda data: b"x" * (21 * 1024 * 1024), "huge.keras", "huge.keras is too big"),
        (lambda data: b"not a zip file at all", "text.keras", "is not a Keras model file"),
        (lambda data: data[: len(data) // 2], "cut.keras", "cut.keras"),
        (_bomb, "bomb.keras", "bomb.keras"),
        (lambda data: _with_config(data, lambda layers: layers[1]["config"].update(
            units=20_000_000)), "wide.keras", "asks for 20000000 units (at most 4,096)"),
        (lambda data: _lambda_model(), "lambda.keras", "only Dense layers are supported"),
        (lambda data: other_model(outputs=4), "four.keras", "9 outputs"),
        (lambda data: other_model(activation="linear"), "linear.keras", "softmax"),
    ],
    ids=["empty", "suffix", "oversize", "text", "truncated", "zip-bomb", "20M-units", "lambda",
         "four-outputs", "not-softmax"],
)  # fmt: skip
def test_hostile_files_give_one_line_each(model_and_bytes, pool, make, name, message) -> None:
    error = error_of(make(model_and_bytes[1]), name, pool)
    assert message in error and name in error


def test_a_check_that_hangs_is_killed_and_the_next_one_works(model_and_bytes, pool) -> None:
    """A trainer that stops answering in the middle of a check (here: stopped by the OS) is
    killed at the time limit; the page gets one line and the pool a fresh trainer."""
    data = model_and_bytes[1]
    assert checked(data, "warm.keras", pool).predictor is not None  # an idle, ready trainer
    (pid,) = pool.pids()
    os.kill(pid, signal.SIGSTOP)
    try:
        error = error_of(data, "slow.keras", pool, seconds=2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert error == (
        "checking slow.keras took longer than 2 s, so it was stopped; this file cannot be used"
    )
    assert wait_until(lambda: not os.path.exists(f"/proc/{pid}"))  # killed and reaped
    again = checked(data, "again.keras", pool)
    assert again.predictor is not None and pid not in pool.pids()


def test_a_file_that_needs_more_memory_than_allowed_is_refused() -> None:
    """The check's address space is capped: a model at the size caps (2 million weights)
    with almost no room left gets one line instead of growing the machine's memory. A fresh
    trainer: one that checked big files before may reuse address space it already has."""
    import keras

    from colorclf.train.modelfile import model_to_bytes

    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(1400, activation="relu")(inputs)
    hidden = keras.layers.Dense(1400, activation="relu")(hidden)
    outputs = keras.layers.Dense(9, activation="softmax")(hidden)
    data = model_to_bytes(keras.Model(inputs, outputs))
    pool = TrainerPool(1)
    try:
        _check_greedy(data, pool)
    finally:
        pool.shutdown()


def _check_greedy(data: bytes, pool: TrainerPool) -> None:
    error = error_of(data, "greedy.keras", pool, memory_bytes=1)
    assert error in (
        "greedy.keras needs more memory than a model file may use",
        *(
            "greedy.keras ended the trainer process that opened it (exit code "
            f"{code}): it may need more than the 1 bytes of memory a model file may use"
            for code in (1, -6, -9, -11)
        ),
    ), error
    # With the page's own limit the same file is fine.
    check = checked(data, "greedy.keras", pool)
    assert check.predictor is not None and check.predictor.parameter_count == 1_979_609


UPLOAD_PAGE = """
import json, os, sys
from streamlit.testing.v1 import AppTest

from colorclf.app.state import TRAINING_KEY


def page():
    import streamlit as st

    from colorclf.app.tabs.model_files import render_model_files

    got = render_model_files(None, key="mf")
    if got is not None:
        st.session_state["got"] = got.parameter_count


def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


at = AppTest.from_function(page, default_timeout=120)
at.run()
at.run()
data = open(sys.argv[1], "rb").read()
sizes = [rss()]
for name, content in (("first.keras", data), ("mine.keras", data), ("bad.keras", data[:300])):
    at.get("file_uploader")[0].set_value((name, content, "application/zip"))
    at.run()
    assert at.session_state[TRAINING_KEY].upload_checks["mf"].check.wait(180)
    at.run()
    sizes.append(rss())
# A training too (its results come back as NumPy weights and the .keras file's bytes).
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.runs import Run
from colorclf.data.builtin import builtin_dataset
from colorclf.serve.job import TrainingJob

job = TrainingJob(Run(1, Hyperparams(epochs=1), "x"), builtin_dataset(n=300, seed=1))
job.start()
assert job.join(180) and job.state == "complete", job.error
assert job.predictor is not None and job.model_bytes
print(json.dumps({
    "frameworks": sorted({m.split(".")[0] for m in sys.modules} & {"keras", "tensorflow"}),
    "got": at.session_state["got"],
    "errors": [e.value for e in at.error],
    "grew": [after - sizes[0] for after in sizes[1:]],
}))
"""


def test_the_web_server_never_imports_keras_for_an_upload(model_and_bytes, tmp_path) -> None:
    """In a fresh interpreter (this one imported Keras for other tests): a page that accepts
    a good upload and refuses a bad one, then a training, and neither Keras nor TensorFlow
    in ``sys.modules`` afterwards; the server's memory barely moves with the uploads
    (importing TensorFlow adds ~570 MB)."""
    model, data = model_and_bytes
    path = tmp_path / "mine.keras"
    path.write_bytes(data)
    script = tmp_path / "upload_page.py"
    script.write_text(UPLOAD_PAGE)
    result = subprocess.run(
        [sys.executable, str(script), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["frameworks"] == []
    assert report["got"] == model.count_params()
    assert [rendered(error) for error in report["errors"]] == [
        "bad.keras is not a Keras model file (it is not a .keras zip archive)"
    ]
    print("server memory after each upload, against before the first:", report["grew"])
    assert max(report["grew"]) < 20 * 1024 * 1024, report
