"""Ask the model: RGB sliders, a swatch, the prediction and the nine probabilities."""

from __future__ import annotations

import streamlit as st

from colorclf.app.state import asked_predictor, drawn_state
from colorclf.app.teaching import VIEW_POLL_SECONDS
from colorclf.views import charts


def ask_panel() -> None:
    """Sliders, swatch, prediction and probabilities, in a fragment: a slider reruns only
    this. While a run trains it also follows the latest weights once a second, on the same
    beat as the decision map (fragments due at the same moment share one run)."""
    every = VIEW_POLL_SECONDS if drawn_state() == "training" else None
    st.fragment(_ask_panel_body, run_every=every)()


def _ask_panel_body() -> None:
    predictor = asked_predictor()
    if predictor is None:
        st.caption("After the first epoch, sliders here ask the model what a colour is called.")
        return
    r = st.slider("Red", 0, 255, 255, key="red")
    g = st.slider("Green", 0, 255, 0, key="green")
    b = st.slider("Blue", 0, 255, 0, key="blue")
    label, probabilities = predictor.predict_one(r, g, b)
    swatch, metric = st.columns([1, 2])
    swatch.markdown(
        f'<div style="background: rgb({r:d},{g:d},{b:d}); height: 88px; '
        'border-radius: 8px; border: 1px solid #8884"></div>',
        unsafe_allow_html=True,
    )
    metric.metric("Prediction", label)
    import pandas as pd

    frame = pd.DataFrame(
        {"label": list(probabilities), "probability": list(probabilities.values())}
    )
    st.vega_lite_chart(frame, charts.probability_spec(), width="stretch")

