"""The training page, top to bottom: the sidebar's controls, the live panel, the ask panel,
the teaching views and the shareable link."""

from __future__ import annotations

import time

import streamlit as st

from colorclf.app import buttons, live
from colorclf.app.ask import ask_panel
from colorclf.app.controls import (
    SOURCE_KEY,
    URL_KEY,
    apply_settings,
    data_source_controls,
    dataset_summary,
    hyperparameter_controls,
    load_dataset,
)
from colorclf.app.follow import reset_followers
from colorclf.app.presenter import KEY as PRESENTER_KEY
from colorclf.app.presenter import PAGE_KEY, large_type, presenter_toggle, presenting
from colorclf.app.restart import note_restart_on_first_run, restart_notice, with_boot_id
from colorclf.app.runtime import prepare_runtime_once_painted
from colorclf.app.state import SourceChoice, page_run_finished, read_job_state, training_state
from colorclf.app.style import page_style
from colorclf.app.tabs import clean_data, draw_views, shown_views
from colorclf.core.hyperparams import DEFAULT_PRESET, PARAMS, PRESETS, Hyperparams
from colorclf.core.text import plain
from colorclf.data.sources import SourceKind


def read_link_once() -> None:
    """On a session's first run, set the widgets from the page's query parameters."""
    from colorclf.core.links import read_link

    state = training_state()
    if state.link_read:
        return
    state.link_read = True
    query = st.query_params.to_dict()
    config = read_link(query)
    state.link_notices = list(config.notices)
    st.session_state[PRESENTER_KEY] = config.presenter
    if any(name in query for name in ("preset", *(p.name for p in PARAMS))):
        preset_name = config.preset or DEFAULT_PRESET
        state.settings, state.settings_preset = config.hyperparams, preset_name
        apply_settings(config.hyperparams, preset_name)
    if config.data == "builtin":
        st.session_state[SOURCE_KEY] = SourceKind.BUILTIN
    elif config.data:
        st.session_state[SOURCE_KEY], st.session_state[URL_KEY] = SourceKind.URL, config.data


def write_link(hp: Hyperparams, choice: SourceChoice, presenter: bool) -> None:
    """Keep the page's query parameters equal to the settings, so the URL is the link."""
    from colorclf.core.links import LinkConfig, to_query

    kind, detail = choice
    data = "builtin" if kind is SourceKind.BUILTIN else (detail if kind is SourceKind.URL else None)
    config = LinkConfig(
        hyperparams=hp,
        preset=training_state().preset,
        data=data,
        presenter=presenter,
    )
    query = with_boot_id(to_query(config))  # a page open across a restart can tell (restart.py)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def training_page() -> None:
    """The whole training page, top to bottom."""
    state = training_state()
    read_job_state()
    reset_followers()
    note_restart_on_first_run()
    read_link_once()
    page_style()
    if presenting():
        # Nothing in the sidebar (it is not drawn at all), large type, the chart full width.
        large_type()
        page_area = st.container(key=PAGE_KEY)
        with page_area:
            # One row above the chart: the title and summary, the buttons, the toggle (the
            # chart must fit under it on a 1280×720 projector).
            heading, buttons_area, toggle = st.columns([2.6, 2.2, 1.4])
            heading.subheader(TITLE, anchor=False)
            summary = heading.container()
            with toggle:
                presenter = presenter_toggle()
    else:
        page_area = st.container()
        with st.sidebar:
            presenter = presenter_toggle()
    if presenter:
        choice = state.source_choice or SourceChoice(SourceKind.BUILTIN, None)
        hp = state.settings or PRESETS[DEFAULT_PRESET]
    else:
        with st.sidebar:
            st.header("Data")
            choice = data_source_controls()
            st.header("Network")
            hp = hyperparameter_controls()
        state.source_choice = choice
        state.settings, state.settings_preset = hp, state.preset
    write_link(hp, choice, presenter)
    dataset = load_dataset(*choice)

    with page_area:
        main = st.container()
        views = shown_views(presenter)
        # The tabs tell which one is open (a click reruns the page): the network view draws,
        # and follows the training, only while its tab is open.
        tabs = st.tabs([view.title for view in views], key="view_tab", on_change="rerun")
        placed = list(zip(views, tabs, strict=True))
    with main:
        if presenter:  # the live panel across the page, the model's answer under it
            train_column, ask_column = st.container(), st.container()
        else:  # the title in the training column: the sliders start at the page's top
            train_column, ask_column = st.columns([3, 2], gap="large")
    with train_column:
        if not presenter:
            st.subheader(TITLE, anchor=False)
        restart_notice(trained=bool(state.runs))
        for notice in state.link_notices:
            st.warning(f"Link: {plain(notice)}")
        if not presenter:
            summary = st.container()
    dataset = clean_data(placed, dataset)
    if dataset is not None:
        with summary:
            dataset_summary(dataset, hp)
    # The buttons before the views and the sliders (each has its own container, so the
    # layout is the same): a Train click draws the page again at once, not after the views.
    with buttons_area if presenter else train_column:
        buttons.training_buttons(dataset, hp)
    # The views and the sliders register what follows a training (follow.py) before the
    # live panel runs: its run draws them.
    draw_views(placed, dataset)
    with ask_column:
        st.subheader("Ask the model")
        ask_panel(dataset)
    with train_column:
        live.live_panel()
    st.caption(
        "Label colours, watch a small neural network learn the names, then ask it. "
        "After The Coding Train's *TensorFlow.js Color Classifier* (videos 7.1–7.12)."
    )
    # Last, and on the first page only once it is painted: TensorFlow's import in a new
    # trainer would compete with the browser for it.
    prepare_runtime_once_painted()
    linger = live.end_linger_seconds()  # before the page's state on screen becomes this run's
    page_run_finished()
    if linger:
        time.sleep(linger)


TITLE = "Colour classifier"
