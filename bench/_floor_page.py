"""What both floor pages (``floor_app.py``, ``trainer_floor_app.py``) draw before their own
part: the page's config and the training page's sidebar inputs."""

from __future__ import annotations

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
