"""The live panel: the status element and the live loss chart of the session's run, which
redraw while it trains and draw the page again when it ends (its buttons: ``buttons.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from colorclf.app.follow import FollowerDrawer, followers
from colorclf.app.presenter import presenting
from colorclf.app.state import (
    current_job,
    drawn_state,
    in_page_run,
    inline_fragment,
    model_awaited,
    state_on_screen,
    training_state,
)
from colorclf.app.streamlit_private import another_run_waits
from colorclf.core import hyperparams
from colorclf.core.runs import ACTIVE, RunStatus
from colorclf.serve.gate import SHARED_GATE
from colorclf.serve.job import TrainingJob
from colorclf.serve.status import describe_status
from colorclf.views import charts
from colorclf.views.chart_data import LiveChartData

POLL_SECONDS = 0.1  # the live chart's redraw throttle: ~10 frames per second
# How often a waiting live panel looks for a click that asks for another run, times the load
# factor: under a class's load a frame comes only every second anyway.
CLICK_POLL_SECONDS = 0.02
QUEUE_POLL_SECONDS = 1.0  # while a run waits in the queue, its place is enough
LIVE_FRAGMENT = "live"  # the live panel's name among the fragments drawn inline


def live_panel() -> None:
    """Status and live chart, in a fragment (the rest of the page does not re-run and no
    widget event can interrupt the training): while the run trains, one fragment run keeps
    redrawing for up to ``LIVE_RUN_SECONDS``; while it waits in the queue, the fragment
    looks once a second (thirty queued students polling 10×/s would keep the server too
    busy to serve the two who train)."""
    every = {
        RunStatus.TRAINING: POLL_SECONDS * load_factor(),
        RunStatus.QUEUED: QUEUE_POLL_SECONDS,
    }.get(drawn_state())
    # Once the run has ended, not a fragment: a timer tick sent before this page run reached
    # the browser then finds no fragment and is dropped. With the fragment registered, a tick
    # that arrived just after this run's script runner stopped started a new runner, and
    # Streamlit dropped this run's unsent end: "Training complete" above a disabled Train,
    # with nothing polling (tests/test_connection.py, tests/late_events).
    inline_fragment(
        _live_panel_body,
        run_every=every,
        name=LIVE_FRAGMENT,
        fragment_only_with_timer=True,
    )


# Every page's redraws share the server's cores: the live panel asks the views that follow
# the training whether their picture changed at most every FOLLOW_CHECK_SECONDS times the load
# factor (each view is redrawn at most every follow.FOLLOW_SECONDS).
FOLLOW_CHECK_SECONDS = 0.25


def load_factor() -> float:
    """How many times less often than their full rate the live panels redraw now."""
    return hyperparams.load_factor(SHARED_GATE.active)


# One fragment run of the live panel redraws for at most this long. A page run (Stop, a tab)
# cuts it short at its next redraw (Streamlit does), and it ends at once when another
# fragment waits (``another_run_waits``), so this bounds only how often the views
# (follow.py) are drawn again in full, and how long another fragment (the exact colour, a
# view's widgets) waits if ``another_run_waits`` cannot tell (bench/bench_private.py).
LIVE_RUN_SECONDS = 4.0
CONSOLE_LINES = 4  # the console shows the newest lines; the Runs tab keeps every epoch
CONSOLE_HEIGHT = 108  # pixels: four lines of text (two on a short screen: style.py)
PRESENTER_CONSOLE_LINES = 2  # in large type, under a chart the page's width
PRESENTER_CONSOLE_HEIGHT = 76


def _live_panel_body() -> None:
    """Draw the status and the chart, then, while the run trains, redraw what changed about
    ten times a second within this one fragment run.

    Why one long run and not one run per frame: every script or fragment run changes
    Streamlit's run state in the browser, and React re-renders every element of the page
    for it; updates within a run reach only the element that changed. Measured with
    ``bench/bench_page.py``: the browser's CPU per second of training fell and the chart
    shows more states. The run ends early when another fragment or the whole page waits to
    run, so the page stays as responsive as before.
    """
    job = current_job()
    if job is None:
        st.info("Press **Train** to watch the network learn the colour names.")
        return
    # What the page shows: inline in a page run, what this run draws; in the fragment's own
    # runs, what the last page run that reached its end drew (state.state_on_screen).
    inline = in_page_run(LIVE_FRAGMENT)
    on_screen = drawn_state() if inline else state_on_screen()
    panel = _LivePanel(job)
    views = FollowerDrawer(followers())  # the views that follow the training (follow.py)
    if inline or job.state not in FINAL_STATES:
        # Not in a run of its own after the run ended: a page run draws the views then (the
        # one asked for below), or none follows the training any more.
        views.draw_all()
    started = time.monotonic()
    frame_seconds = POLL_SECONDS * load_factor()
    views_drawn = started
    frame = 0
    heartbeat = training_state().heartbeat
    while True:
        panel.draw()
        if time.monotonic() - views_drawn >= FOLLOW_CHECK_SECONDS * load_factor():
            views_drawn = time.monotonic()
            views.draw_changed()
        heartbeat.beat()  # the tab is open: its live panel still runs
        if job.state != on_screen or (not inline and _page_again_after_end(job)):
            # Out of the queue (poll faster, views follow) or finished (sliders, views, Resume).
            st.rerun(scope="app")
        if job.predictor is not None and model_awaited():
            st.rerun(scope="app")  # the first epoch is done: a view can show its widgets
        frame += 1
        next_frame = started + frame * frame_seconds
        if job.state != RunStatus.TRAINING or next_frame - started > LIVE_RUN_SECONDS:
            return
        if not wait_for_frame(next_frame, job, panel.rows_shown):
            return


def wait_for_frame(
    due: float,
    job: TrainingJob,
    rows_shown: bool,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
    run_waits: Callable[[], bool] = another_run_waits,
    poll: float | None = None,
) -> bool:
    """Wait until the next frame is ``due`` (a ``clock`` time); True to draw it, False when
    another run waits (this run gives way within ``poll`` seconds). A run's end, and its
    first rows while the chart shows none, are drawn at once, not a frame later: a frame comes
    every second under a class's load, and the first rows are what thirty students wait for.
    ``sleep(s)`` waits up to s seconds (default: until the job has such news)."""
    if sleep is None:
        sleep = job.wait_ended if rows_shown else job.wait_first_rows  # both end at the end
    if poll is None:
        poll = CLICK_POLL_SECONDS * load_factor()
    while True:
        if run_waits():
            return False
        left = due - clock()
        if left <= 0 or job.state != RunStatus.TRAINING:
            return True
        if not rows_shown and job.run.rows:
            return True
        sleep(min(left, poll))


# A run of the live panel's own after the run ended comes from a timer the browser still
# holds, so the page run that ended the run may never have reached it: Streamlit drops a
# finished script runner's queued messages when a fragment timer starts a new runner before
# they were sent (seen: a whole page run lost, "Training complete" above a disabled Train).
# Such runs draw the page again, but at most this many times per run end, and only once
# the page run that drew the end is older than STALE_TICK_SECONDS: ticks the browser sent
# before that page run reached it are still on their way. Under a class's load every tick in
# flight asked for a whole page run, which delayed the answers to the next ticks and so let
# more ticks pile up (bench/bench_class.py: thirty pages stuck redrawing for minutes, none of
# them reaching "Training complete"). Since the page run that draws a run's end leaves no live
# fragment (live_panel), Streamlit drops those ticks before they run, so this is a bounded
# safety net for a run of its own that still comes after an end.
END_PAGE_RERUNS = 2
STALE_TICK_SECONDS = 3.0


def _page_again_after_end(job: TrainingJob) -> bool:
    """Whether this run of the live panel's own, after ``job`` ended, draws the page again."""
    if job.state not in FINAL_STATES:
        return False
    state = training_state()
    if time.monotonic() - state.page_finished_at < STALE_TICK_SECONDS:
        return False
    asked = state.end_reruns
    end = (job.run.number, len(job.run.rows))
    if asked.get(end, 0) >= END_PAGE_RERUNS:
        return False
    asked[end] = asked.get(end, 0) + 1
    return True


# A page run that draws a run's end stays alive a little past its last element: about one
# tick of the live panel's timer, which the browser holds until this run reaches it. Why:
# when a request from the browser (such a tick, a slider's rest) reaches the server just
# after a script runner stopped, Streamlit starts a new runner and ignores the old one's
# messages that its event loop had not yet sent (AppSession drops events whose sender is not
# the current runner). Under a class's load the loop runs behind, and bench_class saw about
# one page in 450 never show "Training complete" (the end page run started, its elements
# never came). Requests that arrive while this run lingers are queued on it instead, and by
# the time it stops the loop has sent its end. It costs no CPU, and a click that asks for
# the page again still starts at once (fastReruns replaces a running run).
END_LINGER_MARGIN_SECONDS = 0.15
END_LINGER_MOST_SECONDS = 1.5


def end_linger_seconds() -> float:
    """How long this page run lingers after drawing a run's end (0: it drew none, or the
    page it replaces had no live timer, so no tick is on its way)."""
    on_screen = state_on_screen()
    if drawn_state() not in FINAL_STATES or on_screen not in ACTIVE:
        return 0.0
    tick = QUEUE_POLL_SECONDS if on_screen == RunStatus.QUEUED else POLL_SECONDS * load_factor()
    return min(END_LINGER_MOST_SECONDS, tick + END_LINGER_MARGIN_SECONDS)


class _LivePanel:
    """The status element and the live chart of one job, as placeholders that are redrawn
    only when what they show has changed.

    The status element is a bordered container (an icon and label, a progress bar, the
    tutorial's console lines), not ``st.status``: ``st.status`` sleeps 50 ms when it is
    created and 50 ms more when a running one is closed (Streamlit's guard against fast
    updates), which capped the chart at ~3 frames a second.
    """

    def __init__(self, job: TrainingJob) -> None:
        self.job = job
        self.large = presenting()
        self.console_lines = PRESENTER_CONSOLE_LINES if self.large else CONSOLE_LINES
        height = PRESENTER_CONSOLE_HEIGHT if self.large else CONSOLE_HEIGHT
        with st.container(border=True, key="training-status"):
            self.label_slot, self.progress_slot = st.empty(), st.empty()
            # A fixed height: a console that grew a line per epoch pushed the chart below
            # a laptop's screen by the end of a run.
            with st.container(height=height, border=False, key="training-console"):
                self.lines_slot = st.empty()
        with st.container(key="live-chart"):
            self.chart_slot = st.empty()
        # What the chart shows now, in words a screen reader reads (the canvas has none).
        self.summary_slot = st.empty()
        st.caption(CHART_WORDS)
        self.chart_data: LiveChartData = training_state().charts.setdefault(
            job.run.number, LiveChartData(job.batches_per_epoch)
        )
        self.shown: dict[str, Any] = {}

    @property
    def rows_shown(self) -> bool:
        """Whether the chart shows any row yet."""
        return bool(self.shown.get("rows"))

    def _changed(self, part: str, value: Any) -> bool:
        if part in self.shown and self.shown[part] == value:
            return False
        self.shown[part] = value
        return True

    def draw(self) -> None:
        job = self.job
        status = describe_status(job)
        # The console changes only with a new epoch or at the end; building it scans the
        # whole history (~6 ms at 160,000 batches), too much for every frame. It is sent
        # before the label, so a page that says "Training complete" shows the last epoch.
        last_epoch = job.progress.last_epoch_row
        ending = status["label"] if job.state in FINAL_STATES else None
        if self._changed("lines", (last_epoch and last_epoch["epoch"], ending)):
            lines = status_lines(job, status["label"])
            self.lines_slot.text("\n".join(lines[-self.console_lines :]))
            self.summary_slot.caption(chart_summary(job))
        label = f"{STATUS_ICONS.get(job.state, '')} **{job.run.name}: {status['label']}**"
        if self._changed("label", label):
            self.label_slot.markdown(label)
        # Whole percents: a bar that moved by a batch each frame sent a second element per
        # frame, and every element the browser receives re-renders the page around it.
        percent = int(status["fraction"] * 100)
        if self._changed("percent", percent):
            self.progress_slot.progress(percent / 100)
        if self._changed("rows", len(job.run.rows)):
            if len(job.run.rows) < self.chart_data.consumed:  # a dead trainer's part epoch
                self.chart_data = training_state().charts[job.run.number] = LiveChartData(
                    job.batches_per_epoch
                )
            self.chart_data.update(job.run.rows)
            draw_loss_chart(self.chart_slot, self.chart_data, large=self.large)


def planned_epochs(job: TrainingJob) -> int:
    """The epochs the run means to reach: its setting, or more after a Step past it (the
    status label counts the same way, so the console and the label name one plan)."""
    return max(job.hp.epochs, job.progress.epochs_planned)


def chart_summary(job: TrainingJob) -> str:
    """The live chart in one line: the epoch, the loss and the validation accuracy."""
    row = job.progress.last_epoch_row
    if row is None:
        return "Chart: no epoch finished yet."
    accuracy = row["val_accuracy"]
    validation = (
        "no validation colours" if accuracy is None else (f"validation accuracy {accuracy:.1%}")
    )
    return (
        f"Chart: after epoch {row['epoch']} of {planned_epochs(job)}, "
        f"loss {row['loss']:.4f}, {validation}."
    )


def status_lines(job: TrainingJob, label: str) -> list[str]:
    """The tutorial's console: "Training started", one line per finished epoch, the end."""
    lines = ["Training started"]
    planned = planned_epochs(job)
    for row in job.run.epoch_rows():
        lines.append(
            f"Epoch {row['epoch']}/{planned} · loss {row['loss']:.4f} · "
            f"val_loss {row['val_loss']:.4f} · val_accuracy {row['val_accuracy']:.3f}"
        )
    if job.state in FINAL_STATES:
        lines.append(label)
    return lines


FINAL_STATES = (RunStatus.COMPLETE, RunStatus.STOPPED, RunStatus.FAILED)

# The chart's words in plain language, one line each, under the chart that uses them.
CHART_WORDS = (
    "**Loss**: how wrong the answers are (lower is better) · **accuracy**: the share named "
    "right · **val** (validation): on colours kept out of training · **epoch**: one pass "
    "over every training colour · **batch**: the colours seen per weight update"
)


STATUS_ICONS = {
    RunStatus.QUEUED: ":material/hourglass_top:",
    RunStatus.TRAINING: ":material/model_training:",
    RunStatus.COMPLETE: ":green[:material/check_circle:]",
    RunStatus.STOPPED: ":orange[:material/pause_circle:]",
    RunStatus.FAILED: ":red[:material/error:]",
}


def draw_loss_chart(slot: Any, data: LiveChartData, *, large: bool = False) -> None:
    """The live loss chart in ``slot``: a fixed spec and at most a few hundred points
    (``large``: presenter mode's taller chart in large type)."""
    slot.vega_lite_chart(data.table(), charts.loss_chart_spec(large), width="stretch")
