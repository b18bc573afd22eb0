"""What the page needs from the process and from Streamlit's runtime: one-time set-up and the
app's secrets."""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from colorclf.app.streamlit_private import skip_keras_clear_session
from colorclf.serve.pool import SHARED_POOL

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
    skip_keras_clear_session()
    SHARED_POOL.prestart()


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
