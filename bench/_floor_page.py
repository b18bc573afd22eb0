"""What both floor pages (``floor_app.py``, ``trainer_floor_app.py``) draw alike: the page's
config, the training page's sidebar inputs, and Train over a status label and a chart slot."""

from __future__ import annotations

from typing import Any

import streamlit as st


def floor_page_start(title: str) -> None:
    """The page's config, a run counter (``st.session_state.runs``) and the sidebar inputs."""
    st.set_page_config(page_title=title, layout="wide")
    st.session_state.setdefault("runs", 0)
    with st.sidebar:
        st.header("Network")
        st.number_input("Epochs", 1, 500, 10)
        st.number_input("Batch size", 1, 4096, 32)
        st.selectbox("Optimizer", ["sgd", "adam"])
        st.number_input("Learning rate", 0.0001, 10.0, 0.25, format="%.4f")


def floor_train_controls() -> tuple[bool, Any, Any]:
    """``Train`` (whether it was clicked), the status label's slot (in a container keyed
    ``training-status``, as the training page's, which the benches read) and the chart's."""
    clicked = st.button("Train", type="primary")
    with st.container(border=True, key="training-status"):
        label = st.empty()
    return clicked, label, st.empty()
