"""Views that follow a training: drawn by the live panel's fragment run, not by timers of
their own.

While a run trains, the live panel is the page's only running fragment. A view that
follows the training (the decision map, the network, the confusion matrix, the sliders'
answer) keeps its widgets in its own fragment and, at the page run, registers a
*follower*: a container in the page's body and a function that draws the view's picture
into it. The live panel draws every follower at the start of each of its runs (Streamlit
clears a fragment's writes to outside containers when that fragment runs again) and again
whenever what a follower shows has changed, at most once per ``FOLLOW_SECONDS``.

Why: each view used to re-run itself once a second (``run_every``). Every such run ended
the live panel's run, so the chart stopped for a round trip, and the browser re-rendered
the page for each run; ``bench/bench_page.py --quick`` measured 3.8 chart states/s with
the views polling and 7.0/s with them off, against a floor of 10/s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

import streamlit as st

from colorclf.app.state import Follower, training_state

FOLLOW_SECONDS = 1.0  # a follower is redrawn at most this often while its picture changes


def reset_followers() -> None:
    """At the start of every full page run: the views register again."""
    training_state().followers = {}


def follow(name: str, state: Callable[[], Hashable], draw: Callable[[], None]) -> None:
    """Register a follower whose picture goes here. Call it in the page's body, not inside a
    fragment: the container must outlive the view's own fragment runs."""
    training_state().followers[name] = Follower(st.container(), state, draw)


def followers() -> dict[str, Follower]:
    return dict(training_state().followers)


class FollowerDrawer:
    """The followers as one fragment run of the live panel draws them: every one at once
    (``draw_all``), then each one again when its state changed (``draw_changed``)."""

    def __init__(
        self, registered: dict[str, Follower], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._followers = registered
        self._clock = clock
        self._places = {name: follower.slot.empty() for name, follower in registered.items()}
        self._shown: dict[str, Hashable] = {}
        self._drawn_at: dict[str, float] = {}

    def _draw(self, name: str, state: Hashable) -> None:
        with self._places[name].container():
            self._followers[name].draw()
        self._shown[name] = state
        self._drawn_at[name] = self._clock()

    def draw_all(self) -> None:
        for name, follower in self._followers.items():
            self._draw(name, follower.state())

    def draw_changed(self) -> list[str]:
        """Redraw the followers whose state changed and that were not drawn in the last
        ``FOLLOW_SECONDS``; returns their names."""
        now, drawn = self._clock(), []
        for name, follower in self._followers.items():
            if now - self._drawn_at.get(name, float("-inf")) < FOLLOW_SECONDS:
                continue
            state = follower.state()
            if self._shown.get(name, _NOTHING) != state:
                self._draw(name, state)
                drawn.append(name)
        return drawn


_NOTHING = object()
