"""The training page's teaching views, one module each, and ``VIEWS``: the one table the page
builds its tabs from. A new view is a module with a ``render_tab`` and a line in ``VIEWS``.

Every view's widgets take a ``key`` prefix (``f"{key}-..."``), so the same view can appear
twice on a page. Charts are fixed Vega-Lite specs drawn with ``st.vega_lite_chart``, cheap
to redraw with new data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from colorclf.app.tabs import confusion, decision_map, explorer, model_files, network, runs
from colorclf.app.tabs.common import following
from colorclf.core.dataset import ColorDataset


@dataclass(frozen=True)
class TabView:
    """One tab of the training page."""

    title: str
    # Draws the tab from the page's data; a view that cleans the data returns what trains.
    render: Callable[[ColorDataset | None], ColorDataset | None]
    in_presenter: bool = True  # shown in presenter mode too (a projector has no use for files)
    # Follows a training: registers its picture with the live panel (follow.py) while open.
    follow: Callable[[ColorDataset | None], None] | None = None
    # Drawn only while its tab is open (a class's page runs spent a fifth of their time on
    # closed tabs); this caption otherwise.
    closed_note: str | None = None
    cleans_data: bool = False  # drawn before the others: they and the training use its data
    # Drawn only while its tab is open; while closed, this returns the data it would (a
    # class's page runs spent a third of their time drawing the closed Data explorer).
    clean_closed: Callable[[ColorDataset | None], ColorDataset | None] | None = None


VIEWS: tuple[TabView, ...] = (
    TabView("Decision map", decision_map.render_tab, follow=decision_map.follow_training),
    TabView(
        "Network",
        network.render_tab,
        follow=network.follow_training,
        closed_note=network.CLOSED_NOTE,
    ),
    TabView(
        "Confusion matrix",
        confusion.render_tab,
        follow=confusion.follow_training,
        closed_note=confusion.CLOSED_NOTE,
    ),
    TabView("Runs", runs.render_tab, closed_note=runs.CLOSED_NOTE),
    TabView(
        "Data explorer",
        explorer.render_tab,
        in_presenter=False,
        cleans_data=True,
        clean_closed=explorer.cleaned_quietly,
    ),
    TabView("Model files", model_files.render_tab, in_presenter=False),
)


def shown_views(presenter: bool) -> list[TabView]:
    """The views this page shows, in the table's order."""
    return [view for view in VIEWS if view.in_presenter or not presenter]


def is_open(tab: DeltaGenerator) -> bool:
    """Whether a tab is the open one (``st.tabs(on_change="rerun")`` tells each tab)."""
    return getattr(tab, "open", None) is not False


def clean_data(
    placed: Sequence[tuple[TabView, DeltaGenerator]], dataset: ColorDataset | None
) -> ColorDataset | None:
    """Draw the views that clean the data; returns the data the page trains on."""
    for view, tab in placed:
        if view.cleans_data:
            if view.clean_closed is not None and not is_open(tab):
                cleaned = view.clean_closed(dataset)
            else:
                with tab:
                    cleaned = view.render(dataset)
            if cleaned is not None:
                dataset = cleaned
    return dataset


def draw_views(
    placed: Sequence[tuple[TabView, DeltaGenerator]], dataset: ColorDataset | None
) -> None:
    """Fill the other tabs. While a run trains, an open tab's view that follows the training
    is drawn by the live panel epoch by epoch (``follow.py``); the views' widgets stay in
    fragments of their own, so a slider reruns only its view."""
    training = following()
    for view, tab in placed:
        if view.cleans_data:
            continue
        with tab:
            if view.closed_note is not None and not is_open(tab):
                st.caption(view.closed_note)
                continue
            view.render(dataset)
            if view.follow is not None and training and is_open(tab):
                view.follow(dataset)
