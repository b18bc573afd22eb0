"""The floor for bench_page.py: a bare Streamlit page doing only what the training page does
on screen, with no training and no model behind it.

- Sidebar inputs (number inputs, a select box), a ``Train`` button, a status element keyed
  ``training-status`` and an ``st.empty`` holding the same Altair chart as the live panel:
  ``Train`` redraws it ten times a second for ``FLOOR_SECONDS`` (environment, default 8)
  with as many rows as a real run would have by then (``FLOOR_BATCHES`` over the whole
  time, default 400 a second), then says "Run k: Training complete in X s" (so the
  benches' recorders read it like the real page). bench_class.py serves it for a class at
  full pace: a run alone's time, a whole coding-train run's batches.
- Three sliders ``Red``, ``Green``, ``Blue`` in a fragment, a swatch and a ``Prediction``
  metric (the nearest of a few named colours: no model).

    .venv/bin/python -m streamlit run bench/floor_app.py
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import streamlit as st
from _floor_page import floor_page_start, floor_train_controls
from _rows import BATCHES_PER_EPOCH, synthetic_rows

from colorclf.views import chart_data, charts

BATCHES_PER_SECOND = 400  # about what the coding-train preset trains on this machine
SECONDS = float(os.environ.get("FLOOR_SECONDS", "8"))
BATCHES = int(os.environ.get("FLOOR_BATCHES", SECONDS * BATCHES_PER_SECOND))  # a whole run's
NAMED = {
    "red-ish": (255, 0, 0),
    "green-ish": (0, 255, 0),
    "blue-ish": (0, 0, 255),
    "grey-ish": (128, 128, 128),
    "yellow-ish": (255, 255, 0),
}

floor_page_start("floor")
state = st.session_state
left, right = st.columns([3, 2])
with left:
    clicked, label, chart = floor_train_controls()
    if clicked:
        state.runs += 1
        data = chart_data.LiveChartData(BATCHES_PER_EPOCH)
        rows = synthetic_rows(BATCHES)
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < SECONDS:
            seen = rows[: int(len(rows) * elapsed / SECONDS)]
            data.update(seen)
            epoch = seen[-1]["epoch"] if seen else 1
            label.markdown(f"**Run {state.runs}: Epoch {epoch}**")
            chart.vega_lite_chart(data.table(), charts.loss_chart_spec(), width="stretch")
            time.sleep(max(0.0, 0.1 - (time.monotonic() - started - elapsed)))
        label.markdown(f"**Run {state.runs}: Training complete in {SECONDS:.1f} s**")


@st.fragment
def sliders() -> None:
    r = st.slider("Red", 0, 255, 255, key="red")
    g = st.slider("Green", 0, 255, 0, key="green")
    b = st.slider("Blue", 0, 255, 0, key="blue")
    name = min(
        NAMED, key=lambda n: sum((x - y) ** 2 for x, y in zip(NAMED[n], (r, g, b), strict=True))
    )
    swatch, metric = st.columns([1, 2])
    swatch.markdown(
        f'<div style="background: rgb({r:d},{g:d},{b:d}); height: 88px;"></div>',
        unsafe_allow_html=True,
    )
    metric.metric("Prediction", name)


with right:
    st.subheader("Ask the model")
    sliders()
