"""The training page through Streamlit's AppTest: train, watch, stop, resume, ask."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from colorclf.app.live import LIVE_FRAGMENT
from colorclf.app.state import TRAINING_KEY, TrainingPageState
from colorclf.core.colour import hsl_to_rgb
from colorclf.core.hyperparams import PRESETS
from colorclf.core.labels import LABELS
from colorclf.core.predict import Predictor
from colorclf.core.runs import RunStatus
from colorclf.data.sources import SourceKind
from colorclf.views.ceiling import fingerprint
from colorclf.views.chart_data import MAX_BATCH_POINTS
from tests.conftest import open_tab, rendered

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
TIMEOUT = 120  # importing TensorFlow alone takes seconds


def new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def preset_box(at: AppTest):
    """The Preset box (its key names the preset it shows, so it is found by its label)."""
    return next(box for box in at.selectbox if box.label == "Preset")


def set_epochs(at: AppTest, epochs: int) -> None:
    at.number_input(key="hp_epochs").set_value(epochs).run()


def wait_for_job(at: AppTest, timeout: float = 180, until=None) -> None:
    """Re-run the page (as the live fragment's polling would) until the job is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        job = at.session_state[TRAINING_KEY].job
        if (until or (lambda j: not j.active))(job):
            # The run above may have drawn the page just before the job changed; the live
            # panel's next run draws the new state, so draw it once more, as it would.
            at.run()
            assert not at.exception, at.exception
            return
        time.sleep(0.1)
    raise AssertionError("training did not finish in time")


def status_label(at: AppTest) -> str:
    """The status element's label ("Run 1: Training complete in 1.2 s"), after its icon."""
    labels = [
        match.group(1)
        for element in at.markdown
        if (match := re.fullmatch(r"\S+ \*\*(Run \d+: .*)\*\*", element.value))
    ]
    assert len(labels) == 1, labels
    return labels[0]


def status_text(at: AppTest) -> str:
    """The status element's lines: every plain text on the page but the Runs tab's share
    panel, which names the student (``Sharing as: …``)."""
    share = ("Sharing as: ", "Shared as: ")
    return "\n".join(t.value for t in at.text if not t.value.startswith(share))


def chart_data(chart) -> tuple[dict, pa.Table]:
    proto = chart.proto
    spec = json.loads(proto.spec)
    table = pa.ipc.open_stream(io.BytesIO(proto.data.data)).read_all()
    return spec, table


def find_chart(at: AppTest, column: str):
    """The chart whose data has ``column`` (loss chart: "series"; probabilities: "probability")."""
    for chart in at.get("vega_lite_chart"):
        spec, table = chart_data(chart)
        if column in table.column_names:
            return spec, table
    raise AssertionError(f"no chart with a {column!r} column")


def test_train_two_epochs_then_chart_status_and_sliders():
    at = new_app()
    labels = [b.label for b in at.button]
    assert "Train" in labels and "Stop" not in labels and "Resume" not in labels
    assert preset_box(at).value == "coding-train"
    set_epochs(at, 2)
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    assert job.state == "complete"

    assert re.fullmatch(r"Run 1: Training complete in \d+\.\d s", status_label(at))
    lines = status_text(at).splitlines()
    assert lines[0] == "Training started"
    assert lines[-2].startswith("Epoch 2/2 · loss ")
    assert lines[-1].startswith("Training complete in ")
    seconds = float(lines[-1].split()[-2])
    assert seconds == pytest.approx(job.progress.seconds, abs=0.05)

    spec, table = find_chart(at, "series")
    series = table.column("series").to_pylist()
    # Batches are thinned into power-of-two buckets: at most MAX_BATCH_POINTS, never under half.
    assert MAX_BATCH_POINTS // 2 <= series.count("batch loss") <= MAX_BATCH_POINTS
    assert series.count("loss") == series.count("batch loss") == series.count("accuracy")
    assert series.count("val loss") == 2 and series.count("val accuracy") == 2
    assert max(table.column("epoch").to_pylist()) == pytest.approx(2.0)  # the axis: epochs
    assert "datasets" not in spec and "data" not in json.dumps(spec)

    # The sliders get the trained weights, exactly (float32 as trained), to answer with.
    data = ask_data(at)
    assert data["rgb"] == [255, 0, 0] and data["labels"] == list(LABELS)
    assert_sent(data, job.predictor)
    # Beside the answer, the crowd of the data the run learned from (its table went earlier).
    assert data["crowd"]["id"] == fingerprint(job.dataset)


def assert_sent(data: dict, predictor: Predictor) -> None:
    """The page sent the sliders these weights, as trained (float32)."""
    sent = browser_predictor(data)
    for (kernel, bias, activation), (k2, b2, a2) in zip(predictor.layers, sent.layers, strict=True):
        assert np.array_equal(np.float32(kernel), k2) and np.array_equal(np.float32(bias), b2)
        assert activation == a2


def ask_data(at: AppTest) -> dict:
    """What the page sent the sliders' component (``colorclf/app/ask.py``)."""
    (widget,) = [e for e in at.get("bidi_component") if e.proto.component_name == "colorclf_ask"]
    return json.loads(widget.proto.json)


def browser_predictor(data: dict) -> Predictor:
    """The network the browser runs, unpacked from what the page sent it."""

    def floats(text: str, shape: tuple[int, ...]) -> np.ndarray:
        return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(shape)

    return Predictor(
        tuple(
            (
                floats(layer["kernel"], (layer["rows"], layer["cols"])),
                floats(layer["bias"], (layer["cols"],)),
                layer["activation"],
            )
            for layer in data["model"]["layers"]
        )
    )


def test_trained_model_names_primary_colours():
    at = new_app()
    preset_box(at).select("tuned").run()
    assert at.number_input(key="hp_hidden_units").value == PRESETS["tuned"].hidden_units
    set_epochs(at, 8)
    at.button(key="train").click().run()
    wait_for_job(at)
    expected = {(255, 0, 0): "red-ish", (0, 255, 0): "green-ish", (0, 0, 255): "blue-ish"}
    # The network the sliders run in the browser (tests/test_lesson_browser.py checks that
    # the browser's answer is this one's).
    sent = browser_predictor(ask_data(at))
    for (r, g, b), label in expected.items():
        assert sent.predict_one(r, g, b)[0] == label, (r, g, b)


def test_an_exact_colour_moves_the_sliders_and_the_answer_is_honest():
    at = new_app()
    set_epochs(at, 2)
    at.button(key="train").click().run()
    wait_for_job(at)
    before = ask_data(at)["rgb_serial"]
    at.text_input(key="ask-exact").input("128, 128, 128").run()
    data = ask_data(at)
    # The sliders are told to move there (a new serial: the browser moves them only then).
    assert data["rgb"] == [128, 128, 128] and data["rgb_serial"] == before + 1
    assert list(at.session_state[TRAINING_KEY].ask.rgb) == [128, 128, 128]

    # A hex code too. (A slider moved afterwards empties the field: test_lesson_browser.py.)
    at.text_input(key="ask-exact").input("#ff8000").run()
    assert ask_data(at)["rgb"] == [255, 128, 0] and ask_data(at)["rgb_serial"] == before + 2

    # Anything else: one plain message, the sliders stay where they were.
    at.text_input(key="ask-exact").input("**300**, 0, 0").run()
    assert not at.exception
    assert ask_data(at)["rgb"] == [255, 128, 0] and ask_data(at)["rgb_serial"] == before + 2
    assert [rendered(e.value) for e in at.error] == [
        "Type three numbers 0–255 (like 128, 128, 128) or a hex code (like #808080)."
    ]


def test_slider_and_settings_during_training_neither_error_nor_lose_work():
    at = new_app()
    set_epochs(at, 30)  # long enough to be still training after a few page runs
    at.button(key="train").click().run()
    wait_for_job(at, until=lambda job: job.predictor is not None)
    job = at.session_state[TRAINING_KEY].job
    assert job.active
    at.text_input(key="ask-exact").input("0, 200, 0").run()  # the sliders move
    at.number_input(key="hp_hidden_units").set_value(8).run()  # a setting for the *next* run
    assert at.button(key="train").disabled  # a second Train while one runs: not possible
    assert not at.exception
    assert at.session_state[TRAINING_KEY].job is job
    wait_for_job(at)
    assert job.state == "complete"
    assert len(at.session_state[TRAINING_KEY].runs) == 1
    assert [row["epoch"] for row in job.run.epoch_rows()] == list(range(1, 31))


def test_before_the_first_epoch_the_sliders_are_there_and_no_page_run_is_awaited(monkeypatch):
    """A run whose first epoch is still training: the sliders are drawn already (their answer
    follows the run), so the live panel need not draw the whole page again when the first
    weights come, unless the Network tab is open (its Unit box waits for them)."""
    from colorclf.serve.job import TrainingJob

    at = new_app()
    set_epochs(at, 1)
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    monkeypatch.setattr(TrainingJob, "state", property(lambda job: "training"))
    job.predictor = None  # as before the first epoch's weights arrive
    at.run()
    assert not at.exception
    data = ask_data(at)  # the sliders, and no weights to answer with yet
    assert data["model"]["layers"] is None
    assert data["waiting"] == "The answer comes with the first epoch's weights."
    assert at.session_state[TRAINING_KEY].model_awaited is False
    at.session_state["view_tab"] = "Network"
    at.run()
    assert not at.exception
    assert at.session_state[TRAINING_KEY].model_awaited is True


def test_a_run_that_stops_while_the_page_draws_still_gets_its_resume_button(monkeypatch):
    """The job's state can change between the buttons and the live panel of one page run
    (Stop is asynchronous). The page must not end up with a Stop button under "Stopped at
    epoch …" and nothing polling: it draws itself again with Resume."""
    from colorclf.app import buttons
    from colorclf.serve.job import TrainingJob

    at = new_app()
    set_epochs(at, 20)
    at.button(key="train").click().run()
    wait_for_job(at, until=lambda job: job.progress.step > 10)
    at.button(key="stop").click().run()
    wait_for_job(at)
    assert at.session_state[TRAINING_KEY].job.state == "stopped"

    # One page run in which the job still looks busy while the buttons are drawn.
    still_busy = {"on": True}
    real_state, real_active = TrainingJob.state, TrainingJob.active
    monkeypatch.setattr(
        TrainingJob,
        "state",
        property(lambda job: "training" if still_busy["on"] else real_state.fget(job)),
    )
    monkeypatch.setattr(
        TrainingJob, "active", property(lambda job: still_busy["on"] or real_active.fget(job))
    )
    real_buttons = buttons.training_buttons

    def buttons_then_stopped(*args, **kwargs):
        real_buttons(*args, **kwargs)
        still_busy["on"] = False

    monkeypatch.setattr(buttons, "training_buttons", buttons_then_stopped)
    at.run()
    assert not at.exception
    labels = [b.label for b in at.button]
    assert "Resume" in labels and "Stop" not in labels
    assert status_label(at).startswith("Run 1: Stopped at epoch ")


def _live_panel_alone() -> None:
    """AppTest's script: one run of the live panel's body as a fragment timer runs it (not
    inside a page run), then nothing: a second script run can only be the page run it asks
    for."""
    import streamlit as st

    from colorclf.app import live

    st.session_state["script_runs"] = st.session_state.get("script_runs", 0) + 1
    if st.session_state["script_runs"] == 1:
        live._live_panel_body()


@pytest.mark.parametrize("state", ["complete", "stopped"])
def test_a_live_panel_timer_after_the_run_ended_draws_the_page_again(state):
    """Streamlit drops a finished script runner's queued messages when a fragment timer
    starts a new runner before they were sent: a whole page run, the one that drew the end
    of the training, can be lost (seen in test_connection's six sessions: "Training
    complete" above a disabled Train, and the browser's 0.1 s timer still running because
    the page run that would clear it never arrived). The server cannot tell, so a run of
    the live panel of its own after the run ended asks for the page again; inside a page
    run it does not (that would loop)."""
    at = new_app()
    set_epochs(at, 20 if state == "stopped" else 1)  # long enough to be stopped half-way
    at.button(key="train").click().run()
    if state == "stopped":
        wait_for_job(at, until=lambda job: job.progress.step > 3)
        at.button(key="stop").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    assert job.state == state

    for in_page_run, page_runs in ((False, 2), (True, 1)):
        alone = AppTest.from_function(_live_panel_alone, default_timeout=TIMEOUT)
        alone.session_state[TRAINING_KEY] = TrainingPageState(
            job=job,
            drawn_state=RunStatus(state),  # what the last page run drew...
            page_state=RunStatus(state),  # ...and finished drawing
            inline={LIVE_FRAGMENT} if in_page_run else set(),
        )
        alone.run()
        assert not alone.exception
        assert alone.session_state["script_runs"] == page_runs, in_page_run


def test_stop_then_resume_finishes_the_planned_epochs():
    at = new_app()
    set_epochs(at, 20)  # long enough that Stop comes first
    at.button(key="train").click().run()
    wait_for_job(at, until=lambda job: job.progress.step > 10)
    at.button(key="stop").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    assert job.state == "stopped"
    assert job.progress.step < 20 * job.batches_per_epoch
    assert status_label(at).startswith("Run 1: Stopped at epoch ")
    assert "Stopped at epoch" in status_text(at)
    assert job.predictor is not None  # the half-trained weights answer the sliders
    assert_sent(ask_data(at), job.predictor)

    at.button(key="resume").click().run()
    wait_for_job(at)
    assert job.state == "complete"
    lines = status_text(at).splitlines()
    assert lines[-2].startswith("Epoch 20/20 ")
    assert lines[-1].startswith("Training complete in ")
    steps = [row["step"] for row in job.run.rows if row["kind"] == "batch"]
    assert steps == list(range(1, 20 * job.batches_per_epoch + 1))


def test_bad_url_shows_one_error_and_the_page_keeps_working():
    at = new_app()
    at.radio(key="source").set_value(SourceKind.URL).run()
    at.text_input(key="url").input("http://127.0.0.1:9/colors.json").run()
    assert not at.exception
    assert len(at.error) == 1
    assert "127.0.0.1" in rendered(at.error[0].value)
    assert at.button(key="train").disabled
    at.radio(key="source").set_value(SourceKind.BUILTIN).run()
    assert not at.error
    assert not at.button(key="train").disabled


def link_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    return at


def test_a_shared_link_sets_the_widgets_and_the_url_follows_changes():
    at = link_app(preset="coding-train", epochs="3", hidden_units="8", seed="7")
    assert at.number_input(key="hp_epochs").value == 3
    assert at.number_input(key="hp_hidden_units").value == 8
    assert at.number_input(key="hp_seed").value == 7
    assert at.number_input(key="hp_learning_rate").value == pytest.approx(0.25)
    assert not at.warning
    at.number_input(key="hp_batch_size").set_value(64).run()
    assert at.query_params["batch_size"] == "64"
    assert at.query_params["epochs"] == "3"
    assert at.query_params["data"] == "builtin"


def test_bad_link_values_are_clamped_with_a_visible_notice():
    at = link_app(epochs="999", learning_rate="abc", preset="nope")
    assert at.number_input(key="hp_epochs").value == 200
    assert at.number_input(key="hp_learning_rate").value == pytest.approx(0.25)
    notices = " ".join(rendered(w.value) for w in at.warning)
    assert "epochs=999" in notices and "learning_rate" in notices and "nope" in notices


def test_presenter_link_hides_the_controls_but_keeps_the_settings():
    at = link_app(presenter="1", epochs="4")
    assert not at.number_input and not at.radio
    assert "Data explorer" not in [t.label for t in at.tabs]
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    assert [row["epoch"] for row in job.run.epoch_rows()] == [1, 2, 3, 4]
    at.toggle(key="presenter").set_value(False).run()
    assert at.number_input(key="hp_epochs").value == 4


def test_views_after_training_agree_with_the_model():
    import numpy as np

    at = new_app()
    set_epochs(at, 2)
    at.button(key="train").click().run()
    wait_for_job(at)
    at.run()  # the page as drawn after the end (the last poll may have started before it)
    job = at.session_state[TRAINING_KEY].job
    open_tab(at, "Confusion matrix")  # drawn while open, as the decision map always is
    # Confusion matrix: every validation colour counted once.
    _, matrix = next(
        (spec, table)
        for spec, table in map(chart_data, at.get("vega_lite_chart"))
        if "predicted" in table.column_names
    )
    assert sum(matrix.column("count").to_pylist()) == len(job.split.val_index)
    # Decision map: each cell's label is what the fast predictor says for its colour.
    (frame,) = [
        table.to_pandas()
        for table in (chart_data(c)[1] for c in at.get("vega_lite_chart"))
        if {"layer", "x", "probability"} <= set(table.column_names)
    ]
    frame = frame[frame["layer"] == "map"]
    assert len(frame) == 72 * 24
    # The colour at each cell's centre: its corner plus half a cell (5° of hue, 1/24 up).
    saturation = at.slider(key="map-saturation").value / 100
    hue, lightness = frame["x"].to_numpy(float) + 2.5, frame["y"].to_numpy(float) + 1 / 48
    rgb = hsl_to_rgb(hue, np.full(len(hue), saturation), lightness)
    predicted = np.array(LABELS)[job.predictor.predict_labels(rgb)]
    assert (frame["label"].to_numpy() == predicted).all()
    # Run comparison lists the run.
    open_tab(at, "Runs")
    assert any("Run 1" in str(df.value) for df in at.dataframe)


def test_the_page_does_not_fetch_local_addresses():
    at = new_app()
    at.radio(key="source").set_value(SourceKind.URL).run()
    at.text_input(key="url").input("http://localhost:8501/_stcore/health").run()
    assert len(at.error) == 1
    assert "local or private address" in rendered(at.error[0].value)


def test_a_broken_ipv6_url_is_one_message_in_the_box_and_in_a_link():
    at = new_app()
    at.radio(key="source").set_value(SourceKind.URL).run()
    at.text_input(key="url").input("http://[::1/").run()
    assert not at.exception
    assert [rendered(e.value) for e in at.error] == ["not a valid URL: 'http://[::1/'"]
    at = link_app(data="http://[::1/")
    assert len(at.warning) == 1 and "cannot be opened from a link" in rendered(at.warning[0].value)


@pytest.mark.parametrize(
    "value", ["[Log in again](https://evil.example/login)", "![x](https://evil.example/p.png)"]
)
def test_a_link_cannot_put_markdown_in_a_notice(value: str):
    at = link_app(preset=value, data=value)
    notices = [rendered(w.value) for w in at.warning]  # asserts: plain paragraphs only
    assert len(notices) == 2 and all(repr(value) in n for n in notices)


def test_step_trains_one_more_epoch_and_the_network_view_follows():
    at = new_app()
    set_epochs(at, 2)
    assert "Step" not in [b.label for b in at.button]
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    assert job.state == "complete"
    # The network view draws only while its tab is open.
    with pytest.raises(AssertionError):
        find_chart(at, "part")
    at.session_state["view_tab"] = "Network"
    at.run()
    _, frame = find_chart(at, "part")
    edges = frame.to_pandas()
    edges = edges[edges["part"] == "edge"]
    before = edges["weight"].to_numpy()
    (kernel, _, _), (out_kernel, _, _) = job.predictor.layers
    assert len(edges) == 3 * 16 + 16 * 9
    assert before == pytest.approx([*kernel.ravel(), *out_kernel.ravel()], abs=1e-6)

    assert at.button(key="step").label == "Step"
    at.button(key="step").click().run()
    wait_for_job(at)
    assert job.state == "stopped"
    assert [row["epoch"] for row in job.run.epoch_rows()] == [1, 2, 3]
    assert len([r for r in job.run.rows if r["kind"] == "batch"]) == 3 * job.batches_per_epoch
    assert re.fullmatch(r"Run 1: Epoch 3/3 · loss \d\.\d{4} · val_loss \d\.\d{4}", status_label(at))
    # The console names the same plan as the label (it said "Epoch 3/2").
    lines = [line for line in status_text(at).splitlines() if line.startswith("Epoch 3/")]
    assert lines and all(line.startswith("Epoch 3/3 · loss") for line in lines), lines
    # The network view draws the new weights.
    _, frame = find_chart(at, "part")
    edges = frame.to_pandas()
    after = edges[edges["part"] == "edge"]["weight"].to_numpy()
    (kernel, _, _), (out_kernel, _, _) = job.predictor.layers
    assert after == pytest.approx([*kernel.ravel(), *out_kernel.ravel()], abs=1e-6)
    assert not np.allclose(after, before)
    assert "Step" in [b.label for b in at.button]


def test_patience_widget_and_early_stop_status():
    at = new_app()
    patience = at.number_input(key="hp_patience")
    assert patience.label == "Patience" and patience.value == 0
    set_epochs(at, 40)
    at.number_input(key="hp_patience").set_value(1).run()
    at.number_input(key="hp_learning_rate").set_value(2.0).run()  # the val loss jumps about
    at.selectbox(key="hp_optimizer").set_value("adam").run()
    assert at.query_params["patience"] == "1"
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    k, j = job.progress.epoch, job.progress.best_epoch
    assert job.progress.stopped_early and k == j + 1
    assert status_label(at) == f"Run 1: Stopped early at epoch {k} (best: epoch {j})"
    _, table = find_chart(at, "series")
    series = table.column("series").to_pylist()
    assert series.count("best epoch") == 1
    best_at = table.column("epoch").to_pylist()[series.index("best epoch")]
    assert best_at == pytest.approx(j)  # the marker sits on the best epoch's end
    assert "Resume" in [b.label for b in at.button]


@pytest.mark.parametrize(
    ("sent", "heard"),
    [
        ({"rgb": [1, 2, 3]}, (1, 2, 3)),
        ([0, 255, 128], (0, 255, 128)),
        ({"rgb": [256, 0, 0]}, None),
        ({"rgb": [-1, 0, 0]}, None),
        ({"rgb": [1.5, 0, 0]}, None),
        ({"rgb": [True, 0, 0]}, None),
        ({"rgb": ["1", "2", "3"]}, None),
        ({"rgb": [1, 2]}, None),
        ({"rgb": [1, 2, 3, 4]}, None),
        ({"rgb": None}, None),
        ({}, None),
        ("rgb(1, 2, 3)", None),
        (None, None),
    ],
)
def test_only_three_whole_numbers_0_to_255_move_the_sliders(sent, heard):
    """The browser's message is anyone's to craft: anything else is ignored, never an error."""
    from colorclf.app.ask import heard_rgb

    assert heard_rgb(sent) == heard


def test_the_first_page_run_leaves_the_trainer_for_after_the_paint(monkeypatch):
    """The first page run of a session only draws the paint signal; the set-up (a warm trainer,
    the preload) waits for the browser's paint, or for the session's next page run."""
    from colorclf.app import runtime

    started: list[str] = []
    monkeypatch.setattr(runtime, "_runtime_prepared", False)
    monkeypatch.setattr(runtime.SHARED_POOL, "prestart", lambda: started.append("trainer"))
    monkeypatch.setattr(runtime, "_prepare_first_training", lambda: started.append("preload"))
    at = new_app()
    assert started == []
    at.run()  # no JavaScript here: a later page run does it
    assert not at.exception
    assert sorted(started) == ["preload", "trainer"]
    at.run()
    assert len(started) == 2  # once per process
