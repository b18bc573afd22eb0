"""The training page's pattern without the training, for the message-cache test.

A background job runs for two "epochs"; a live fragment polls it on a 0.1 s timer, keeps
redrawing a chart inside one run for up to a second, and reruns the whole app when the
job's state changed; a second fragment redraws a chart larger than the cache's 10 KB
threshold once a second while the job runs, and shows the same picture after every job.
"""

import threading
import time

import numpy as np
import pandas as pd
import streamlit as st

state = st.session_state
job = state.setdefault("job", {"state": "idle", "epoch": 0, "steps": 0, "runs": 0})
state.full_run = True  # the live fragment keeps redrawing only in its own runs


def work() -> None:
    for epoch in (1, 2):
        for _ in range(30):
            time.sleep(0.02)
            job["steps"] += 1
        job["epoch"] = epoch
    job["runs"] += 1
    job["state"] = "complete"


def line(values: np.ndarray) -> None:
    st.vega_lite_chart(
        pd.DataFrame({"x": np.arange(values.size), "y": values}),
        {
            "mark": "line",
            "encoding": {
                "x": {"field": "x", "type": "quantitative"},
                "y": {"field": "y", "type": "quantitative"},
            },
        },
    )


if st.button("Train", disabled=job["state"] == "training"):
    job.update(state="training", epoch=0, steps=0)
    threading.Thread(target=work, daemon=True).start()
    st.rerun()

drawn = job["state"], job["epoch"] > 0
training = drawn[0] == "training"


@st.fragment(run_every=0.1 if training else None)
def live() -> None:
    started = time.monotonic()
    shown = -1
    slot = st.empty()
    while True:
        if job["steps"] != shown:
            shown = job["steps"]
            slot.line_chart(pd.DataFrame({"loss": 1 / (1 + np.arange(shown + 1))}))
        # As the app (colorclf/app/live.py): compared with what the last page run that
        # reached its end drew, not with a page run that may have been cut short.
        on_screen = drawn if state.inline else state.get("page_drawn")
        # The job ended, or its first epoch did (the page shows more); or, as in the app, a
        # run of its own after the job ended: it comes from a timer the browser still holds,
        # so the page run that drew the end may have been dropped by Streamlit (a finished
        # runner's queued messages, when a timer starts a new one).
        ended = not state.inline and job["state"] == "complete"
        if (job["state"], job["epoch"] > 0) != on_screen or ended:
            st.rerun(scope="app")
        if state.full_run or time.monotonic() - started > 1.0:
            return
        time.sleep(0.1)


@st.fragment(run_every=1.0 if training else None)
def view() -> None:
    # Over 10 KB, so the browser caches it; the same picture at the end of every job.
    line(np.random.default_rng(job["epoch"]).random(1000))


state.inline = True
try:
    live()
finally:
    state.inline = False
view()
for row in range(400):  # a page as large as the training page: slow to re-render
    st.text(f"row {row}")
st.write(f"Run {job['runs']}: {drawn[0]}")
state.full_run = False
state.page_drawn = drawn
