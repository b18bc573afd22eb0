"""The "Decision map" tab: what the model calls every colour of one saturation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import streamlit as st

from colorclf.app.follow import follow
from colorclf.app.state import asked_predictor, asked_token, current_job
from colorclf.app.tabs.common import (
    following,
    remembered,
    saturation,
    saturation_slider,
    widget_key,
)
from colorclf.core.dataset import ColorDataset
from colorclf.views import decision_map, summaries

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor

KEY = "map"


def render_decision_map(
    predictor: Predictor | None,
    *,
    key: str,
    overlay_dataset: ColorDataset | None = None,
) -> None:
    """The "Decision map" section: title, a "Saturation" slider and the map of ``predictor``.

    To follow training, the page draws the controls in a fragment and the map as a follower
    of the live panel (``follow.py``): each draw maps the latest weights at the slider's
    saturation.
    """
    decision_map_controls(key=key, overlay_dataset=overlay_dataset)
    draw_decision_map(predictor, key=key, overlay_dataset=overlay_dataset)


def decision_map_controls(*, key: str, overlay_dataset: ColorDataset | None = None) -> None:
    """The decision map's title, caption, "Saturation" slider and overlay checkbox."""
    st.subheader("Decision map")
    st.caption(
        "What the model calls every colour of one saturation: hue across, lightness up. "
        "Faded cells are where the model is unsure."
        + (
            " Dots are training colours of about this saturation, coloured by the label "
            "people gave them."
            if overlay_dataset is not None
            else ""
        )
    )
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        saturation_slider(widget_key(key, "saturation"))
    with right:
        if overlay_dataset is not None:
            st.checkbox("Show training colours", value=True, key=widget_key(key, "overlay"))


def decision_map_state(key: str) -> tuple[float, bool]:
    """What the decision map's controls ask for: the saturation (0–1) and the overlay."""
    return (
        saturation(widget_key(key, "saturation")),
        bool(st.session_state.get(widget_key(key, "overlay"), True)),
    )


def draw_decision_map(
    predictor: Predictor | None, *, key: str, overlay_dataset: ColorDataset | None = None
) -> None:
    """The map itself (no widgets), at the saturation the controls ask for."""
    if predictor is None:
        st.info("Train a model (or upload one) to see its decision map.")
        return
    chosen_saturation, show_overlay = decision_map_state(key)
    overlay = None
    if overlay_dataset is not None and show_overlay:
        overlay = _overlay(key, overlay_dataset, chosen_saturation)
    table, summary = remembered(
        widget_key(key, "drawn"),
        lambda: _drawn_map(predictor, chosen_saturation, overlay),
        same=(predictor, overlay),
        equal=chosen_saturation,
    )
    st.vega_lite_chart(table, decision_map.decision_map_spec(), width="stretch")
    st.caption(summary)  # the canvas in words, for a screen reader


def _drawn_map(
    predictor: Predictor, chosen_saturation: float, overlay: pd.DataFrame | None
) -> tuple[pa.Table, str]:
    """The map's data and its summary: every run of the live panel's fragment draws the map
    again, mostly of the same weights, and building it took a fifth of a class's web-server
    time (bench_class)."""
    table = decision_map.decision_map_table(predictor, chosen_saturation, overlay)
    return table, summaries.decision_map_summary(table)


def _overlay(key: str, dataset: ColorDataset, chosen_saturation: float) -> pd.DataFrame:
    """``decision_map.overlay_frame``, remembered per data set and saturation (it does not change
    from epoch to epoch)."""
    return remembered(
        widget_key(key, "overlay-cache"),
        lambda: decision_map.overlay_frame(dataset, chosen_saturation),
        same=(dataset,),
        equal=chosen_saturation,
    )


def _overlay_dataset(dataset: ColorDataset | None) -> ColorDataset | None:
    """The training colours drawn over the map: the run's, else the page's."""
    job = current_job()
    return job.dataset if job is not None else dataset


def _view(dataset: ColorDataset | None) -> None:
    overlay = _overlay_dataset(dataset)
    decision_map_controls(key=KEY, overlay_dataset=overlay)
    if not following():
        draw_decision_map(asked_predictor(), key=KEY, overlay_dataset=overlay)


def render_tab(dataset: ColorDataset | None) -> None:
    """The tab's widgets in a fragment of their own: a slider reruns only this view."""
    st.fragment(_view)(dataset)


def follow_training(dataset: ColorDataset | None) -> None:
    overlay = _overlay_dataset(dataset)
    follow(
        KEY,
        lambda: (asked_token(), decision_map_state(KEY)),
        lambda: draw_decision_map(asked_predictor(), key=KEY, overlay_dataset=overlay),
    )
