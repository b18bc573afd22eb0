"""The training page: widgets, the live chart, the status element and the RGB sliders.

The only module (with ``label_page`` and ``teaching_ui``) that imports Streamlit. Functions
return widget values; session state holds everything that belongs to one user:

- ``runs``      list[Run]: every training of this session (rows = full history)
- ``job``       TrainingJob | None: the latest training (running in its own thread)
- ``charts``    dict[run number, LiveChartData]: what the live chart has consumed
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import ColorclfError
from colorclf.core.hyperparams import DEFAULT_PRESET, PARAMS, PRESETS, Hyperparams, Param
from colorclf.core.runs import Run
from colorclf.data.sources import CODING_TRAIN_URL, SourceKind, SourceSpec, load_source
from colorclf.serve.job import TrainingJob, describe_status
from colorclf.serve.pool import SHARED_POOL
from colorclf.views import charts

POLL_SECONDS = 0.1  # the live chart's redraw throttle: ~10 frames per second
QUEUE_POLL_SECONDS = 1.0  # while a run waits in the queue, its place is enough
SESSION_GRACE_SECONDS = 10.0  # a closed tab's training stops after this long

_runtime_ready = threading.Lock()
_runtime_prepared = False


# ----- once per process ------------------------------------------------------------------
def prepare_runtime() -> None:
    """Process-wide set-up, done once: nothing here belongs to a user.

    - A trainer process starts warming up (importing TensorFlow, one tiny fit) while the
      page paints; the server itself never imports TensorFlow for training.
    - Streamlit calls ``keras.backend.clear_session()`` after every script run once Keras is
      imported (here only when someone uploads a model file): a full ``gc.collect()``
      (350–580 ms with TensorFlow loaded) and a reset of Keras' global state. Our models
      name every layer and seed every initialiser, so they need none of it; we keep
      Streamlit's other clean-up.
    """
    global _runtime_prepared
    with _runtime_ready:
        if _runtime_prepared:
            return
        _runtime_prepared = True
    _skip_keras_clear_session()
    SHARED_POOL.prestart()


def _skip_keras_clear_session() -> None:
    import sys

    from streamlit.runtime.scriptrunner import script_runner

    def clean_problem_modules() -> None:
        if "matplotlib.pyplot" in sys.modules:
            with contextlib.suppress(Exception):
                sys.modules["matplotlib.pyplot"].close("all")

    script_runner._clean_problem_modules = clean_problem_modules  # type: ignore[attr-defined]


# ----- session state ---------------------------------------------------------------------
def _state() -> Any:
    state = st.session_state
    state.setdefault("runs", [])
    state.setdefault("job", None)
    state.setdefault("charts", {})
    return state


def current_job() -> TrainingJob | None:
    return _state()["job"]


def read_job_state() -> None:
    """Read the job's state once, at the start of a page run, for everything the run draws.

    The buttons, the views' and sliders' polling and the live panel's "has it changed?"
    check must agree: a run that stopped between two reads left a Stop button under
    "Stopped at epoch …" and nothing polling. The live panel reruns the page when the
    job's state differs from this.
    """
    job = current_job()
    st.session_state["_drawn_state"] = job.state if job else None


def drawn_state() -> str | None:
    """The job's state as this page run draws it (``read_job_state``)."""
    return st.session_state.get("_drawn_state")


def _session_alive_checker() -> Callable[[], bool]:
    """True while this browser session is connected (with a grace period for reconnects)."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return lambda: True
    session_id = ctx.session_id
    instance = runtime.get_instance()
    last_seen = [time.monotonic()]

    def alive() -> bool:
        now = time.monotonic()
        if instance.is_active_session(session_id):
            last_seen[0] = now
            return True
        return now - last_seen[0] < SESSION_GRACE_SECONDS

    return alive


# ----- controls --------------------------------------------------------------------------
def _widget_key(param: Param) -> str:
    return f"hp_{param.name}"


def apply_settings(hp: Hyperparams, preset_name: str | None = None) -> None:
    """Put settings into the widgets' session-state keys (before the widgets are drawn)."""
    state = st.session_state
    for param in PARAMS:
        state[_widget_key(param)] = getattr(hp, param.name)
    if preset_name is not None:
        state["preset"] = preset_name


def _on_preset_change() -> None:
    name = st.session_state["preset"]
    if name in PRESETS:
        apply_settings(PRESETS[name])


def hyperparameter_controls(*, disabled: bool = False) -> Hyperparams:
    """``Preset`` and one widget per hyperparameter, all generated from ``PARAMS``."""
    state = st.session_state
    if "preset" not in state or _widget_key(PARAMS[0]) not in state:
        # First run, or the widgets were hidden (presenter mode): last settings, else defaults.
        apply_settings(
            state.get("settings", PRESETS[DEFAULT_PRESET]),
            state.get("settings_preset", DEFAULT_PRESET),
        )
    st.selectbox(
        "Preset",
        list(PRESETS),
        key="preset",
        on_change=_on_preset_change,
        help="coding-train is the tutorial's network; tuned learns the crowd data better.",
        disabled=disabled,
    )
    values: dict[str, object] = {}
    for param in PARAMS:
        key = _widget_key(param)
        if param.kind is str:
            values[param.name] = st.selectbox(
                param.label, list(param.choices), key=key, help=param.help, disabled=disabled
            )
        elif param.kind is int:
            values[param.name] = st.number_input(
                param.label,
                min_value=int(param.minimum),
                max_value=int(param.maximum),
                step=1,
                key=key,
                help=param.help,
                disabled=disabled,
            )
        else:
            values[param.name] = st.number_input(
                param.label,
                min_value=float(param.minimum),
                max_value=float(param.maximum),
                step=0.01 if param.name == "val_split" else 0.001,
                format="%.2f" if param.name == "val_split" else "%.4f",
                key=key,
                help=param.help,
                disabled=disabled,
            )
    hp, notices = Hyperparams.from_mapping(values)
    for notice in notices:
        st.warning(notice)
    return hp


SOURCE_LABELS: dict[SourceKind, str] = {
    SourceKind.BUILTIN: "Built-in",
    SourceKind.UPLOAD: "Upload a file",
    SourceKind.URL: "URL",
    SourceKind.VOTES: "Class votes",
}


def data_source_controls() -> tuple[SourceKind, Any]:
    """The data source widgets; returns (kind, detail): detail is an upload, a URL or None."""
    kind = st.radio(
        "Data", list(SOURCE_LABELS), format_func=SOURCE_LABELS.get, key="source", horizontal=False
    )
    if kind is SourceKind.UPLOAD:
        upload = st.file_uploader(
            "Coding Train JSON or CSV (r, g, b, label[, uid])",
            type=["json", "csv"],
            key="upload",
        )
        return kind, upload
    if kind is SourceKind.URL:
        url = st.text_input(
            "URL of a Coding Train JSON or CSV file",
            key="url",
            placeholder=CODING_TRAIN_URL,
            help="Press Enter to load. The Coding Train community data set is at "
            + CODING_TRAIN_URL,
        )
        return kind, url.strip() or None
    return kind, None


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
            from colorclf.label_page import page_secrets
            from colorclf.store import database_url

            return _load_votes(database_url(page_secrets()))
        return load_source(SourceSpec(kind))
    except ColorclfError as error:
        st.error(str(error))
        return None


def dataset_summary(dataset: ColorDataset) -> None:
    skipped = sum(dataset.skipped.values())
    text = (
        f"**{len(dataset):,}** colours from **{dataset.contributor_count()}** contributors "
        f"· {dataset.source}"
    )
    if skipped:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in dataset.skipped.items())
        text += f" · {skipped} rows skipped ({reasons})"
    st.caption(text)


# ----- training --------------------------------------------------------------------------
def start_training(dataset: ColorDataset, hp: Hyperparams) -> TrainingJob | None:
    """Start a new run unless one is already queued or training (the tutorial's istraining)."""
    state = _state()
    job: TrainingJob | None = state["job"]
    if job is not None and job.active:
        return None
    state["uploaded_predictor"] = None  # the sliders follow the new run
    state["_link_notices"] = []
    run = Run(number=len(state["runs"]) + 1, hyperparams=hp, data_source=dataset.source)
    job = TrainingJob(run, dataset, is_alive=_session_alive_checker())
    state["runs"].append(run)
    state["job"] = job
    job.start()
    return job


def training_buttons(dataset: ColorDataset | None, hp: Hyperparams) -> None:
    """``Train``; ``Stop`` while a run trains; ``Resume`` for a stopped run.

    Train acts in the script run (not an ``on_click`` callback) so that it trains the
    settings of this run: a value typed and a click sent together reach the callback's
    arguments one run late.
    """
    job = current_job()
    drawn = drawn_state()
    busy = drawn in ("queued", "training")
    left, right = st.columns(2)
    if left.button(
        "Train",
        type="primary",
        disabled=busy or dataset is None,
        width="stretch",
        key="train",
    ):
        start_training(dataset, hp)  # type: ignore[arg-type]
        st.rerun()  # draw the page again with Train disabled and the live panel polling
    if busy:
        # Outside the polling fragment: a button redrawn 10×/s is hard to click.
        right.button("Stop", width="stretch", key="stop", on_click=job.stop)  # type: ignore[union-attr]
    elif job is not None and drawn == "stopped" and job.can_resume:
        right.button("Resume", width="stretch", key="resume", on_click=job.resume)


def live_panel() -> None:
    """Status and live chart, in a fragment (the rest of the page does not re-run and no
    widget event can interrupt the training): while the run trains, one fragment run keeps
    redrawing for up to ``LIVE_RUN_SECONDS``; while it waits in the queue, the fragment
    looks once a second (thirty queued students polling 10×/s would keep the server too
    busy to serve the two who train)."""
    every = {"training": POLL_SECONDS, "queued": QUEUE_POLL_SECONDS}.get(drawn_state())
    st.session_state["_ask_ready"] = _predictor() is not None
    st.fragment(_live_panel_body, run_every=every)()


LIVE_RUN_SECONDS = 1.0  # one fragment run of the live panel redraws for at most this long


def _live_panel_body() -> None:
    """Draw the status and the chart, then, while the run trains, redraw what changed about
    ten times a second within this one fragment run.

    Why one long run and not one run per frame: every script or fragment run changes
    Streamlit's run state in the browser, and React re-renders every element of the page
    for it; updates within a run reach only the element that changed. Measured with
    ``bench/bench_page.py``: the browser's CPU per second of training fell and the chart
    shows more states. The run ends early when another fragment (a slider) or the whole
    page waits to run, so the page stays as responsive as before.
    """
    job = current_job()
    if job is None:
        st.info("Press **Train** to watch the network learn the colour names.")
        return
    panel = _LivePanel(job)
    ctx = get_script_run_ctx()
    started = time.monotonic()
    frame = 0
    while True:
        panel.draw()
        state = st.session_state
        if job.state != drawn_state():
            # Out of the queue (poll faster, views follow) or finished (sliders, views, Resume).
            st.rerun(scope="app")
        if job.predictor is not None and not state.get("_ask_ready"):
            st.rerun(scope="app")  # the first epoch is done: the sliders can ask it already
        frame += 1
        next_frame = started + frame * POLL_SECONDS
        if job.state != "training" or next_frame - started > LIVE_RUN_SECONDS:
            return
        while True:  # wait for the next frame, but give way at once to a waiting run
            if _another_run_waits(ctx):
                return
            left = next_frame - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, 0.02))


def _another_run_waits(ctx: Any) -> bool:
    """True when the page or another fragment waits while this fragment run draws: a full
    run (the rest of the page comes after the live panel), other fragments queued in this
    very run (a slider and our own timer can arrive together), or a new request pending.

    Reads Streamlit's run state through names no public API offers; if they ever change,
    the run simply ends after ``LIVE_RUN_SECONDS``.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

        own = ThreadState.get().fragment_id
        this_run = ctx.fragment_ids_this_run or []
        if not this_run or any(fragment != own for fragment in this_run):
            return True
        requests = ctx.script_requests
        if requests._state.name != "RERUN":
            return False
        queue = list(requests._rerun_data.fragment_id_queue)
    except Exception:  # private names: never let them break the page
        return False
    # No queue: the whole page waits. Our own timer queues this fragment again and again;
    # that alone does not count.
    return not queue or any(fragment != own for fragment in queue)


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
        with st.container(border=True, key="training-status"):
            self.label_slot, self.progress_slot, self.lines_slot = (
                st.empty(),
                st.empty(),
                st.empty(),
            )
        self.chart_slot = st.empty()
        self.chart_data: charts.LiveChartData = _state()["charts"].setdefault(
            job.run.number, charts.LiveChartData()
        )
        self.shown: dict[str, Any] = {}

    def _changed(self, part: str, value: Any) -> bool:
        if part in self.shown and self.shown[part] == value:
            return False
        self.shown[part] = value
        return True

    def draw(self) -> None:
        job = self.job
        status = describe_status(job)
        label = f"{STATUS_ICONS.get(job.state, '')} **{job.run.name}: {status['label']}**"
        if self._changed("label", label):
            self.label_slot.markdown(label)
        if self._changed("fraction", status["fraction"]):
            self.progress_slot.progress(status["fraction"])
        # The console changes only with a new epoch or at the end; building it scans the
        # whole history (~6 ms at 160,000 batches), too much for every frame.
        last_epoch = job.progress.last_epoch_row
        ending = status["label"] if job.state in FINAL_STATES else None
        if self._changed("lines", (last_epoch and last_epoch["epoch"], ending)):
            lines = status_lines(job, status["label"])
            self.lines_slot.text("\n".join(lines[-12:]))
        if self._changed("rows", len(job.run.rows)):
            self.chart_data.update(job.run.rows)
            draw_loss_chart(self.chart_slot, self.chart_data)


def status_lines(job: TrainingJob, label: str) -> list[str]:
    """The tutorial's console: "Training started", one line per finished epoch, the end."""
    lines = ["Training started"]
    for row in job.run.epoch_rows():
        lines.append(
            f"Epoch {row['epoch']}/{job.hp.epochs} · loss {row['loss']:.4f} · "
            f"val_loss {row['val_loss']:.4f} · val_accuracy {row['val_accuracy']:.3f}"
        )
    if job.state in FINAL_STATES:
        lines.append(label)
    return lines


FINAL_STATES = ("complete", "stopped", "failed")


STATUS_ICONS = {
    "queued": ":material/hourglass_top:",
    "training": ":material/model_training:",
    "complete": ":green[:material/check_circle:]",
    "stopped": ":orange[:material/pause_circle:]",
    "failed": ":red[:material/error:]",
}


def draw_loss_chart(slot: Any, data: charts.LiveChartData) -> None:
    """The live loss chart in ``slot``: a fixed spec and at most a few hundred points."""
    slot.vega_lite_chart(data.table(), charts.loss_chart_spec(), width="stretch")


# ----- asking the model ------------------------------------------------------------------
def ask_panel() -> None:
    """Sliders, swatch, prediction and probabilities, in a fragment: a slider reruns only
    this. While a run trains it also follows the latest weights once a second, on the same
    beat as the decision map (fragments due at the same moment share one run)."""
    every = VIEW_POLL_SECONDS if drawn_state() == "training" else None
    st.fragment(_ask_panel_body, run_every=every)()


def _predictor():
    """The model the sliders ask: an uploaded one, else the current run's latest weights."""
    job = current_job()
    return st.session_state.get("uploaded_predictor") or (job.predictor if job else None)


def _ask_panel_body() -> None:
    predictor = _predictor()
    if predictor is None:
        st.caption("After the first epoch, sliders here ask the model what a colour is called.")
        return
    r = st.slider("Red", 0, 255, 255, key="red")
    g = st.slider("Green", 0, 255, 0, key="green")
    b = st.slider("Blue", 0, 255, 0, key="blue")
    label, probabilities = predictor.predict_one(r, g, b)
    swatch, metric = st.columns([1, 2])
    swatch.markdown(
        f'<div style="background: rgb({r:d},{g:d},{b:d}); height: 88px; '
        'border-radius: 8px; border: 1px solid #8884"></div>',
        unsafe_allow_html=True,
    )
    metric.metric("Prediction", label)
    import pandas as pd

    frame = pd.DataFrame(
        {"label": list(probabilities), "probability": list(probabilities.values())}
    )
    st.vega_lite_chart(frame, charts.probability_spec(), width="stretch")


# ----- teaching views --------------------------------------------------------------------
VIEW_POLL_SECONDS = 1.0  # the decision map and confusion matrix follow training once a second


def _decision_map_view(dataset: ColorDataset | None) -> None:
    from colorclf import teaching_ui

    job = current_job()
    overlay = job.dataset if job is not None else dataset
    teaching_ui.render_decision_map(_predictor(), key="map", overlay_dataset=overlay)


def _confusion_view() -> None:
    from colorclf import teaching_ui

    job = current_job()
    st.subheader("Confusion matrix")
    if job is None or job.predictor is None:
        st.info("Train a model to see its confusion matrix on the validation colours.")
        return
    teaching_ui.render_confusion_matrix(
        job.predictor, job.dataset, job.split.val_index, key="matrix"
    )


def teaching_views(tabs: Any, dataset: ColorDataset | None) -> None:
    """Fill the view tabs. The decision map and the confusion matrix are fragments that
    re-draw themselves about once a second while a run trains, so students watch the
    regions form; nothing else on the page reruns for them."""
    from colorclf import teaching_ui
    from colorclf.train.model import predictor_from_model

    state = _state()
    job = current_job()
    every = VIEW_POLL_SECONDS if drawn_state() == "training" else None
    map_tab, matrix_tab, runs_tab, files_tab = tabs
    with map_tab:
        st.fragment(_decision_map_view, run_every=every)(dataset)
    with matrix_tab:
        st.fragment(_confusion_view, run_every=every)()
    with runs_tab:
        if state["runs"]:
            teaching_ui.render_run_comparison(state["runs"], key="runs")
        else:
            st.info("Every training of this session becomes a run you can compare here.")
    if files_tab is not None:
        with files_tab:
            model_bytes = job.model_bytes if job is not None and not job.active else None
            uploaded = teaching_ui.render_model_files(model_bytes, key="files")
            if uploaded is not None:
                state["uploaded_predictor"] = predictor_from_model(uploaded)
                st.rerun()
            if state.get("uploaded_predictor") is not None:
                st.success("The sliders and the decision map ask the uploaded model.")
                if st.button("Use the trained model again", key="forget_upload"):
                    state["uploaded_predictor"] = None
                    st.rerun()


# ----- shareable links -------------------------------------------------------------------
def read_link_once() -> None:
    """On a session's first run, set the widgets from the page's query parameters."""
    from colorclf.core.links import read_link

    state = st.session_state
    if state.get("_link_read"):
        return
    state["_link_read"] = True
    query = st.query_params.to_dict()
    config = read_link(query)
    state["_link_notices"] = list(config.notices)
    state["presenter"] = config.presenter
    if any(name in query for name in ("preset", *(p.name for p in PARAMS))):
        preset_name = config.preset or DEFAULT_PRESET
        state["settings"], state["settings_preset"] = config.hyperparams, preset_name
        apply_settings(config.hyperparams, preset_name)
    if config.data == "builtin":
        state["source"] = SourceKind.BUILTIN
    elif config.data:
        state["source"], state["url"] = SourceKind.URL, config.data


def write_link(hp: Hyperparams, kind: SourceKind, detail: Any, presenter: bool) -> None:
    """Keep the page's query parameters equal to the settings, so the URL is the link."""
    from colorclf.core.links import LinkConfig, to_query

    data = "builtin" if kind is SourceKind.BUILTIN else (detail if kind is SourceKind.URL else None)
    config = LinkConfig(
        hyperparams=hp,
        preset=st.session_state.get("preset"),
        data=data,
        presenter=presenter,
    )
    query = to_query(config)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


# ----- the page ----------------------------------------------------------------------------
def training_page() -> None:
    """The whole training page, top to bottom."""
    state = _state()
    read_job_state()
    read_link_once()
    st.title("Colour classifier")
    st.caption(
        "Label colours, watch a small neural network learn the names, then ask it. "
        "After The Coding Train's *TensorFlow.js Color Classifier* (videos 7.1–7.12)."
    )
    for notice in state.get("_link_notices", []):
        st.warning(f"Link: {notice}")
    with st.sidebar:
        presenter = st.toggle(
            "Presenter mode", key="presenter", help="Hide the controls for a projector."
        )
        if presenter:
            kind, detail = state.get("source_choice", (SourceKind.BUILTIN, None))
            hp = state.get("settings", PRESETS[DEFAULT_PRESET])
        else:
            st.header("Data")
            kind, detail = data_source_controls()
            st.header("Network")
            hp = hyperparameter_controls()
            state["source_choice"] = (kind, detail)
            state["settings"], state["settings_preset"] = hp, state["preset"]
    write_link(hp, kind, detail, presenter)
    dataset = load_dataset(kind, detail)

    main = st.container()
    names = ["Decision map", "Confusion matrix", "Runs"]
    if not presenter:
        names += ["Data explorer", "Model files"]
    tabs = st.tabs(names)
    if dataset is not None and not presenter:
        from colorclf import teaching_ui

        with tabs[3]:
            dataset = teaching_ui.render_explorer(dataset, key="explorer")
    with main:
        if dataset is not None:
            dataset_summary(dataset)
        train_column, ask_column = st.columns([3, 2], gap="large")
    teaching_views([*tabs[:3], None if presenter else tabs[4]], dataset)
    with train_column:
        training_buttons(dataset, hp)
        live_panel()
    with ask_column:
        st.subheader("Ask the model")
        ask_panel()
    # Last, so that the first page is painted before TensorFlow's import competes for it.
    prepare_runtime()
