"""The teaching views on a simulated page (AppTest): what each draws and how its widgets act."""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from colorclf.app.state import TRAINING_KEY, TrainingPageState
from colorclf.app.tabs.model_files import CHECK_FRAGMENT
from colorclf.core import colour
from colorclf.core.dataset import ColorDataset
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.labels import LABELS
from colorclf.core.predict import Predictor
from colorclf.core.rows import make_row
from colorclf.core.runs import Run
from colorclf.views import cleaning, decision_map
from tests.conftest import rendered

TIMEOUT = 60


@pytest.fixture(autouse=True, scope="module")
def _quick_collections() -> Iterator[None]:
    """Streamlit runs ``gc.collect(2)`` after every script run, which takes ~0.5 s once
    TensorFlow is imported (by other tests of the session); freezing the objects that exist
    now (as the page does after importing TensorFlow) keeps these many reruns fast."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


def random_predictor(seed: int) -> Predictor:
    rng = np.random.default_rng(seed)
    return Predictor(
        (
            (rng.normal(size=(3, 8)) * 4, rng.normal(size=8), "sigmoid"),
            (rng.normal(size=(8, 9)) * 4, rng.normal(size=9), "softmax"),
        )
    )


def random_dataset(n: int = 600, seed: int = 0, people: int = 6) -> ColorDataset:
    rng = np.random.default_rng(seed)
    return ColorDataset(
        rgb=rng.integers(0, 256, (n, 3)),
        label=rng.integers(0, 9, n),
        contributor=np.array([f"c{i % people}" for i in range(n)], dtype=object),
        source="test",
    )


def chart_frames(at: AppTest) -> list[tuple[dict, pd.DataFrame]]:
    """Every Vega-Lite chart on the page: its spec and its data."""
    charts = []
    for chart in at.get("vega_lite_chart"):
        proto = chart.proto
        frame = dataframe_util.convert_arrow_bytes_to_pandas_df(proto.data.data)
        charts.append((json.loads(proto.spec), frame))
    return charts


def hex_to_rgb(values: pd.Series) -> np.ndarray:
    return np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in values])


# ---------------------------------------------------------------------------- decision map


def cell_colours(cells: pd.DataFrame, saturation: float) -> np.ndarray:
    hue = cells["x"].to_numpy(dtype=float) + 2.5
    lightness = cells["y"].to_numpy(dtype=float) + 1 / 48
    return colour.hsl_to_rgb(hue, np.full(len(hue), saturation), lightness)


def decision_map_page(predictor, dataset) -> None:
    from colorclf.app.tabs import decision_map as teaching_ui

    teaching_ui.render_decision_map(predictor, key="dm", overlay_dataset=dataset)


def test_decision_map_shows_what_the_predictor_says() -> None:
    predictor, dataset = random_predictor(1), random_dataset()
    at = AppTest.from_function(decision_map_page, args=(predictor, dataset))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert [h.value for h in at.subheader] == ["Decision map"]
    slider = at.slider(key="dm-saturation")
    assert slider.label == "Saturation" and slider.value == 100
    ((spec, frame),) = chart_frames(at)
    assert spec["layer"][0]["mark"]["type"] == "rect"
    cells = frame[frame["layer"] == "map"].reset_index(drop=True)
    assert len(cells) == 72 * 24
    # Each cell's label is the fast predictor's answer for the colour at the cell's centre
    # (the cell's corner plus half its size: 5° of hue, 1/24 of lightness).
    rgb = cell_colours(cells, 1.0)
    expected = [LABELS[i] for i in predictor.predict_labels(rgb)]
    assert cells["label"].tolist() == expected
    assert len(set(expected)) > 2
    assert (frame["layer"] == "data").sum() > 0

    slider.set_value(40).run(timeout=TIMEOUT)
    ((_, frame),) = chart_frames(at)
    cells = frame[frame["layer"] == "map"].reset_index(drop=True)
    slice_40 = decision_map.decision_map(predictor, 0.4)
    assert cells["label"].tolist() == slice_40["label"].tolist()
    assert cells["label"].tolist() == [
        LABELS[i] for i in predictor.predict_labels(cell_colours(cells, 0.4))
    ]

    at.checkbox(key="dm-overlay").uncheck().run(timeout=TIMEOUT)
    ((_, frame),) = chart_frames(at)
    assert (frame["layer"] == "data").sum() == 0


def test_decision_map_without_a_model() -> None:
    at = AppTest.from_function(decision_map_page, args=(None, None))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert not chart_frames(at)
    assert "Train a model" in at.info[0].value


# ---------------------------------------------------------------------------- confusion matrix


def confusion_page(predictor, dataset, val_index) -> None:
    from colorclf.app.tabs import confusion as teaching_ui

    teaching_ui.render_confusion_matrix(predictor, dataset, val_index)


def test_confusion_matrix_sums_to_the_validation_size() -> None:
    predictor, dataset = random_predictor(3), random_dataset(900)
    val_index = np.arange(5, 900, 7)
    at = AppTest.from_function(confusion_page, args=(predictor, dataset, val_index))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    ((spec, frame),) = chart_frames(at)
    assert spec["title"] == "Confusion matrix"
    assert len(frame) == 81
    assert frame["count"].sum() == len(val_index)
    predicted = predictor.predict_labels(dataset.rgb[val_index])
    truth = dataset.label[val_index]
    diagonal = frame[frame["true"] == frame["predicted"]]["count"].sum()
    assert diagonal == (predicted == truth).sum()
    accuracy = at.dataframe[0].value
    assert accuracy["colours"].sum() == len(val_index)
    assert accuracy["colours"].tolist() == np.bincount(truth, minlength=9).tolist()
    assert f"{len(val_index):,} validation colours" in at.caption[0].value


def test_confusion_matrix_with_nothing_to_show() -> None:
    at = AppTest.from_function(confusion_page, args=(random_predictor(3), random_dataset(), []))
    at.run(timeout=TIMEOUT)
    assert not at.exception and not chart_frames(at)
    assert at.info


# ---------------------------------------------------------------------------- run comparison


def make_runs(count: int) -> list[Run]:
    runs = []
    for number in range(1, count + 1):
        run = Run(number, Hyperparams(seed=number), "test", status="complete")
        for epoch in range(1, 4):
            run.rows.append(make_row("batch", step=epoch, epoch=epoch, batch=1, loss=9.0))
            run.rows.append(
                make_row(
                    "epoch",
                    step=epoch,
                    epoch=epoch,
                    batch=1,
                    loss=number + 1 / epoch,
                    accuracy=0.5,
                    val_loss=number + 2 / epoch,
                    val_accuracy=0.4,
                    seconds=1.0,
                )
            )
        runs.append(run)
    return runs


def runs_page(runs) -> None:
    from colorclf.app.tabs import runs as teaching_ui

    teaching_ui.render_run_comparison(runs, key="rc")


def test_run_comparison_overlays_the_chosen_runs() -> None:
    runs = make_runs(4)
    at = AppTest.from_function(runs_page, args=(runs,))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert at.dataframe[0].value["run"].tolist() == ["Run 1", "Run 2", "Run 3", "Run 4"]
    chooser = at.multiselect(key="rc-runs")
    assert chooser.value == ["Run 2", "Run 3", "Run 4"]
    ((spec, frame),) = chart_frames(at)
    # The legend says what differs between the chosen runs (here their seeds).
    assert set(frame["run"]) == {"Run 2 · seed 2", "Run 3 · seed 3", "Run 4 · seed 4"}
    assert set(frame["set"]) == {"training", "validation"}
    assert 9.0 not in frame["value"].tolist()  # epoch rows only
    run2 = frame[(frame["run"] == "Run 2 · seed 2") & (frame["set"] == "validation")]
    assert run2["value"].tolist() == pytest.approx([2 + 2 / e for e in (1, 2, 3)])
    buttons = at.get("download_button")
    assert [b.label for b in buttons] == ["Download history CSV"] * 3

    chooser.set_value(["Run 1"]).run(timeout=TIMEOUT)
    ((_, frame),) = chart_frames(at)
    assert set(frame["run"]) == {"Run 1"}  # alone, nothing differs
    assert len(at.get("download_button")) == 1

    at.radio(key="rc-metric").set_value("Accuracy").run(timeout=TIMEOUT)
    ((spec, frame),) = chart_frames(at)
    assert set(frame["value"]) == {0.5, 0.4}
    assert spec["title"] == "Accuracy per epoch"


def test_run_comparison_without_runs() -> None:
    at = AppTest.from_function(runs_page, args=([],))
    at.run(timeout=TIMEOUT)
    assert not at.exception and at.info and not chart_frames(at)


# ---------------------------------------------------------------------------- explorer


def explorer_page(dataset) -> None:
    import streamlit as st

    from colorclf.app.tabs import explorer as teaching_ui

    cleaned = teaching_ui.render_explorer(dataset, key="ex")
    st.session_state["rows"] = len(cleaned)
    st.session_state["people"] = sorted(set(cleaned.contributor.tolist()))


def dropped_caption(at: AppTest) -> str:
    shown = (rendered(c.value) for c in at.caption)
    return next(text for text in shown if re.match(r"\d+ rows? dropped", text))


def test_explorer_cleaning_counts() -> None:
    dataset = random_dataset(1200, seed=5)
    n = len(dataset)
    at = AppTest.from_function(explorer_page, args=(dataset,))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert at.session_state["rows"] == n
    assert dropped_caption(at) == "0 rows dropped."
    export = [b.label for b in at.get("download_button")]
    assert export == ["Export cleaned set (Coding Train JSON)"]
    bars = next(f for spec, f in chart_frames(at) if spec.get("title") == "Colours per label")
    assert bars["count"].tolist() == np.bincount(dataset.label, minlength=9).tolist()

    # Dropping a contributor drops exactly their rows.
    theirs = dataset.contributor == "c3"
    at.multiselect(key="ex-drop").select("c3").run(timeout=TIMEOUT)
    assert at.session_state["rows"] == n - theirs.sum()
    assert "c3" not in at.session_state["people"]
    assert dropped_caption(at) == f"{theirs.sum()} rows dropped: {theirs.sum()} from contributor c3"

    # A wrap-around hue range for red drops exactly the other reds (not c3's, counted already).
    at.selectbox(key="ex-label").set_value("red-ish").run(timeout=TIMEOUT)
    at.slider(key="ex-hue-red-ish").set_value((-30, 20)).run(timeout=TIMEOUT)
    hue, _, _ = colour.rgb_to_hsl(dataset.rgb)
    inside = (hue >= 330) | (hue <= 20)
    grey = dataset.rgb.min(axis=1) == dataset.rgb.max(axis=1)
    red = (dataset.label == LABELS.index("red-ish")) & ~theirs & ~inside & ~grey
    assert red.sum() > 0
    assert at.session_state["rows"] == n - theirs.sum() - red.sum()
    assert f"{red.sum()} outside hue range for red-ish" in dropped_caption(at)
    rules = at.session_state[TRAINING_KEY].cleaning_rules["ex"]
    assert rules.hue_ranges == {"red-ish": (330.0, 20.0)}
    tiles = next(frame for spec, frame in chart_frames(at) if "x2" in spec.get("encoding", {}))
    assert (~tiles["kept"]).sum() == (
        (dataset.label == LABELS.index("red-ish")) & (theirs | (~inside & ~grey))
    ).sum()

    # Rules persist while another label is shown, and its slider comes back with them.
    at.selectbox(key="ex-label").set_value("blue-ish").run(timeout=TIMEOUT)
    assert at.session_state["rows"] == n - theirs.sum() - red.sum()
    at.selectbox(key="ex-label").set_value("red-ish").run(timeout=TIMEOUT)
    assert at.slider(key="ex-hue-red-ish").value == (-30, 20)

    at.button(key="ex-reset").click().run(timeout=TIMEOUT)
    assert at.session_state["rows"] == n
    assert at.multiselect(key="ex-drop").value == []
    assert at.slider(key="ex-hue-red-ish").value == (0, 360)
    assert dropped_caption(at) == "0 rows dropped."


def test_reset_tells_the_browser_the_widgets_new_values() -> None:
    """A browser keeps showing a widget's last value, and sends it back at the next touch,
    unless the script run sends it a new one (``set_value``). AppTest reads widget values
    from the server's state, so this checks what the run sends: after Reset, the hue slider
    and the contributors box are told the full range and no one. (The browser test
    ``test_explorer_browser.py`` watches the same in Chromium.)"""
    dataset = random_dataset(600, seed=2)
    at = AppTest.from_function(explorer_page, args=(dataset,))
    at.run(timeout=TIMEOUT)
    at.multiselect(key="ex-drop").select("c1").run(timeout=TIMEOUT)
    at.slider(key="ex-hue-red-ish").set_value((10, 200)).run(timeout=TIMEOUT)
    assert at.session_state["rows"] < len(dataset)

    at.button(key="ex-reset").click().run(timeout=TIMEOUT)
    slider, drop = at.slider(key="ex-hue-red-ish"), at.multiselect(key="ex-drop")
    assert slider.proto.set_value and list(slider.proto.value) == [0, 360]
    assert drop.proto.set_value and list(drop.proto.raw_values) == []
    assert at.session_state["rows"] == len(dataset)
    assert dropped_caption(at) == "0 rows dropped."
    assert not at.warning  # no "default value and Session State" warning either

    # The next touch (another label and back) keeps the full data and the full range.
    at.selectbox(key="ex-label").set_value("blue-ish").run(timeout=TIMEOUT)
    at.selectbox(key="ex-label").set_value("red-ish").run(timeout=TIMEOUT)
    assert at.slider(key="ex-hue-red-ish").value == (0, 360)
    assert at.session_state["rows"] == len(dataset)


def test_typing_a_contributor_and_enter_cannot_select_every_match() -> None:
    """The contributors box offers no "Select N matches" (Enter would pick it: seven dropped
    for one typed name) and matches what is typed as a plain substring."""
    at = AppTest.from_function(explorer_page, args=(random_dataset(100, seed=1),))
    at.run(timeout=TIMEOUT)
    from streamlit.proto.SelectWidgetFilterMode_pb2 import SelectWidgetFilterMode

    proto = at.multiselect(key="ex-drop").proto
    assert proto.HasField("select_all") and proto.select_all == 0
    assert proto.filter_mode == SelectWidgetFilterMode.FILTER_MODE_CONTAINS


# ---------------------------------------------------------------------------- model files


def model_page(model) -> None:
    import streamlit as st

    from colorclf.app.tabs import model_files as teaching_ui

    got = teaching_ui.render_model_files(model, key="mf")
    st.session_state.setdefault("got", []).append(None if got is None else got.parameter_count)


@pytest.fixture(scope="module")
def model() -> object:
    from colorclf.train.model import build_model

    return build_model(Hyperparams(hidden_units=5, seed=2))


@pytest.fixture
def check_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The model-file checks' queue, held by the test until it releases it: a check waits
    in it, so the test sees what the page says meanwhile."""
    from colorclf.serve import modelcheck
    from colorclf.serve.gate import FairGate

    gate = FairGate(1)
    monkeypatch.setattr(modelcheck, "CHECK_GATE", gate)
    assert gate.acquire("test", lambda: False)
    yield gate


def finish_check(at: AppTest) -> None:
    """Wait for the upload's check (in a trainer process), then run the page again."""
    check = at.session_state[TRAINING_KEY].upload_checks["mf"].check
    assert check.wait(180), check.status()
    at.run(timeout=TIMEOUT)


def test_model_files(model, check_gate) -> None:
    from colorclf.train.model import predictor_from_model
    from colorclf.train.modelfile import model_to_bytes

    at = AppTest.from_function(model_page, args=(None,))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert not at.get("download_button")
    uploader = at.get("file_uploader")[0]
    assert uploader.label == "Upload a model (.keras)"

    good = model_to_bytes(model)
    at = AppTest.from_function(model_page, args=(good,))
    at.run(timeout=TIMEOUT)
    assert [b.label for b in at.get("download_button")] == ["Download model"]

    # While the file waits for a trainer process, the page says so (and returns nothing).
    at.get("file_uploader")[0].set_value(("mine.keras", good, "application/zip"))
    at.run(timeout=TIMEOUT)
    assert not at.exception and not at.error
    assert [rendered(i.value) for i in at.info] == [
        "Waiting to check mine.keras: place 1 in the queue…"
    ]
    assert at.session_state["got"][-1] is None
    check_gate.release()

    # A good upload comes back once, as the same weights, and its layers are shown.
    finish_check(at)
    assert not at.exception and not at.error and not at.info
    expected = predictor_from_model(model)
    assert at.session_state["got"][-1] == expected.parameter_count == model.count_params()
    uploaded = at.session_state[TRAINING_KEY].upload_checks["mf"].check.predictor
    probe = np.random.default_rng(0).integers(0, 256, (50, 3))
    np.testing.assert_allclose(
        uploaded.probabilities(probe), expected.probabilities(probe), atol=1e-7
    )
    assert [rendered(c.value) for c in at.caption] == [
        "mine.keras: 3 inputs → 5 sigmoid → 9 softmax · 74 parameters"
    ]
    at.run(timeout=TIMEOUT)
    assert at.session_state["got"][-1] is None

    # A bad one shows one error (and keeps showing it) and returns nothing.
    at.get("file_uploader")[0].set_value(("bad.keras", good[:300], "application/zip"))
    at.run(timeout=TIMEOUT)
    finish_check(at)
    assert len(at.error) == 1 and "bad.keras" in rendered(at.error[0].value)
    at.run(timeout=TIMEOUT)
    assert len(at.error) == 1
    assert at.session_state["got"][-2:] == [None, None]


def _check_progress_alone() -> None:
    """AppTest's script: one run of the upload check's fragment body as the browser's timer
    runs it (or inline in a page run, as the session says), then nothing: a second script
    run can only be the page run it asks for."""
    from types import SimpleNamespace

    import streamlit as st

    from colorclf.app.tabs import model_files as teaching_ui

    st.session_state["script_runs"] = st.session_state.get("script_runs", 0) + 1
    if st.session_state["script_runs"] == 1:
        teaching_ui._check_progress(SimpleNamespace(done=True))


@pytest.mark.parametrize("in_page_run, page_runs", [(False, 2), (True, 1)])
def test_a_check_timer_after_the_check_ended_draws_the_page_again(in_page_run, page_runs):
    """The page run that showed a check's answer can be lost (Streamlit drops a finished
    runner's queued messages when a fragment timer starts a new runner, as seen in the live
    panel): the fragment stays registered once the check is done, and a run of its own then
    asks for the page again. Inline in a page run it does not (a loop)."""
    at = AppTest.from_function(_check_progress_alone, default_timeout=TIMEOUT)
    at.session_state[TRAINING_KEY] = TrainingPageState(
        inline={CHECK_FRAGMENT} if in_page_run else set()
    )
    at.run()
    assert not at.exception and not at.info
    assert at.session_state["script_runs"] == page_runs


def switching_page(first, second) -> None:
    import streamlit as st

    from colorclf.app.tabs import explorer as teaching_ui

    dataset = second if st.session_state.get("switch") else first
    st.session_state["rows"] = len(teaching_ui.render_explorer(dataset, key="ex"))


def test_explorer_survives_a_new_data_set() -> None:
    first = random_dataset(300, seed=1)
    second = ColorDataset(first.rgb, first.label, np.array(["d1"] * 300, dtype=object))
    at = AppTest.from_function(switching_page, args=(first, second))
    at.run(timeout=TIMEOUT)
    at.multiselect(key="ex-drop").select("c3").run(timeout=TIMEOUT)
    assert at.session_state["rows"] == 250
    at.session_state["switch"] = True
    at.run(timeout=TIMEOUT)
    # The dropped contributor is not in the new data: nothing of it is dropped, nothing fails.
    assert not at.exception
    assert at.session_state["rows"] == 300
    assert at.multiselect(key="ex-drop").options == ["d1 (300)"]


def test_export_is_the_cleaned_set_in_coding_train_json() -> None:
    from colorclf.app.tabs import explorer as teaching_ui
    from colorclf.data.parse import parse_bytes

    dataset = random_dataset(200, seed=3)
    cleaned, _ = cleaning.clean(dataset, cleaning.CleaningRules(drop_contributors={"c1"}))
    data = teaching_ui._export_json(cleaned)
    assert set(json.loads(data)) == {"entries"}
    back = parse_bytes(data, "colorData-cleaned.json")
    assert len(back) == len(cleaned) < len(dataset)
    assert np.array_equal(back.rgb, cleaned.rgb)
    assert np.array_equal(back.label, cleaned.label)
    assert back.contributor.tolist() == cleaned.contributor.tolist()


MARKDOWN_NAMES = [
    "![x](https://evil.example/pixel.png)",
    "[Log in](https://evil.example/login)",
    ":red[**admin**]",
    "<img src=x>",
]


def test_contributor_names_and_the_source_show_as_text_when_dropped() -> None:
    """The teacher drops a contributor whose name is Markdown: every caption shows the name
    as typed (no image is loaded, no link is made)."""
    n = 40
    dataset = ColorDataset(
        rgb=np.full((n, 3), 100),
        label=np.arange(n) % 9,
        contributor=np.array([MARKDOWN_NAMES[i % 4] for i in range(n)], dtype=object),
        source="[votes](https://evil.example/x).json",
    )
    at = AppTest.from_function(explorer_page, args=(dataset,))
    at.run(timeout=TIMEOUT)
    at.multiselect(key="ex-drop").select(MARKDOWN_NAMES[0]).select(MARKDOWN_NAMES[1]).run(
        timeout=TIMEOUT
    )
    assert not at.exception
    shown = [rendered(c.value) for c in (*at.caption, *at.error, *at.warning, *at.info)]
    assert f"from contributor {MARKDOWN_NAMES[0]}" in dropped_caption(at)
    assert f"from contributor {MARKDOWN_NAMES[1]}" in dropped_caption(at)
    assert any("([votes](https://evil.example/x).json)" in text for text in shown)


# ---------------------------------------------------------------------------- network view


def network_page(predictor) -> None:
    from colorclf.app.tabs import network as teaching_ui

    teaching_ui.render_network(predictor, key="net")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def check_unit_maps(frame: pd.DataFrame, kernel, bias, saturation: float) -> None:
    """Every hidden unit's map: read each cell's hue and lightness off its place in the
    unit's frame, and compare its activation with sigmoid(rgb/255 · w + b) from the weights."""
    units = frame[frame["part"] == "unit"]
    cells = frame[frame["part"] == "cell"]
    assert len(units) == kernel.shape[1]
    for u, unit in enumerate(units.itertuples()):
        assert unit.unit == f"unit {u + 1}"
        mine = cells[cells["unit"] == unit.unit]
        assert len(mine) == 12 * 6
        hue_at = ((mine["x"] + mine["x2"]) / 2 - unit.x) / (unit.x2 - unit.x) * 360
        light_at = ((mine["y"] + mine["y2"]) / 2 - unit.y) / (unit.y2 - unit.y)
        hue = (np.floor(hue_at.to_numpy(dtype=float) / 30) + 0.5) * 30
        lightness = (np.floor(light_at.to_numpy(dtype=float) * 6) + 0.5) / 6
        rgb = colour.hsl_to_rgb(hue, np.full(len(hue), saturation), lightness)
        expected = _sigmoid(rgb / 255.0 @ kernel[:, u] + bias[u])
        np.testing.assert_allclose(mine["activation"].to_numpy(), expected, atol=1e-6)
        np.testing.assert_allclose(mine["response"].to_numpy(), 2 * expected - 1, atol=1e-6)


def test_network_view_draws_every_weight_and_each_units_map_from_the_weights() -> None:
    predictor = random_predictor(4)
    (w1, b1, _), (w2, _, _) = predictor.layers
    at = AppTest.from_function(network_page, args=(predictor,))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert [h.value for h in at.subheader] == ["Network"]
    ((spec, frame),) = chart_frames(at)
    assert spec["usermeta"]["embedOptions"]["renderer"] == "canvas"
    assert frame[frame["part"] == "input"]["name"].tolist() == ["R", "G", "B"]
    outputs = frame[frame["part"] == "output"]
    assert outputs["name"].tolist() == list(LABELS)
    from colorclf.core.labels import LABEL_COLORS

    assert outputs["color"].tolist() == [LABEL_COLORS[name] for name in LABELS]
    edges = frame[frame["part"] == "edge"]
    assert len(edges) == 3 * 8 + 8 * 9
    expected_weights = np.concatenate([w1.ravel(), w2.ravel()])
    np.testing.assert_allclose(edges["weight"].to_numpy(), expected_weights, rtol=1e-6)
    assert (edges["sign"] == np.where(expected_weights >= 0, "+", "−")).all()
    widths = edges["width"].to_numpy()
    biggest = np.argmax(np.abs(expected_weights))
    assert widths[biggest] == pytest.approx(widths.max()) and widths.min() > 0
    check_unit_maps(frame, w1, b1, 1.0)

    at.slider(key="net-saturation").set_value(30).run(timeout=TIMEOUT)
    ((_, frame),) = chart_frames(at)
    check_unit_maps(frame, w1, b1, 0.3)

    # Choosing a unit lists its incoming weights and what it pushes most, largest first.
    at.selectbox(key="net-unit").set_value("unit 3").run(timeout=TIMEOUT)
    incoming, outgoing = (df.value for df in at.dataframe)
    assert incoming["from"].tolist() == ["R", "G", "B", "bias"]
    np.testing.assert_allclose(incoming["weight"].to_numpy(), [*w1[:, 2], b1[2]])
    order = np.argsort(-np.abs(w2[2]))
    assert outgoing["to"].tolist() == [LABELS[i] for i in order]
    np.testing.assert_allclose(outgoing["weight"].to_numpy(), w2[2][order])
    unit_row = frame[(frame["part"] == "unit") & (frame["unit"] == "unit 3")].iloc[0]
    assert unit_row["pushes"].startswith(LABELS[order[0]])


def test_network_view_without_a_model() -> None:
    at = AppTest.from_function(network_page, args=(None,))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert not chart_frames(at)
    assert "Train a model" in at.info[0].value


# ---------------------------------------------------------------------------- crowd's ceiling


def crowd_dataset() -> ColorDataset:
    """Two near-identical pairs (one agreeing, one not) and two lonely colours."""
    return ColorDataset(
        rgb=np.array([[0, 0, 0], [1, 2, 3], [100, 100, 100], [101, 101, 101], [50, 200, 30],
                      [240, 10, 250]]),
        label=np.array([0, 1, 4, 4, 1, 6]),
        contributor=np.array(["a", "b", "c", "d", "e", "f"], dtype=object),
        source="test",
    )  # fmt: skip


def test_explorer_states_the_crowds_ceiling() -> None:
    at = AppTest.from_function(explorer_page, args=(crowd_dataset(),))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    (text,) = [c.value for c in at.caption if c.value.startswith("People disagree")]
    # 4 colours in 2 cubes; 1 of 2 pairs disagree; a perfect model gets 3 of 4.
    assert "4 colours share a cube" in text and "in 2 cubes" in text
    assert "different names in 50% of 2 pairs" in text and "at most 75.0%" in text


def runs_with_reference_page(runs, dataset) -> None:
    from colorclf.app.tabs import runs as teaching_ui
    from colorclf.views import ceiling

    reference = ceiling.reference_accuracy(dataset, 0.2, 0)
    teaching_ui.render_run_comparison(runs, key="rc", reference=(reference, "Run 2"))


def test_runs_table_has_the_nearest_neighbour_reference_line() -> None:
    from colorclf.views import ceiling

    dataset = random_dataset(400, seed=2)
    expected = ceiling.reference_accuracy(dataset, 0.2, 0).accuracy
    at = AppTest.from_function(runs_with_reference_page, args=(make_runs(2), dataset))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    table = at.dataframe[0].value
    assert table["run"].tolist() == ["Run 1", "Run 2", "Nearest-neighbour vote (k=21, reference)"]
    assert table["val_accuracy"].iloc[-1] == pytest.approx(expected)
    assert table["status"].iloc[-1] == "reference"
    assert any(
        f"{expected:.1%} of the 80 validation colours of Run 2" in c.value for c in at.caption
    )


def tfjs_page(predictor) -> None:
    from colorclf.app.tabs import model_files as teaching_ui

    teaching_ui.render_model_files(
        b"a .keras file", key="mf", file_name="m.keras", predictor=predictor
    )


def test_the_trained_model_downloads_for_tensorflow_js_too() -> None:
    rng = np.random.default_rng(0)
    predictor = Predictor(
        (
            (rng.normal(size=(3, 4)), rng.normal(size=4), "tanh"),
            (rng.normal(size=(4, 9)), rng.normal(size=9), "softmax"),
        )
    )
    at = AppTest.from_function(tfjs_page, args=(predictor,), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    buttons = [b.proto for b in at.get("download_button")]
    assert [b.label for b in buttons] == ["Download model", "Download for TensorFlow.js"]
    assert "0–1" in buttons[1].help and "docs/TFJS.md" in buttons[1].help
    # Without the weights (e.g. an older job), only the .keras file is offered.
    at = AppTest.from_function(tfjs_page, args=(None,), default_timeout=TIMEOUT).run()
    assert [b.proto.label for b in at.get("download_button")] == ["Download model"]
