"""What the page needs from the process and from Streamlit's runtime: one-time set-up and the
app's secrets."""

from __future__ import annotations

import sys
import threading
from typing import Any

import streamlit as st

from colorclf.app.state import training_state
from colorclf.serve.pool import SHARED_POOL
from colorclf.store import VoteStore, database_problem, database_url, store_for_engine

_runtime_ready = threading.Lock()
_runtime_prepared = False


# ----- once per process ------------------------------------------------------------------
# How long a thread of the web server holds Python's lock before another may take it
# (Python's default: 5 ms). Thirty sessions' script threads took turns ahead of the event
# loop that sends every page its messages, and with 5 ms turns it starved: pages silent for a
# minute (bench/bench_class.py: 1–4 of 15 sessions finished, 15 of 15 with 0.5 ms turns).
SWITCH_SECONDS = 0.0005


def share_the_interpreter() -> None:
    """Shorter turns between the server's threads, so the event loop keeps up under a class."""
    if sys.getswitchinterval() != SWITCH_SECONDS:
        sys.setswitchinterval(SWITCH_SECONDS)


def prepare_runtime() -> None:
    """Process-wide set-up, done once: nothing here belongs to a user.

    - A trainer process starts warming up (importing TensorFlow, tracing the default
      template) when the server starts; the server itself never imports TensorFlow
      (trainings and uploaded model files both go to trainer processes), so Streamlit's
      after-run Keras clean-up never runs here.
    """
    global _runtime_prepared
    with _runtime_ready:
        if _runtime_prepared:
            return
        _runtime_prepared = True
    SHARED_POOL.prestart()
    threading.Thread(target=_prepare_first_training, name="colorclf-preload", daemon=True).start()


# `streamlit run streamlit_app.py` does the set-up when the server starts (server_start.py).
# Where no server start ran it (AppTest, the script served some other way), the first page
# asks for it once the browser has painted (two animation frames after this mounts): a
# page's first run ends before the browser has painted it, and a trainer importing
# TensorFlow meanwhile delayed the Train button by ~0.4 s (bench/bench_page.py, cold
# starts). Any later page run of the session does it in any case (no JavaScript, AppTest).
_painted = st.components.v2.component(
    "colorclf_painted",
    js="""export default function ({ setStateValue }) {
  requestAnimationFrame(() => requestAnimationFrame(() => setStateValue('painted', true)));
}""",
)


def _painted_signal() -> None:
    if not _runtime_prepared:
        _painted(
            key="_colorclf_painted", default={"painted": False}, on_painted_change=prepare_runtime
        )


def prepare_runtime_once_painted() -> None:
    """``prepare_runtime`` once this page is on screen: at once on a session's later page
    runs, after the browser's paint on its first."""
    state = training_state()
    if state.page_drawn_before:
        prepare_runtime()
    else:
        state.page_drawn_before = True
        st.fragment(_painted_signal)()  # its run, not the page's, answers the paint


def _prepare_first_training() -> None:
    """Only an optimisation: should any part fail, the first click computes it, or says why."""
    from colorclf.core.hyperparams import Hyperparams
    from colorclf.data.builtin import builtin_dataset
    from colorclf.views import ceiling, charts  # charts imports pandas, as the first chart would

    hp = Hyperparams()
    steps = (
        lambda: charts.loss_chart_spec(False),
        lambda: charts.loss_chart_spec(True),
        lambda: ceiling.reference_accuracy(builtin_dataset(), hp.val_split, hp.seed),
    )
    for step in steps:
        try:
            step()
        except Exception:
            return


def page_secrets() -> dict[str, Any] | None:
    """What ``st.secrets`` holds in a running app (it knows every configured secrets location),
    for ``store.database_url``; None outside one or with a broken secrets file."""
    from streamlit import runtime

    try:
        if not runtime.exists() or not st.secrets.load_if_toml_exists():
            return None
        return st.secrets.to_dict()
    except Exception:  # a broken secrets file: fall back to the files and the default
        return None


def get_page_store() -> VoteStore:
    """The VoteStore on ``st.connection("sql")``'s engine (one per database, shared).

    The URL follows ``database_url()`` (env, then secrets, then SQLite in data/), so this
    page, the training page and the command line all use the same database. Engine
    settings may come from secrets: ``[connections.sql.create_engine_kwargs]``.
    """
    conn = st.connection("sql", type="sql", url=database_url(page_secrets()), pool_pre_ping=True)
    return store_for_engine(conn.engine)


def db_problem(err: Exception) -> str:
    """What is wrong and what to do, without SQL, parameters or anything a student typed."""
    return database_problem(err, database_url(page_secrets()))
