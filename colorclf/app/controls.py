"""The sidebar: the hyperparameter widgets (generated from ``PARAMS``), the data source and
loading the chosen data set."""

from __future__ import annotations

from typing import Any

import streamlit as st

from colorclf.app.state import SourceChoice, training_state
from colorclf.core.dataset import ColorDataset, data_warning
from colorclf.core.errors import ColorclfError
from colorclf.core.hyperparams import (
    CUSTOM,
    DEFAULT_PRESET,
    PARAMS,
    PRESETS,
    Hyperparams,
    Param,
    preset_name_of,
)
from colorclf.core.text import count as count_text
from colorclf.core.text import plain
from colorclf.data.sources import CODING_TRAIN_URL, SourceKind, SourceSpec, load_source


def _widget_key(param: Param) -> str:
    return f"hp_{param.name}"


def apply_settings(hp: Hyperparams, preset_name: str | None = None) -> None:
    """Put settings into the widgets' session-state keys (before the widgets are drawn)."""
    for param in PARAMS:
        st.session_state[_widget_key(param)] = getattr(hp, param.name)
    if preset_name is not None:
        training_state().preset = preset_name


def _preset_in_force() -> str:
    """The preset the widgets' values are, or "custom" once any of them differs from every
    preset: the Preset box never names settings that are no longer in force."""
    values = {param.name: st.session_state.get(_widget_key(param)) for param in PARAMS}
    current, _ = Hyperparams.from_mapping(values)
    return preset_name_of(current)


def hyperparameter_controls() -> Hyperparams:
    """``Preset`` and one widget per hyperparameter, all generated from ``PARAMS``."""
    state = training_state()
    if state.preset is None or _widget_key(PARAMS[0]) not in st.session_state:
        # First run, or the widgets were hidden (presenter mode): last settings, else defaults.
        apply_settings(
            state.settings or PRESETS[DEFAULT_PRESET],
            state.settings_preset or DEFAULT_PRESET,
        )
    name = state.preset = _preset_in_force()
    options = [*PRESETS, CUSTOM]
    # One box per name it shows (its key holds the name): when a setting's change turns
    # the box to "custom", a click that left the browser before it heard so (change a
    # field, click Train at once) still carries the old box's value. With one key that
    # stale value looked like the user choosing the old preset again, and undid the edit;
    # here it belongs to a box that is no longer drawn, and Streamlit drops it.
    chosen = st.selectbox(
        "Preset",
        options,
        index=options.index(name),
        key=f"preset_box_{name}",
        help="coding-train is the tutorial's network; tuned learns the crowd data better; "
        "custom: settings of your own (change any setting below).",
    )
    if chosen != name and chosen in PRESETS:
        apply_settings(PRESETS[chosen], chosen)
        st.rerun()  # draw the box under its new name's key, so the next choice counts
    values: dict[str, object] = {}
    for param in PARAMS:
        key = _widget_key(param)
        if param.kind is str:
            values[param.name] = st.selectbox(
                param.label, list(param.choices), key=key, help=param.help
            )
            continue
        number = int if param.kind is int else float
        values[param.name] = st.number_input(
            param.label,
            min_value=number(param.minimum),
            max_value=number(param.maximum),
            step=number(param.step),
            format=param.format,
            key=key,
            help=param.help,
        )
    hp, notices = Hyperparams.from_mapping(values)
    for notice in notices:
        st.warning(plain(notice))
    return hp


SOURCE_KEY = "source"  # the Data radio's widget key
URL_KEY = "url"  # the URL field's widget key
SOURCE_LABELS: dict[SourceKind, str] = {
    SourceKind.BUILTIN: "Built-in",
    SourceKind.UPLOAD: "Upload a file",
    SourceKind.URL: "URL",
    SourceKind.VOTES: "Class votes",
}


def data_source_controls() -> SourceChoice:
    """The data source widgets; returns the kind and its upload, URL or None."""
    kind = st.radio(
        "Data", list(SOURCE_LABELS), format_func=SOURCE_LABELS.get, key=SOURCE_KEY, horizontal=False
    )
    if kind is SourceKind.UPLOAD:
        upload = st.file_uploader(
            "Coding Train JSON or CSV (r, g, b, label[, uid])",
            type=["json", "csv"],
            key="upload",
        )
        return SourceChoice(kind, upload)
    if kind is SourceKind.URL:
        url = st.text_input(
            "URL of a Coding Train JSON or CSV file",
            key=URL_KEY,
            placeholder=CODING_TRAIN_URL,
            help="Press Enter to load. The Coding Train community data set is at "
            + CODING_TRAIN_URL,
        )
        return SourceChoice(kind, url.strip() or None)
    return SourceChoice(kind, None)


# How long the page keeps what each source gave (the dispatcher is ``load_source``).
@st.cache_data(show_spinner=False, max_entries=8)
def _load_upload(content: bytes, name: str) -> ColorDataset:
    return load_source(SourceSpec(SourceKind.UPLOAD, name, content))


@st.cache_data(show_spinner="Downloading…", ttl=600, max_entries=8)
def _load_url(url: str) -> ColorDataset:
    # The server downloads: never its own or its network's services.
    return load_source(SourceSpec(SourceKind.URL, url), public_only=True)


@st.cache_data(show_spinner=False, ttl=5)
def _load_votes(url: str) -> ColorDataset:
    return load_source(SourceSpec(SourceKind.VOTES, url))


def load_dataset(kind: SourceKind, detail: Any) -> ColorDataset | None:
    """The chosen data set, or None (with ``st.error`` for bad input, ``st.info`` for none)."""
    try:
        if kind is SourceKind.UPLOAD:
            if detail is None:
                st.info("Choose a Coding Train JSON or CSV file to train on.")
                return None
            return _load_upload(detail.getvalue(), detail.name)
        if kind is SourceKind.URL:
            if not detail:
                st.info("Type the address of a data file and press Enter.")
                return None
            return _load_url(detail)
        if kind is SourceKind.VOTES:
            from colorclf.app.runtime import page_secrets
            from colorclf.store import database_url

            return _load_votes(database_url(page_secrets()))
        return load_source(SourceSpec(kind))
    except ColorclfError as error:
        st.error(plain(error))
        return None


def dataset_summary(dataset: ColorDataset, hp: Hyperparams | None = None) -> None:
    """The data summary above Train: colours, contributors, source and skipped rows, then a
    warning when the data set is too small to train meaningfully (``data_warning`` at
    ``hp``'s validation split)."""
    skipped = sum(dataset.skipped.values())
    people = dataset.contributor_count()
    text = (
        f"**{len(dataset):,}** {'colour' if len(dataset) == 1 else 'colours'} from "
        f"**{people:,}** {'contributor' if people == 1 else 'contributors'} "
        f"· {plain(dataset.source)}"
    )
    if skipped:
        reasons = ", ".join(
            f"{plain(reason)}: {count:,}" for reason, count in dataset.skipped.items()
        )
        text += f" · {count_text(skipped, 'row')} skipped ({reasons})"
    st.caption(text)
    warning = data_warning(dataset, (hp or Hyperparams()).val_split)
    if warning is not None:
        st.warning(plain(warning), icon=":material/warning:")
