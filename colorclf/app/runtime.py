"""What the page needs from the process and from Streamlit's runtime: one-time set-up, whether a
session is still connected, and the app's secrets."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from colorclf.serve.pool import SHARED_POOL

SESSION_GRACE_SECONDS = 10.0  # a closed tab's training stops after this long

_runtime_ready = threading.Lock()
_runtime_prepared = False


# ----- once per process ------------------------------------------------------------------
def prepare_runtime() -> None:
    """Process-wide set-up, done once: nothing here belongs to a user.

    - A trainer process starts warming up (importing TensorFlow, one tiny fit) while the
      page paints; the server itself never imports TensorFlow for training.
    - Streamlit calls ``keras.backend.clear_session()`` after every script run once Keras is
      imported (here only when someone uploads a model file): a full ``gc.collect()``
      (350–580 ms with TensorFlow loaded) and a reset of Keras' global state. Our models
      name every layer and seed every initialiser, so they need none of it; we keep
      Streamlit's other clean-up.
    """
    global _runtime_prepared
    with _runtime_ready:
        if _runtime_prepared:
            return
        _runtime_prepared = True
    _skip_keras_clear_session()
    SHARED_POOL.prestart()


def _skip_keras_clear_session() -> None:
    import sys

    from streamlit.runtime.scriptrunner import script_runner

    def clean_problem_modules() -> None:
        if "matplotlib.pyplot" in sys.modules:
            with contextlib.suppress(Exception):
                sys.modules["matplotlib.pyplot"].close("all")

    script_runner._clean_problem_modules = clean_problem_modules  # type: ignore[attr-defined]


def session_alive_checker() -> Callable[[], bool]:
    """True while this browser session is connected (with a grace period for reconnects)."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return lambda: True
    session_id = ctx.session_id
    instance = runtime.get_instance()
    last_seen = [time.monotonic()]

    def alive() -> bool:
        now = time.monotonic()
        if instance.is_active_session(session_id):
            last_seen[0] = now
            return True
        return now - last_seen[0] < SESSION_GRACE_SECONDS

    return alive



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
