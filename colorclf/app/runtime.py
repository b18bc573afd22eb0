"""What the page needs from the process and from Streamlit's runtime: one-time set-up and the
app's secrets."""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from colorclf.serve.pool import SHARED_POOL

_runtime_ready = threading.Lock()
_runtime_prepared = False


# ----- once per process ------------------------------------------------------------------
def prepare_runtime() -> None:
    """Process-wide set-up, done once: nothing here belongs to a user.

    - A trainer process starts warming up (importing TensorFlow, one tiny fit) while the
      page paints; the server itself never imports TensorFlow (trainings and uploaded model
      files both go to trainer processes), so Streamlit's after-run Keras clean-up never
      runs here.
    """
    global _runtime_prepared
    with _runtime_ready:
        if _runtime_prepared:
            return
        _runtime_prepared = True
    SHARED_POOL.prestart()
    threading.Thread(target=_prepare_first_training, name="colorclf-preload", daemon=True).start()


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
