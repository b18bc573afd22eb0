"""The training buttons: Train, Stop while a run trains, Resume for a stopped run, Step for a
stopped or finished one."""

from __future__ import annotations

import streamlit as st

from colorclf.app.state import current_job, drawn_state, read_job_state, training_state
from colorclf.core.dataset import ColorDataset
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.runs import ACTIVE, Run, RunStatus
from colorclf.serve.job import TrainingJob

ADMIT_WAIT_SECONDS = 0.3  # Train waits this long at most for the run to leave the queue
FIRST_ROWS_WAIT_SECONDS = 0.5  # and then for its first rows (alone they take ~0.15 s)
TRAIN_KEY = "train"


def start_training(dataset: ColorDataset, hp: Hyperparams) -> TrainingJob | None:
    """Start a new run unless one is already queued or training (the tutorial's istraining)."""
    state = training_state()
    if state.job is not None and state.job.active:
        return None
    state.uploaded_predictor = None  # the sliders follow the new run
    state.link_notices = []
    run = Run(number=len(state.runs) + 1, hyperparams=hp, data_source=dataset.source)
    job = TrainingJob(run, dataset, is_alive=state.heartbeat.alive)
    state.runs.append(run)
    state.job = job
    job.start()
    if job.wait_admitted(ADMIT_WAIT_SECONDS):
        job.wait_first_rows(FIRST_ROWS_WAIT_SECONDS)
    return job


def training_buttons(dataset: ColorDataset | None, hp: Hyperparams) -> None:
    """``Train``; ``Stop`` while a run trains; ``Resume`` for a stopped run; ``Step`` (one more
    epoch, then stop) for a stopped or finished one.

    Train acts in the script run (not an ``on_click`` callback) so that it trains the
    settings of this run: a value typed and a click sent together reach the callback's
    arguments one run late. It acts before its button is drawn, so this same run draws the
    new run (Train disabled, Stop, the live panel polling): a second page run per Train cost
    a class's web server a third of its page runs (bench/bench_class.py).
    """
    if st.session_state.get(TRAIN_KEY) and dataset is not None and drawn_state() not in ACTIVE:
        start_training(dataset, hp)
        read_job_state()  # everything drawn from here on draws the new run
    job = current_job()
    drawn = drawn_state()
    busy = drawn in ACTIVE
    left, middle, right = st.columns(3)
    left.button(
        "Train",
        type="primary",
        disabled=busy or dataset is None,
        width="stretch",
        key=TRAIN_KEY,
    )
    if busy:
        # Outside the polling fragment: a button redrawn 10×/s is hard to click.
        middle.button(
            "Stop",
            width="stretch",
            key="stop",
            on_click=job.stop,  # type: ignore[union-attr]
            disabled=job is not None and job.stopping,
        )
    elif job is not None and drawn in (RunStatus.STOPPED, RunStatus.FAILED) and job.can_resume:
        middle.button("Resume", width="stretch", key="resume", on_click=job.resume)
    if job is not None and drawn in (RunStatus.STOPPED, RunStatus.COMPLETE) and job.can_step:
        right.button(
            "Step",
            width="stretch",
            key="step",
            on_click=job.step,
            help="Train exactly one more epoch, then stop.",
        )
