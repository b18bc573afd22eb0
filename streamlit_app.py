"""colorclf: label colours, watch a network learn their names, then ask it.

Run with `make run` (or `streamlit run streamlit_app.py`).
"""

import streamlit as st

from colorclf import ui

st.set_page_config(page_title="colorclf · colour classifier", page_icon="🎨", layout="wide")


def label_colours() -> None:
    from colorclf import label_page

    label_page.render()


page = st.navigation(
    [
        st.Page(ui.training_page, title="Train", icon="🧠", default=True),
        st.Page(label_colours, title="Label colours", icon="🎨", url_path="label"),
    ]
)
page.run()
