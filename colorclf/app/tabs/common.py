"""What the teaching views share: their widgets' keys, the "Saturation" slider, whether they
follow a training, and remembering a view's last computed frame."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

from colorclf.app.state import Remembered, drawn_state, training_state
from colorclf.core.runs import RunStatus

SATURATION_DEFAULT = 100  # percent

T = TypeVar("T")


def widget_key(key: str, part: str) -> str:
    """A view's widget key: its ``key`` prefix, so the same view can appear twice on a page."""
    return f"{key}-{part}"


def saturation_slider(key: str) -> float:
    """The "Saturation" slider of the colour-space maps; returns its value as 0–1."""
    st.slider(
        "Saturation",
        min_value=0,
        max_value=100,
        value=SATURATION_DEFAULT,
        step=5,
        format="%d%%",
        key=key,
        help="0 % is grey, 100 % the purest colour of each hue and lightness.",
    )
    return saturation(key)


def kept(key: str) -> str:
    """A widget key whose value outlives its tab being closed (such a tab is drawn only
    while open, and Streamlit forgets a widget a page run does not draw): the last value is
    put back before the widget is drawn. Call ``keep(key)`` once it is drawn."""
    state, choices = st.session_state, training_state().kept_choices
    if key not in state and key in choices:
        state[key] = choices[key]
    return key


def keep(key: str) -> None:
    """Remember the widget ``key``'s value for ``kept``."""
    if key in st.session_state:
        training_state().kept_choices[key] = st.session_state[key]


def saturation(key: str) -> float:
    return float(st.session_state.get(key, SATURATION_DEFAULT)) / 100.0


def following() -> bool:
    """While a run trains, the views' pictures are followers of the live panel."""
    return drawn_state() == RunStatus.TRAINING


def remembered(
    slot: str, compute: Callable[[], T], *, same: tuple[object, ...], equal: Hashable
) -> T:
    """``compute()``, kept for the last inputs of ``slot``: computed again only when an object
    of ``same`` is another one (compared by identity: data sets and models are large) or
    ``equal`` differs. Not ``st.cache_data``: it hashes the data on every call and returns
    a copy, where a rerun must get the very same object back."""
    slots = training_state().remembered
    held = slots.get(slot)
    if (
        held is not None
        and len(held.same) == len(same)
        and all(a is b for a, b in zip(held.same, same, strict=True))
        and held.equal == equal
    ):
        return held.value
    value = compute()
    slots[slot] = Remembered(same, equal, value)
    return value
