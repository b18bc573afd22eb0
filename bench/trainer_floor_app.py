"""A floor for bench_class.py's full-pace class: the app's real trainers behind a bare page.

What the training page does on screen, as little of it as can be: the sidebar's inputs, a
``Train`` button, a status label and the live chart in an ``st.empty``. ``Train`` starts a
real run (``serve.job.TrainingJob`` on the app's trainer pool: the coding-train preset on the
built-in data, at the link's ``pace``), and the same script run redraws the chart about ten
times a second until the run ends, then says "Run k: Training complete in X s" (as the
training page does, so the benches read it alike). No decision map, no sliders, no views,
no page run at the end: the class's time on this page is the trainers' and Streamlit's least.

    .venv/bin/python bench/bench_class.py --part class --paces full --app bench/trainer_floor_app.py
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import streamlit as st
from _floor_page import floor_page_start, floor_train_controls

from colorclf.core.hyperparams import DEFAULT_PRESET, PRESETS, load_factor
from colorclf.core.runs import ACTIVE, Run, RunStatus
from colorclf.data.builtin import builtin_dataset
from colorclf.serve.gate import SHARED_GATE
from colorclf.serve.job import TrainingJob
from colorclf.views import chart_data, charts

FRAME_SECONDS = 0.1


@st.cache_resource
def dataset():
    return builtin_dataset()


floor_page_start("trainer floor")
state = st.session_state
clicked, label, chart = floor_train_controls()
if clicked:
    state.runs += 1
    hp = PRESETS[DEFAULT_PRESET].replace(pace=st.query_params.get("pace", "full"))
    job = TrainingJob(Run(state.runs, hp, "builtin"), dataset())
    job.start()
    data = chart_data.LiveChartData(job.batches_per_epoch)
    started = time.monotonic()
    drawn = (None, -1)
    while True:
        active = job.state in ACTIVE
        shown = (job.state, len(job.run.rows))
        if shown != drawn:  # as the live panel: only what changed, fewer frames under load
            drawn = shown
            data.update(job.run.rows)
            label.markdown(f"**Run {state.runs}: {job.state.value}**")
            chart.vega_lite_chart(data.table(), charts.loss_chart_spec(), width="stretch")
        if not active:
            break
        job.wait_ended(FRAME_SECONDS * load_factor(SHARED_GATE.active))
    took = time.monotonic() - started
    if job.state == RunStatus.COMPLETE:
        label.markdown(f"**Run {state.runs}: Training complete in {took:.1f} s**")
    else:
        label.markdown(f"**Run {state.runs}: Training failed: {job.error}**")
