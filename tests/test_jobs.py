"""Background training jobs: stop, resume, a second Train, sessions at once, the fair queue."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np
import pytest

from colorclf.core.hyperparams import Hyperparams
from colorclf.core.runs import Run
from colorclf.data.builtin import builtin_dataset
from colorclf.serve.gate import FairGate
from colorclf.serve.job import TrainingJob
from colorclf.serve.status import describe_status
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small_data():
    return builtin_dataset(n=600, seed=3)


def make_job(dataset, gate=None, **changes) -> TrainingJob:
    hp = Hyperparams(**{"epochs": 3, "batch_size": 32, **changes})
    kwargs = {"gate": gate} if gate is not None else {}
    return TrainingJob(Run(1, hp, dataset.source), dataset, **kwargs)


def batch_rows(job: TrainingJob) -> list[dict]:
    return [row for row in job.run.rows if row["kind"] == "batch"]


def test_job_trains_to_the_planned_epochs_and_reports_complete(small_data):
    job = make_job(small_data)
    assert job.start()
    assert job.join(timeout=120)
    assert job.state == "complete", job.error
    epochs = job.run.epoch_rows()
    assert [row["epoch"] for row in epochs] == [1, 2, 3]
    assert len(batch_rows(job)) == 3 * job.batches_per_epoch
    assert describe_status(job)["label"].startswith("Training complete in ")
    assert job.predictor is not None


def test_second_start_while_running_does_not_double_the_work(small_data):
    job = make_job(small_data, epochs=4)
    assert job.start()
    assert not job.start()  # the tutorial's istraining flag
    assert job.join(timeout=120)
    steps = [row["step"] for row in batch_rows(job)]
    assert steps == list(range(1, 4 * job.batches_per_epoch + 1))


@pytest.mark.parametrize(
    "optimizer", [{"optimizer": "sgd"}, {"optimizer": "adam", "learning_rate": 0.01}]
)
def test_stop_keeps_progress_and_resume_finishes_like_an_uninterrupted_run(small_data, optimizer):
    """Resume goes to whichever trainer process is free: weights and optimiser state travel."""
    reference = make_job(small_data, epochs=3, **optimizer)
    reference.start()
    reference.join(timeout=120)

    job = make_job(small_data, epochs=3, **optimizer)
    job.start()
    assert wait_until(lambda: len(batch_rows(job)) >= job.batches_per_epoch + 3)
    job.stop()
    assert job.join(timeout=60)
    assert job.state == "stopped"
    stopped_at = job.progress.step
    assert 0 < stopped_at < 3 * job.batches_per_epoch
    # The label names the last finished batch (also when the stop lands on an epoch's end).
    last = batch_rows(job)[-1]
    assert last["step"] == stopped_at
    assert (
        describe_status(job)["label"] == f"Stopped at epoch {last['epoch']}, batch {last['batch']}"
    )
    assert job.can_resume and job.predictor is not None

    assert job.resume()
    assert job.join(timeout=120)
    assert job.state == "complete"
    assert [row["epoch"] for row in job.run.epoch_rows()] == [1, 2, 3]
    assert [row["step"] for row in batch_rows(job)] == [
        row["step"] for row in batch_rows(reference)
    ]
    # Same batches in the same order: the same weights as never stopping.
    assert_same_weights(job, reference)


def assert_same_weights(job: TrainingJob, reference: TrainingJob) -> None:
    ours, theirs = job.predictor.layers, reference.predictor.layers
    assert len(ours) == len(theirs)
    for (kernel, bias, _), (kernel_ref, bias_ref, _) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(kernel, kernel_ref, atol=1e-5)
        np.testing.assert_allclose(bias, bias_ref, atol=1e-5)
    assert job.model_bytes is not None


def test_a_job_whose_session_is_gone_stops_by_itself(small_data):
    alive = threading.Event()
    alive.set()
    hp = Hyperparams(epochs=50, batch_size=8)
    job = TrainingJob(Run(1, hp, "x"), small_data, is_alive=alive.is_set)
    job.start()
    assert wait_until(lambda: len(job.run.rows) > 5)
    alive.clear()
    assert job.join(timeout=30), "training thread outlived its session"
    assert job.state == "stopped"
    assert job.stop_reason == "Session closed"
    assert job.model_bytes is None and not job.can_resume  # nobody can resume it


def test_three_sessions_at_once_see_only_their_own_rows(small_data):
    jobs = [make_job(small_data, epochs=2, seed=seed) for seed in (1, 2, 3)]
    for job in jobs:
        job.start()
    for job in jobs:
        assert job.join(timeout=180)
        assert job.state == "complete", job.error
        assert len(batch_rows(job)) == 2 * job.batches_per_epoch
        assert [row["step"] for row in batch_rows(job)] == list(
            range(1, 2 * job.batches_per_epoch + 1)
        )
    losses = [tuple(row["loss"] for row in job.run.epoch_rows()) for job in jobs]
    assert len(set(losses)) == 3  # different seeds, different runs: nothing shared


def test_fair_gate_serves_in_arrival_order_and_reports_positions():
    gate = FairGate(1)
    order: list[str] = []
    first = object()
    assert gate.acquire(first, lambda: False)
    waiting = {name: object() for name in ("a", "b", "c")}

    def wait(name: str) -> None:
        if gate.acquire(waiting[name], lambda: False):
            order.append(name)
            gate.release()

    threads = []
    for name in ("a", "b", "c"):
        thread = threading.Thread(target=wait, args=(name,))
        thread.start()
        threads.append(thread)
        assert wait_until(lambda name=name: gate.position(waiting[name]) is not None, 5)
    assert [gate.position(waiting[n]) for n in ("a", "b", "c")] == [1, 2, 3]
    gate.release()
    for thread in threads:
        thread.join(5)
    assert order == ["a", "b", "c"]


def test_queued_job_shows_its_place_and_can_leave_the_queue(small_data):
    gate = FairGate(1)
    blocker = object()
    gate.acquire(blocker, lambda: False)
    job = make_job(small_data, gate=gate)
    job.start()
    assert wait_until(lambda: job.queue_position() == 1, 5)
    assert "place 1 in the queue" in describe_status(job)["label"]
    job.stop()
    assert job.join(timeout=5)
    assert job.state == "stopped" and job.progress.step == 0
    gate.release()


def test_a_trainer_process_that_dies_fails_the_run_with_a_message_and_is_replaced(small_data):
    """A trainer killed mid-run (out of memory, say): the page gets one line, the next
    Train gets a fresh trainer."""
    import os
    import signal

    from colorclf.serve.pool import TrainerPool

    pool = TrainerPool(1)
    try:
        job = TrainingJob(Run(1, Hyperparams(epochs=50, batch_size=8), "x"), small_data, pool=pool)
        job.start()
        assert wait_until(lambda: len(job.run.rows) > 5)
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGKILL)
        assert job.join(timeout=30)
        assert job.state == "failed"
        assert "trainer process stopped unexpectedly" in job.error
        assert describe_status(job)["label"].startswith("Training failed: the trainer process")

        again = TrainingJob(Run(2, Hyperparams(epochs=1), "x"), small_data, pool=pool)
        again.start()
        assert again.join(timeout=120)
        assert again.state == "complete", again.error
        assert pid not in pool.pids()
    finally:
        pool.shutdown()


def test_a_trainer_killed_after_an_epoch_leaves_the_run_resumable_from_that_epoch(small_data):
    """The host's out-of-memory killer ends the trainer mid-run: the epochs already trained
    are kept, Resume goes on from the last epoch's end, and the run equals one never
    interrupted."""
    import os
    import signal

    from colorclf.serve.pool import TrainerPool

    epochs = 6
    reference = make_job(small_data, epochs=epochs, optimizer="adam", learning_rate=0.01)
    reference.start()
    assert reference.join(timeout=120) and reference.state == "complete", reference.error

    pool = TrainerPool(1)
    try:
        job = TrainingJob(
            Run(1, Hyperparams(epochs=epochs, optimizer="adam", learning_rate=0.01), "x"),
            small_data,
            pool=pool,
        )
        job.start()
        per_epoch = job.batches_per_epoch
        assert wait_until(lambda: len(batch_rows(job)) >= per_epoch + 3)
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGKILL)
        assert job.join(timeout=30)
        assert job.state == "failed"
        assert "trainer process stopped unexpectedly" in job.error
        label = describe_status(job)["label"]
        assert label.startswith("Training failed: the trainer process")
        kept = len(job.run.epoch_rows())  # 1, or more if the kill landed later
        assert 1 <= kept < epochs
        assert f"press Resume to go on from the end of epoch {kept}" in label
        assert job.can_resume and job.progress.epoch == kept and job.progress.batch == 0
        assert [row["epoch"] for row in job.run.epoch_rows()] == list(range(1, kept + 1))
        assert len(batch_rows(job)) == kept * per_epoch  # the part epoch after it is gone

        assert job.resume() and job.join(timeout=120)
        assert job.state == "complete", job.error
        assert [row["step"] for row in batch_rows(job)] == list(range(1, epochs * per_epoch + 1))
        assert_same_weights(job, reference)
    finally:
        pool.shutdown()


def test_trainers_that_die_while_starting_fail_the_run_with_a_message(small_data, monkeypatch):
    """A trainer that exits before it is ready (a broken install, no memory): one fresh try,
    then the run fails with one line instead of saying "Training started" for ever."""
    import os
    import signal

    from colorclf.serve import pool as serve_pool

    started = []

    class DyingWorker(serve_pool.Worker):
        def __init__(self):
            super().__init__()
            started.append(self.pid)
            os.kill(self.pid, signal.SIGKILL)

    monkeypatch.setattr(serve_pool, "Worker", DyingWorker)
    pool = serve_pool.TrainerPool(1)
    try:
        job = TrainingJob(Run(1, Hyperparams(epochs=1), "x"), small_data, pool=pool)
        job.start()
        assert job.join(timeout=60)
        assert job.state == "failed"
        assert "trainer process exited at start" in job.error
        assert describe_status(job)["label"].startswith("Training failed: the trainer process")
        assert len(started) >= 2  # it tried a fresh trainer before giving up
    finally:
        pool.shutdown()


def test_a_trainer_does_not_run_the_page_script(tmp_path, monkeypatch):
    """Under Streamlit ``__main__`` is the page script; ``spawn`` would re-run it in every
    trainer. A trainer is a program of its own: the server's ``__main__`` stays as it is."""
    import sys
    import types

    from colorclf.serve import pool as serve_pool

    marker = tmp_path / "page-ran"
    page = tmp_path / "page_script.py"
    page.write_text(f"open({str(marker)!r}, 'w').close()\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(page)
    fake_main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", fake_main)

    worker = serve_pool.Worker()
    try:
        assert worker.wait_ready(lambda: False)
        assert sys.modules["__main__"] is fake_main  # never swapped
        assert not marker.exists()
    finally:
        worker.close()


def test_a_page_script_that_fails_when_imported_starts_trainers_that_train(tmp_path):
    """The page (here AppTest's, as under ``streamlit run``) starts a pool and trains one run;
    importing the page script anywhere else (as ``spawn`` did in every trainer) would write
    the marker and fail."""
    from streamlit.testing.v1 import AppTest

    marker = tmp_path / "page-imported"
    page = tmp_path / "fragile_page.py"
    page.write_text(
        "from streamlit.runtime.scriptrunner import get_script_run_ctx\n"
        "if get_script_run_ctx() is None:  # imported, not run by Streamlit\n"
        f"    open({str(marker)!r}, 'w').close()\n"
        "    raise SystemExit('the page script was imported')\n"
        "import streamlit as st\n"
        "from colorclf.core.hyperparams import Hyperparams\n"
        "from colorclf.core.runs import Run\n"
        "from colorclf.data.builtin import builtin_dataset\n"
        "from colorclf.serve.gate import FairGate\n"
        "from colorclf.serve.job import TrainingJob\n"
        "from colorclf.serve.pool import TrainerPool\n"
        "pool = TrainerPool(1)\n"
        "try:\n"
        "    hp = Hyperparams(epochs=1, batch_size=32)\n"
        "    job = TrainingJob(Run(1, hp, 'x'), builtin_dataset(n=300, seed=3),\n"
        "                      gate=FairGate(1), pool=pool)\n"
        "    job.start()\n"
        "    job.join(120)\n"
        "    st.write(f'{job.state} {job.error}')\n"
        "finally:\n"
        "    pool.shutdown()\n"
    )
    at = AppTest.from_file(str(page), default_timeout=180)
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["complete None"]
    assert not marker.exists()

    # A script built by AppTest from a function is the page's __main__ too.
    at = AppTest.from_function(_train_one_epoch_page, default_timeout=180)
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["complete None"]


def _train_one_epoch_page() -> None:
    import streamlit as st

    from colorclf.core.hyperparams import Hyperparams
    from colorclf.core.runs import Run
    from colorclf.data.builtin import builtin_dataset
    from colorclf.serve.gate import FairGate
    from colorclf.serve.job import TrainingJob
    from colorclf.serve.pool import TrainerPool

    pool = TrainerPool(1)
    try:
        hp = Hyperparams(epochs=1, batch_size=32)
        job = TrainingJob(
            Run(1, hp, "x"), builtin_dataset(n=300, seed=3), gate=FairGate(1), pool=pool
        )
        job.start()
        job.join(120)
        st.write(f"{job.state} {job.error}")
    finally:
        pool.shutdown()


def _gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaped yet counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("how", ["exit", "killed"])
def test_no_trainer_outlives_its_server(how):
    """A server that exits ends its trainers (atexit); one that is killed closes their
    standard input, and they exit by themselves."""
    import os
    import signal
    import subprocess
    import sys

    code = (
        "import sys, time\n"
        "from colorclf.serve.pool import TrainerPool\n"
        "pool = TrainerPool(2)\n"
        "pool.prestart()\n"
        "busy = pool.acquire(lambda: False)\n"
        "pool.prestart()  # a second one, still warming up when the server goes\n"
        "print(*pool.pids(), flush=True)\n"
        "sys.stdin.readline()  # the test has seen both trainers alive\n"
        "if sys.argv[1] == 'killed':\n"
        "    time.sleep(600)\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code, how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        pids = [int(pid) for pid in server.stdout.readline().split()]
        assert len(pids) == 2 and not any(_gone(pid) for pid in pids)
        server.stdin.write("go\n")
        server.stdin.flush()
        if how == "killed":
            os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=60)
        assert wait_until(lambda: all(_gone(pid) for pid in pids), timeout=60), pids
    finally:
        server.kill()
        server.wait()


def test_the_status_says_when_a_run_waits_for_a_trainer_to_start(small_data):
    """A fresh trainer imports TensorFlow for seconds: the page says so instead of nothing."""
    from colorclf.serve.pool import TrainerPool

    pool = TrainerPool(1)
    try:
        job = TrainingJob(Run(1, Hyperparams(epochs=1), "x"), small_data, pool=pool)
        job.start()
        assert wait_until(lambda: "Starting a trainer" in describe_status(job)["label"], 30)
        assert job.join(timeout=120)
        assert job.state == "complete", job.error
        assert describe_status(job)["label"].startswith("Training complete in ")
    finally:
        pool.shutdown()


def test_a_heartbeat_stays_alive_while_the_page_stamps_it_and_dies_after_the_grace():
    from colorclf.serve.heartbeat import Heartbeat

    now = [1000.0]
    heartbeat = Heartbeat(grace_seconds=90, clock=lambda: now[0])
    for _ in range(10):  # a page that keeps running: a hidden tab stamps once a minute
        now[0] += 60
        assert heartbeat.alive()
        heartbeat.beat()
    now[0] += 89
    assert heartbeat.alive()
    now[0] += 2  # the tab was closed: nothing stamps any more
    assert not heartbeat.alive()


@pytest.mark.parametrize("when", ["mid-run", "after-stop"])
def test_a_frozen_trainer_is_killed_and_replaced_and_the_queue_moves_on(
    small_data, monkeypatch, when
):
    """A trainer stopped by the OS (SIGSTOP) is alive but silent: the run fails with one line
    and keeps its rows, the trainer is killed, and the next run trains on a fresh one."""
    import os
    import signal

    from colorclf.serve import job as job_module
    from colorclf.serve.pool import TrainerPool

    monkeypatch.setattr(job_module, "SILENT_SECONDS", 3.0 if when == "mid-run" else 60.0)
    monkeypatch.setattr(job_module, "STOP_GRACE_SECONDS", 3.0)
    gate = FairGate(1)
    pool = TrainerPool(1)
    pid = 0
    try:
        hp = Hyperparams(epochs=200, batch_size=8)
        job = TrainingJob(Run(1, hp, "x"), small_data, pool=pool, gate=gate)
        job.start()
        assert wait_until(lambda: len(batch_rows(job)) > 5)
        waiting = TrainingJob(Run(2, Hyperparams(epochs=1), "x"), small_data, pool=pool, gate=gate)
        waiting.start()  # queued behind the frozen one
        assert wait_until(lambda: waiting.queue_position() == 1)
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGSTOP)
        if when == "after-stop":
            job.stop()  # Stop alone cannot free a trainer that does not answer
        kept = len(job.run.rows)
        assert job.join(timeout=60)
        assert job.state == "failed"
        assert describe_status(job)["label"] == (
            "Training failed: the trainer "
            + ("stopped answering (nothing for 3 s)" if when == "mid-run"
               else "did not stop within 3 s")
            + "; it was replaced, press Train to start again"
        )  # fmt: skip
        assert len(job.run.rows) >= kept > 5  # what it had stays
        assert wait_until(lambda: not os.path.exists(f"/proc/{pid}"), timeout=30)  # killed
        assert waiting.join(timeout=180)
        assert waiting.state == "complete", waiting.error
        assert pid not in pool.pids()
    finally:
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        pool.shutdown()


def test_step_trains_exactly_one_more_epoch_of_a_finished_or_stopped_run(small_data):
    job = make_job(small_data, epochs=2)
    assert not job.can_step  # nothing trained yet, and not stopped
    job.start()
    assert job.join(timeout=120) and job.state == "complete"
    assert job.can_step and not job.can_resume
    assert job.step()
    assert job.join(timeout=120)
    assert job.state == "stopped"
    assert [row["epoch"] for row in job.run.epoch_rows()] == [1, 2, 3]
    assert len(batch_rows(job)) == 3 * job.batches_per_epoch
    assert describe_status(job)["label"].startswith("Epoch 3/3 · loss ")
    assert job.step() and job.join(timeout=120)
    assert [row["epoch"] for row in job.run.epoch_rows()] == [1, 2, 3, 4]
    assert describe_status(job)["label"].startswith("Epoch 4/4 · loss ")
    steps = [row["step"] for row in batch_rows(job)]
    assert steps == list(range(1, 4 * job.batches_per_epoch + 1))

    # A Stop in the middle of an epoch: Step finishes that epoch, then Resume the plan.
    job = make_job(small_data, epochs=20)
    job.start()
    assert wait_until(lambda: len(batch_rows(job)) >= job.batches_per_epoch + 3)
    job.stop()
    assert job.join(timeout=60) and job.state == "stopped"
    done = job.progress.epoch
    assert job.step() and job.join(timeout=120)
    assert job.progress.epoch == done + 1 and job.progress.batch == 0
    assert describe_status(job)["label"].startswith(f"Epoch {done + 1}/20 · ")
    assert job.can_resume


def _val_loss(predictor, job: TrainingJob) -> float:
    probs = np.clip(predictor.probabilities(job.dataset.rgb[job.split.val_index]), 1e-7, 1 - 1e-7)
    labels = job.dataset.label[job.split.val_index]
    return float(-np.log(probs[np.arange(len(labels)), labels]).mean())


def test_early_stopping_says_where_keeps_the_best_weights_and_resume_goes_on(small_data):
    # A learning rate far too high: the validation loss jumps about, so patience 1 runs out.
    job = make_job(small_data, epochs=40, patience=1, optimizer="adam", learning_rate=1.0)
    job.start()
    assert job.join(timeout=120) and job.state == "stopped", job.error
    progress = job.progress
    assert progress.stopped_early
    k, j = progress.epoch, progress.best_epoch
    assert k == j + 1 < 40
    losses = [row["val_loss"] for row in job.run.epoch_rows()]
    assert len(losses) == k and j == int(np.argmin(losses)) + 1
    assert describe_status(job)["label"] == f"Stopped early at epoch {k} (best: epoch {j})"
    # The model the page and the download see is the best epoch's.
    assert _val_loss(job.predictor, job) == pytest.approx(losses[j - 1], abs=1e-4)
    _assert_file_holds_the_predictor(job)
    assert job.can_resume
    assert job.resume() and job.join(timeout=120)
    assert job.run.epoch_rows()[k]["epoch"] == k + 1  # the same run goes on
    steps = [row["step"] for row in batch_rows(job)]
    assert steps == list(range(1, len(steps) + 1))


def test_the_model_file_is_made_by_a_trainer_when_first_read_and_holds_the_pages_model(
    small_data,
):
    """No ``.keras`` file is made at a run's end: the first read of ``model_bytes`` asks a
    trainer for it (the Download button's click), later reads reuse it, and it holds the
    weights the page asks (``predictor``)."""

    job = make_job(small_data, epochs=2)
    assert not job.has_model_file and job.model_bytes is None
    job.start()
    assert job.join(timeout=120) and job.state == "complete", job.error
    assert job.has_model_file and not job.model_file.made  # not made until asked
    data = job.model_bytes
    assert data is not None and job.model_bytes is data  # made once, then kept
    _assert_file_holds_the_predictor(job)
    assert job.step() and job.join(timeout=120)  # a Step's end: a new model, a new file
    assert not job.model_file.made and job.model_bytes not in (None, data)


def _assert_file_holds_the_predictor(job: TrainingJob) -> None:
    from colorclf.train.modelfile import load_model_bytes

    model = load_model_bytes(job.model_bytes, "run.keras")
    kernels_and_biases = [array for k, b, _ in job.predictor.layers for array in (k, b)]
    for in_file, asked in zip(model.get_weights(), kernels_and_biases, strict=True):
        np.testing.assert_allclose(in_file, asked, rtol=0, atol=1e-7)


def test_a_model_file_no_trainer_can_make_is_one_line():
    from colorclf.core.errors import ModelFileError
    from colorclf.core.protocol import ModelState
    from colorclf.serve.model_file import make_model_file

    wrong = ModelState(weights=[np.zeros((2, 2), np.float32)], optimizer=[])
    with pytest.raises(ModelFileError) as raised:
        make_model_file(Hyperparams(), wrong)
    message = str(raised.value)
    assert message.startswith("the model file could not be made: ") and "\n" not in message


def test_the_status_answers_a_stop_at_once_and_names_the_first_epoch(small_data):
    job = make_job(small_data, epochs=5)
    job.run.status = "training"  # started; no epoch has ended yet
    assert describe_status(job)["label"] == "Training epoch 1 of 5…"
    job.stop()  # asked; the trainer has not answered yet
    assert job.stopping
    assert describe_status(job)["label"] == "Stopping after this batch…"
    job.run.status = "stopped"  # the trainer's answer
    assert not job.stopping
    assert describe_status(job)["label"].startswith("Stopped at epoch")


def test_the_page_can_wait_for_a_runs_first_rows_and_not_for_its_end(small_data):
    """Train's page run waits for the first rows (``wait_first_rows``), so it draws the chart
    with rows in it: they come while a live-paced run still trains, and a job that ends
    without rows (it left the queue) ends the wait too."""
    job = make_job(small_data, epochs=10, pace="live")
    assert job.start()
    try:
        assert job.wait_first_rows(timeout=60)
        assert job.run.rows and job.active
        # The live panel's wait between frames once the chart shows rows: the run's end.
        assert not job.wait_ended(0.2) and job.active
        job.stop()
        assert job.wait_ended(60) and not job.active
    finally:
        job.stop()
        job.join(timeout=60)

    gate = FairGate(1)
    blocker = make_job(small_data, gate=gate, epochs=10, pace="live")
    waiting = make_job(small_data, gate=gate)
    assert blocker.start()
    try:
        assert blocker.wait_admitted(60)
        assert waiting.start()
        assert not waiting.wait_first_rows(timeout=0.3)  # queued: no rows
        waiting.stop()
        assert waiting.wait_first_rows(timeout=60)
        assert not waiting.run.rows and waiting.state == "stopped"
    finally:
        blocker.stop()
        blocker.join(timeout=60)
