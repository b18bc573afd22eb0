"""One user's session state, and the job's state as this page run draws it.

- ``runs``      list[Run]: every training of this session (rows = full history)
- ``job``       TrainingJob | None: the latest training (trained in a trainer process)
- ``charts``    dict[run number, LiveChartData]: what the live chart has consumed
- ``heartbeat`` Heartbeat: stamped at every page run and live-panel frame; a job whose
                session stopped stamping (the tab was closed) stops
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from colorclf.core.predict import Predictor
from colorclf.serve.job import Heartbeat, TrainingJob


def session() -> Any:
    """``st.session_state`` with this page's keys present."""
    state = st.session_state
    state.setdefault("runs", [])
    state.setdefault("job", None)
    state.setdefault("charts", {})
    if "heartbeat" not in state:
        state["heartbeat"] = Heartbeat()
    return state


def current_job() -> TrainingJob | None:
    return session()["job"]


def read_job_state() -> None:
    """Read the job's state once, at the start of a page run, for everything the run draws.

    The buttons, the views' and sliders' polling and the live panel's "has it changed?"
    check must agree: a run that stopped between two reads left a Stop button under
    "Stopped at epoch …" and nothing polling. The live panel reruns the page when the
    job's state differs from this.
    """
    job = current_job()
    session()["heartbeat"].beat()
    st.session_state["_drawn_state"] = job.state if job else None
    st.session_state["_model_awaited"] = False


def drawn_state() -> str | None:
    """The job's state as this page run draws it (``read_job_state``)."""
    return st.session_state.get("_drawn_state")


def page_run_finished() -> None:
    """Call last in a page run: the buttons and polling on screen now are this run's."""
    st.session_state["_page_state"] = drawn_state()


def state_on_screen() -> str | None:
    """The job's state as the last page run that reached its end drew it.

    Not ``drawn_state()``: a page run can be cut short after ``read_job_state`` (a fragment
    timer's request that reached the server while the run ran), and the page then still
    shows the previous run's Stop button and no Train, with nothing polling: a fragment
    that compared the job with ``drawn_state()`` saw no change and never asked again
    (seen in tests/test_connection.py: "Run 5: Training complete" above a disabled Train).
    """
    return st.session_state.get("_page_state")


def await_model() -> None:
    """Say that this page run drew a view without the widgets it shows once there is a model
    (the network view's Unit box): the live panel then draws the page again when the run's
    first epoch gives one. Nothing else needs that page run: the sliders are drawn from the
    start of a run and their answer follows it."""
    st.session_state["_model_awaited"] = True


def model_awaited() -> bool:
    return bool(st.session_state.get("_model_awaited"))


def asked_predictor() -> Predictor | None:
    """The model the sliders ask: an uploaded one, else the current run's latest weights."""
    job = current_job()
    return st.session_state.get("uploaded_predictor") or (job.predictor if job else None)


def asked_token() -> tuple[int, int]:
    """Changes whenever the asked model does (a new epoch's weights, an upload): what the
    views that follow a training compare to know they must draw again."""
    job = current_job()
    return id(asked_predictor()), job.progress.epoch if job is not None else -1


def inline_fragment(
    body: Callable[..., None], *args: Any, run_every: float | None, flag: str
) -> None:
    """Draw ``body(*args)`` as a fragment in this page run, with ``st.session_state[flag]``
    true only while it runs inline here: the body tells a run of its own (a timer the browser
    still holds) from this one, and may then ask for the page again (a page run can be lost:
    Streamlit drops a finished runner's queued messages when a fragment timer starts a new
    runner) without looping."""
    st.session_state[flag] = True
    try:
        st.fragment(body, run_every=run_every)(*args)
    finally:
        st.session_state[flag] = False
