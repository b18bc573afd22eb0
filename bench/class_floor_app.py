"""The floor of a class at full pace for bench_class.py: a bare Streamlit page that does only
what one press of Train must, with no trainer, no live panel, no sliders and no views.

Each press is one page run: it says the run started, waits the run's time (a sleep: no CPU),
draws the chart of a whole coding-train run once, and says "Run k: Training complete in X s"
(as the real page does, so the bench's clients read it alike).

    .venv/bin/python -m streamlit run bench/class_floor_app.py
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import streamlit as st
from _rows import BATCHES_PER_EPOCH, synthetic_rows

from colorclf.views import charts

RUN_SECONDS = float(os.environ.get("FLOOR_RUN_SECONDS", "0.2"))  # a full-pace run alone
EPOCHS = 10


@st.cache_resource
def whole_run() -> list[dict]:
    return synthetic_rows(EPOCHS * BATCHES_PER_EPOCH)


st.set_page_config(page_title="class floor")
state = st.session_state
state.setdefault("runs", 0)
clicked = st.button("Train", type="primary")
with st.container(border=True, key="training-status"):
    label = st.empty()
chart = st.empty()
if clicked:
    state.runs += 1
    label.markdown(f"**Run {state.runs}: Training…**")
    time.sleep(RUN_SECONDS)
    data = charts.LiveChartData(BATCHES_PER_EPOCH)
    data.update(whole_run())
    chart.vega_lite_chart(data.table(), charts.loss_chart_spec(), width="stretch")
    label.markdown(f"**Run {state.runs}: Training complete in {RUN_SECONDS:.1f} s**")
