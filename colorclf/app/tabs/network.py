"""The "Network" tab: the diagram of the network's weights, each hidden unit's map over colour
space, and one unit's weights in tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from colorclf.app.follow import follow
from colorclf.app.state import asked_predictor, asked_token, await_model
from colorclf.app.tabs import common
from colorclf.views import network, summaries

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor

KEY = "network"
CLOSED_NOTE = "Inside the network: open this tab to see it."


def render_network(predictor: Predictor | None, *, key: str) -> None:
    """The "Network" section: the diagram (inputs, every hidden unit with its map over colour
    space, the nine outputs; weights as lines), a "Saturation" slider for the maps and a
    "Unit" choice that lists that unit's incoming weights and the outputs it pushes most.

    To follow training, the page draws the controls in a fragment and the diagram as a
    follower of the live panel (``follow.py``); the frame is built again only when the
    weights or the saturation change.
    """
    network_controls(predictor, key=key)
    draw_network(predictor, key=key)


def network_controls(predictor: Predictor | None, *, key: str) -> None:
    """The network view's title, caption, "Saturation" slider and "Unit" choice."""
    st.subheader("Network")
    st.caption(
        "Inside the network: each line is a weight (orange positive, blue negative, wider is "
        "stronger); each hidden unit shows how strongly it responds to every colour of one "
        "saturation (hue across, lightness up; orange: strongly, blue: the opposite). Choose "
        "a unit to see its weights."
    )
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        common.saturation_slider(common.widget_key(key, "saturation"))
    if predictor is None:
        await_model()  # the Unit box comes with the first epoch's weights
    elif len(predictor.layers) >= 2:
        with right:
            names = [name for _, _, name in network.hidden_units(predictor)]
            st.selectbox("Unit", names, key=common.widget_key(key, "unit"))


def network_state(key: str) -> tuple[float, str | None]:
    """What the network view's controls ask for: the saturation (0–1) and the unit."""
    unit = st.session_state.get(common.widget_key(key, "unit"))
    return common.saturation(common.widget_key(key, "saturation")), unit


def draw_network(predictor: Predictor | None, *, key: str) -> None:
    """The diagram and the chosen unit's two tables (no widgets, no keyed elements)."""
    if predictor is None:
        st.info("Train a model (or upload one) to see inside it.")
        return
    if len(predictor.layers) < 2:
        st.info("This model has no hidden layer to look into.")
        return
    chosen_saturation, chosen = network_state(key)
    frame = common.remembered(
        common.widget_key(key, "frame-cache"),
        lambda: network.network_frame(predictor, chosen_saturation),
        same=(predictor,),
        equal=chosen_saturation,
    )
    st.vega_lite_chart(
        frame,
        network.network_spec(len(predictor.layers), network.network_height(predictor)),
        width="stretch",
    )
    st.caption(summaries.network_summary(predictor))  # the canvas in words, for a screen reader
    units = network.hidden_units(predictor)
    names = [name for _, _, name in units]
    if chosen not in names:
        chosen = names[0]
    layer, unit, _ = units[names.index(chosen)]
    incoming, outgoing = network.unit_detail(predictor, layer, unit)
    weight = st.column_config.NumberColumn("Weight", format="%+.3f")
    tables = (
        (f"Weights into {chosen}", incoming, "from", "From"),
        (f"What {chosen} pushes most (positive: towards, negative: away)", outgoing, "to", "To"),
    )
    for column, (caption, table, name, title) in zip(st.columns(2), tables, strict=True):
        with column:
            st.caption(caption)
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                column_config={name: title, "weight": weight},
            )


def _view() -> None:
    network_controls(asked_predictor(), key=KEY)
    if not common.following():
        draw_network(asked_predictor(), key=KEY)


def render_tab(dataset: object) -> None:
    """Its diagram is the page's largest chart: the page draws this tab (and follows the
    training in it) only while it is open, so a closed tab costs the live chart nothing."""
    st.fragment(_view)()


def follow_training(dataset: object) -> None:
    follow(
        KEY,
        lambda: (asked_token(), network_state(KEY)),
        lambda: draw_network(asked_predictor(), key=KEY),
    )
