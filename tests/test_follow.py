"""The views that follow a training: what the live panel's run draws, and when."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from colorclf.app import follow
from colorclf.app.follow import FOLLOW_SECONDS, Follower, FollowerDrawer


class FakePlace:
    """What ``slot.empty()`` returns: records the draws made inside it."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    @contextmanager
    def container(self):
        self.log.append(f"open {self.name}")
        yield


class FakeSlot:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def empty(self) -> FakePlace:
        self.log.append(f"reserve {self.name}")
        return FakePlace(self.log, self.name)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(log: list[str], states: dict[str, object]) -> dict[str, Follower]:
    return {
        name: Follower(
            FakeSlot(log, name),
            lambda name=name: states[name],
            lambda name=name: log.append(f"draw {name} {states[name]}"),
        )
        for name in states
    }


def test_every_follower_is_reserved_once_and_drawn_at_the_start_of_a_run() -> None:
    log: list[str] = []
    states = {"map": 1, "ask": "a"}
    drawer = FollowerDrawer(make(log, states), clock=Clock())
    assert log == ["reserve map", "reserve ask"]
    drawer.draw_all()
    assert log[2:] == ["open map", "draw map 1", "open ask", "draw ask a"]


def test_a_follower_is_redrawn_only_when_its_state_changed_and_not_more_than_once_a_second():
    log: list[str] = []
    states: dict[str, object] = {"map": 1, "ask": "a"}
    clock = Clock()
    drawer = FollowerDrawer(make(log, states), clock=clock)
    drawer.draw_all()
    del log[:]
    clock.now += FOLLOW_SECONDS
    assert drawer.draw_changed() == []  # nothing changed: nothing sent
    states["map"] = 2  # a new epoch
    clock.now += 0.1
    assert drawer.draw_changed() == ["map"]
    assert log == ["open map", "draw map 2"]
    states["map"] = 3
    clock.now += FOLLOW_SECONDS / 2
    assert drawer.draw_changed() == []  # too soon: the next epoch waits
    clock.now += FOLLOW_SECONDS / 2
    assert drawer.draw_changed() == ["map"]
    assert log[-1] == "draw map 3"


def test_no_followers_draw_nothing() -> None:
    drawer = FollowerDrawer({}, clock=Clock())
    drawer.draw_all()
    assert drawer.draw_changed() == []


def test_the_page_run_registers_followers_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    state: dict[str, object] = {}
    monkeypatch.setattr(follow.st, "session_state", state)
    monkeypatch.setattr(follow.st, "container", lambda: "slot")
    follow.follow("map", lambda: 1, lambda: None)
    assert list(follow.followers()) == ["map"]
    follow.reset_followers()
    assert follow.followers() == {}


def ended_run_page_runs() -> None:
    """A page that asks, for one run's end, how often a stale timer tick redraws the page."""
    import time
    from types import SimpleNamespace

    import streamlit as st

    from colorclf.app import live
    from colorclf.app.state import training_state
    from colorclf.core.runs import RunStatus

    run = SimpleNamespace(number=1, rows=[object()] * 10)
    job = SimpleNamespace(state=RunStatus.TRAINING, run=run)
    answers = [live._page_again_after_end(job)]  # still training: the page is not asked for
    job.state = RunStatus.COMPLETE
    training_state().page_finished_at = time.monotonic()  # a tick sent before that page run
    answers += [live._page_again_after_end(job)]
    training_state().page_finished_at = time.monotonic() - live.STALE_TICK_SECONDS - 1
    answers += [live._page_again_after_end(job) for _ in range(live.END_PAGE_RERUNS + 3)]
    run.rows = [*run.rows, object()]  # resumed and ended again: a new end
    answers += [live._page_again_after_end(job)]
    st.session_state["answers"] = answers


def test_ticks_after_a_run_ended_redraw_the_page_a_bounded_number_of_times() -> None:
    from streamlit.testing.v1 import AppTest

    from colorclf.app import live

    at = AppTest.from_function(ended_run_page_runs).run()
    assert not at.exception
    bounded = [True] * live.END_PAGE_RERUNS + [False] * 3
    assert at.session_state["answers"] == [False, False, *bounded, True]


def test_the_first_rows_and_the_end_are_drawn_without_waiting_for_the_next_frame() -> None:
    """Under a class's load a live panel draws a frame a second; the first rows (while the
    chart shows none) and the run's end are drawn when they come, other rows at the frame."""
    from types import SimpleNamespace

    from colorclf.app.live import wait_for_frame
    from colorclf.core.runs import RunStatus

    now = [0.0]
    job = SimpleNamespace(state=RunStatus.TRAINING, run=SimpleNamespace(rows=[]))

    def clock() -> float:
        return now[0]

    def rows_come_at_0_3(seconds: float) -> None:
        now[0] += seconds
        if now[0] >= 0.3:
            job.run.rows.append({"kind": "batch"})

    def wait(rows_shown: bool, sleep, run_waits=lambda: False) -> bool:
        now[0] = 0.0
        return wait_for_frame(1.0, job, rows_shown, clock=clock, sleep=sleep, run_waits=run_waits)

    assert wait(False, rows_come_at_0_3) and 0.3 <= now[0] < 0.35  # not at the frame (1.0)
    assert wait(True, rows_come_at_0_3) and now[0] >= 1.0  # more rows: at the frame

    def ends_at_0_5(seconds: float) -> None:
        now[0] += seconds
        if now[0] >= 0.5:
            job.state = RunStatus.COMPLETE

    assert wait(True, ends_at_0_5) and 0.5 <= now[0] < 0.55
    job.state = RunStatus.TRAINING
    assert not wait(True, rows_come_at_0_3, run_waits=lambda: True)  # gives way at once
    assert now[0] == 0.0


def test_a_page_run_that_draws_a_runs_end_lingers_one_tick_of_the_live_timer(monkeypatch) -> None:
    """Only a page run that draws a run's end over a page whose live panel had a timer (a
    tick may still be on its way) lingers: one tick of that timer and a margin, capped."""
    from colorclf.app import live
    from colorclf.core.runs import RunStatus

    def lingers(drawn, on_screen, load=1.0) -> float:
        monkeypatch.setattr(live, "drawn_state", lambda: drawn)
        monkeypatch.setattr(live, "state_on_screen", lambda: on_screen)
        monkeypatch.setattr(live, "load_factor", lambda: load)
        return live.end_linger_seconds()

    margin = live.END_LINGER_MARGIN_SECONDS
    assert lingers(RunStatus.COMPLETE, RunStatus.TRAINING) == live.POLL_SECONDS + margin
    assert lingers(RunStatus.STOPPED, RunStatus.TRAINING, load=4.0) == (
        4 * live.POLL_SECONDS + margin
    )
    assert lingers(RunStatus.FAILED, RunStatus.QUEUED) == live.QUEUE_POLL_SECONDS + margin
    assert lingers(RunStatus.COMPLETE, RunStatus.TRAINING, load=100.0) == (
        live.END_LINGER_MOST_SECONDS
    )
    assert lingers(RunStatus.TRAINING, RunStatus.TRAINING) == 0.0  # still training
    assert lingers(RunStatus.COMPLETE, RunStatus.COMPLETE) == 0.0  # no timer held
    assert lingers(RunStatus.COMPLETE, None) == 0.0  # a fresh page
