"""Every page's session state, declared once: a dataclass per page, kept in ``st.session_state``
under one key each and created on first access by its typed accessor (``training_state()``,
``label_state()``, ``board_state()``, ``student_state()``, ``teacher_state()``). A dataclass in
session state is mutated in place, so a fragment's run and the page's run see the same one.

Widgets' values stay in ``st.session_state`` under their own keys (Streamlit requires that);
their names are constants of the modules that draw them.

Beside the state: the job's state as this page run draws it, and the fragments drawn inline.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, TypeVar

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from colorclf.core.predict import Predictor
from colorclf.core.runs import Run, RunStatus
from colorclf.serve.heartbeat import Heartbeat
from colorclf.serve.job import TrainingJob

if TYPE_CHECKING:
    from colorclf.core.hyperparams import Hyperparams
    from colorclf.data.sources import SourceKind
    from colorclf.serve.modelcheck import ModelCheck
    from colorclf.views.chart_data import LiveChartData
    from colorclf.views.cleaning import CleaningRules

T = TypeVar("T")
FlashKind = Literal["error", "warning", "success"]


class Flash(NamedTuple):
    """A message a callback leaves for the next page run to show once."""

    kind: FlashKind
    text: str
    who: str | None = None  # the name a share went under, shown as plain text


@dataclass
class Follower:
    """A view that follows a training (``follow.py``): ``state()`` says what the picture shows
    (it is redrawn when that changes); ``draw()`` draws it into ``slot`` (no widgets, no keyed
    elements: it may be drawn twice in a run)."""

    slot: DeltaGenerator  # the container in the page's body the live panel draws into
    state: Callable[[], Hashable]
    draw: Callable[[], None]


class Remembered(NamedTuple, Generic[T]):
    """One slot of ``tabs.common.remembered``: the inputs it was computed for and the value."""

    same: tuple[object, ...]
    equal: Hashable
    value: T


@dataclass
class UploadCheck:
    """An uploaded model file being checked in a trainer process (``tabs/model_files.py``)."""

    file_id: str | None  # the uploader's file: another one cancels this check
    check: ModelCheck
    handed_over: bool = False  # its model went to the page once; never again


class AskedModel(NamedTuple):
    """The model the sliders were last sent, and what they were sent (``ask.asked_model``)."""

    predictor: Predictor | None
    payload: dict[str, Any]


class SourceChoice(NamedTuple):
    """The sidebar's data source: its kind, and the upload or URL it names (else None)."""

    kind: SourceKind
    # An upload (what st.file_uploader returned), a URL, or None.
    detail: object | str | None


@dataclass
class AskState:
    """The ask panel's own data (``ask.py``)."""

    rgb: tuple[int, int, int] = (255, 0, 0)  # the colour asked, as the server last heard it
    model: AskedModel | None = None  # the weights last sent to the sliders
    mark: str = field(default_factory=lambda: secrets.token_hex(8))  # this session's serials
    sends: int = 0  # weight sends by the follower: each one a new element
    rgb_serial: int = 0  # grows when the exact-colour field moves the sliders
    exact_problem: str | None = None  # what was wrong with the typed exact colour
    crowd_sent: str | None = None  # the id of the crowd table the browser holds


@dataclass
class TrainingPageState:
    """The training page's data for one session (``training_state()``)."""

    runs: list[Run] = field(default_factory=list)  # every training of this session
    job: TrainingJob | None = None  # the latest training (in a trainer process)
    charts: dict[int, LiveChartData] = field(default_factory=dict)  # run number → live chart
    # Stamped at every page run and live-panel frame; a job whose session stopped stamping
    # (the tab was closed) stops.
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    uploaded_predictor: Predictor | None = None  # an uploaded model the page asks instead
    preset: str | None = None  # the preset the settings' widgets are, or "custom"
    settings: Hyperparams | None = None  # the last settings (the widgets vanish in presenter mode)
    settings_preset: str | None = None  # the preset those settings were
    source_choice: SourceChoice | None = None  # the last data source chosen in the sidebar
    link_read: bool = False  # the page's link set the widgets (once per session)
    link_notices: list[str] = field(default_factory=list)  # what the link got wrong
    server_restarted: bool | None = None  # the link came from before a restart (None: unread)
    drawn_state: RunStatus | None = None  # the job's state as this page run draws it
    page_state: RunStatus | None = None  # ... as the last page run that reached its end drew it
    page_finished_at: float = 0.0  # time.monotonic() when that page run ended
    model_awaited: bool = False  # a view waits for the first epoch's model to draw its widgets
    # Page runs the live panel's own runs asked for after a run's end, per (run number, rows
    # at the end): a resumed run ends again with more rows.
    end_reruns: dict[tuple[int, int], int] = field(default_factory=dict)
    inline: set[str] = field(default_factory=set)  # fragments running inline in this page run
    followers: dict[str, Follower] = field(default_factory=dict)  # this page run's followers
    remembered: dict[str, Remembered[Any]] = field(default_factory=dict)  # views' frames
    upload_checks: dict[str, UploadCheck] = field(default_factory=dict)  # per Model files key
    cleaning_rules: dict[str, CleaningRules] = field(default_factory=dict)  # per explorer key
    known_runs: dict[str, list[str]] = field(default_factory=dict)  # per comparison: runs seen
    # Widgets' last values by key, for a tab drawn only while open: Streamlit forgets a widget
    # that a page run does not draw.
    kept_choices: dict[str, Any] = field(default_factory=dict)
    shared_numbers: set[int] = field(default_factory=set)  # runs this session shared
    share_flash: Flash | None = None  # the outcome of the last Share click
    page_drawn_before: bool = False  # the page ran once (the first waits for the paint)
    ask: AskState = field(default_factory=AskState)


class LastVote(NamedTuple):
    """A student's last vote, kept so Undo deletes that very vote."""

    rgb: tuple[int, int, int]
    label: str
    vote_id: int
    voter: str  # who voted: a name typed later cannot undo it


def _random_rgb(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(0, 256, size=3))
    return r, g, b


@dataclass
class LabelPageState:
    """The labelling page's data for one session (``label_state()``)."""

    rng: np.random.Generator = field(default_factory=np.random.default_rng)  # the colours shown
    rgb: tuple[int, int, int] | None = None  # the colour to label (None: not drawn yet)
    last_vote: LastVote | None = None  # what Undo deletes
    voted_by_callback: bool = False  # a vote click was handled by its callback
    flash: Flash | None = None  # the outcome of the last vote, undo or skip
    teacher_flash: Flash | None = None  # the outcome of a teacher's deletion
    remove_generation: int = 0  # a new contributor box after each removal

    def next_colour(self) -> tuple[int, int, int]:
        self.rgb = _random_rgb(self.rng)
        return self.rgb


@dataclass
class StudentState:
    """Who this session's student is, on every page (``student_state()``)."""

    anon_id: str | None = None  # anonymous id: the contributor when no name is typed
    saved_name: str | None = None  # the name typed last (widgets forget it on another page)


@dataclass
class BoardState:
    """The class board's data for one session (``board_state()``)."""

    projector_read: bool = False  # the link's projector flag set the toggle (once)
    teacher_flash: Flash | None = None  # the outcome of a teacher's deletion


class Judged(NamedTuple):
    """A teacher password as typed, and whether it was right: each typed value counts once."""

    typed: str
    right: bool


@dataclass
class TeacherState:
    """The teacher password's guesses in this session (``teacher_auth.py``)."""

    throttle_id: str = field(default_factory=lambda: secrets.token_hex(8))  # session throttle
    judged: dict[str, Judged] = field(default_factory=dict)  # per password field's key


TRAINING_KEY = "colorclf_training"
LABEL_KEY = "colorclf_label"
STUDENT_KEY = "colorclf_student"
BOARD_KEY = "colorclf_board"
TEACHER_KEY = "colorclf_teacher"


def _owned(key: str, kind: type[T]) -> T:
    """The state under ``key``, created on first access."""
    state = st.session_state.get(key)
    if not isinstance(state, kind):
        state = kind()
        st.session_state[key] = state
    return state


def training_state() -> TrainingPageState:
    return _owned(TRAINING_KEY, TrainingPageState)


def label_state() -> LabelPageState:
    return _owned(LABEL_KEY, LabelPageState)


def student_state() -> StudentState:
    return _owned(STUDENT_KEY, StudentState)


def board_state() -> BoardState:
    return _owned(BOARD_KEY, BoardState)


def teacher_state() -> TeacherState:
    return _owned(TEACHER_KEY, TeacherState)


def current_job() -> TrainingJob | None:
    return training_state().job


def read_job_state() -> None:
    """Read the job's state once, at the start of a page run, for everything the run draws.

    The buttons, the views' and sliders' polling and the live panel's "has it changed?"
    check must agree: a run that stopped between two reads left a Stop button under
    "Stopped at epoch …" and nothing polling. The live panel reruns the page when the
    job's state differs from this.
    """
    state = training_state()
    state.heartbeat.beat()
    state.drawn_state = state.job.state if state.job else None
    state.model_awaited = False


def drawn_state() -> RunStatus | None:
    """The job's state as this page run draws it (``read_job_state``)."""
    return training_state().drawn_state


def page_run_finished() -> None:
    """Call last in a page run: the buttons and polling on screen now are this run's."""
    state = training_state()
    state.page_state = state.drawn_state
    state.page_finished_at = time.monotonic()


def state_on_screen() -> RunStatus | None:
    """The job's state as the last page run that reached its end drew it.

    Not ``drawn_state()``: a page run can be cut short after ``read_job_state`` (a fragment
    timer's request that reached the server while the run ran), and the page then still
    shows the previous run's Stop button and no Train, with nothing polling: a fragment
    that compared the job with ``drawn_state()`` saw no change and never asked again
    ("Run 5: Training complete" above a disabled Train).
    """
    return training_state().page_state


def await_model() -> None:
    """Say that this page run drew a view without the widgets it shows once there is a model
    (the network view's Unit box): the live panel then draws the page again when the run's
    first epoch gives one. Nothing else needs that page run: the sliders are drawn from the
    start of a run and their answer follows it."""
    training_state().model_awaited = True


def model_awaited() -> bool:
    return training_state().model_awaited


def asked_predictor() -> Predictor | None:
    """The model the sliders ask: an uploaded one, else the current run's latest weights."""
    state = training_state()
    return state.uploaded_predictor or (state.job.predictor if state.job else None)


def asked_token() -> tuple[int, int]:
    """Changes whenever the asked model does (a new epoch's weights, an upload): what the
    views that follow a training compare to know they must draw again."""
    job = current_job()
    return id(asked_predictor()), job.progress.epoch if job is not None else -1


def inline_fragment(
    body: Callable[..., None],
    *args: object,
    run_every: float | None,
    name: str,
    fragment_only_with_timer: bool = False,
) -> None:
    """Draw ``body(*args)`` as a fragment in this page run, with ``name`` in
    ``training_state().inline`` only while it runs inline here (``in_page_run(name)``): the
    body tells a run of its own (a timer the browser still holds) from this one, and may then
    ask for the page again (a page run can be lost: Streamlit drops a finished runner's queued
    messages when a fragment timer starts a new runner) without looping.

    With ``fragment_only_with_timer`` and no ``run_every``, ``body`` runs as plain code of
    this page run, and no fragment is left registered once the run ends: Streamlit then
    ignores the ticks of the timer the browser held until now that are still on their way,
    instead of starting a new script runner for one and dropping this run's unsent end.
    """
    inline = training_state().inline
    inline.add(name)
    try:
        if run_every is None and fragment_only_with_timer:
            body(*args)
        else:
            st.fragment(body, run_every=run_every)(*args)
    finally:
        inline.discard(name)


def in_page_run(name: str) -> bool:
    """Whether the fragment ``name`` runs inline in a page run (``inline_fragment``)."""
    return name in training_state().inline
