"""The teaching views' data: decision map, confusion matrix, explorer, cleaning (no Streamlit)."""

from __future__ import annotations

import colorsys
from fractions import Fraction

import altair as alt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colorclf.core import colour
from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import ColorclfError
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.labels import LABEL_COLORS, LABELS
from colorclf.core.predict import Predictor
from colorclf.core.rows import make_row
from colorclf.core.runs import Run
from colorclf.views import cleaning, compare, decision_map, explorer, matrix


def random_predictor(seed: int = 0, hidden: int = 8) -> Predictor:
    rng = np.random.default_rng(seed)
    return Predictor(
        (
            (rng.normal(size=(3, hidden)) * 4, rng.normal(size=hidden), "sigmoid"),
            (rng.normal(size=(hidden, 9)) * 4, rng.normal(size=9), "softmax"),
        )
    )


def random_dataset(n: int = 400, seed: int = 0, people: int = 7) -> ColorDataset:
    """Random colours (on a coarse 0, 15, …, 255 grid, so greys and exact edge hues occur)."""
    rng = np.random.default_rng(seed)
    return ColorDataset(
        rgb=rng.integers(0, 18, (n, 3)) * 15,
        label=rng.integers(0, 9, n),
        contributor=np.array([f"c{i % people}" for i in range(n)], dtype=object),
        source="test",
    )


def exact_hue(r: int, g: int, b: int) -> Fraction:
    """Hue in degrees, exactly (textbook hexagon formula in fractions; 0 for greys)."""
    high, low = max(r, g, b), min(r, g, b)
    if high == low:
        return Fraction(0)
    c = high - low
    if high == r:
        hue = Fraction(60 * (g - b), c) % 360
    elif high == g:
        hue = Fraction(60 * (b - r), c) + 120
    else:
        hue = Fraction(60 * (r - g), c) + 240
    return hue


def reference_hue(rgb: np.ndarray) -> list[Fraction]:
    return [exact_hue(*map(int, c)) for c in rgb]


def reference_rgb(hue: float, saturation: float, lightness: float) -> list[int]:
    return [round(c * 255) for c in colorsys.hls_to_rgb(hue / 360.0, lightness, saturation)]


def validate(spec: dict) -> None:
    """Raise when ``spec`` is not valid Vega-Lite (Altair's schema)."""
    full = {**spec, "data": {"values": []}}
    if "layer" in full:
        alt.LayerChart.from_dict(full, validate=True)
    else:
        alt.Chart.from_dict(full, validate=True)


# ---------------------------------------------------------------------------- colour geometry


@settings(deadline=None)  # the machine may be busy; timing is not the point
@given(
    st.floats(0, 359.99),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_hsl_to_rgb_agrees_with_colorsys(hue: float, saturation: float, lightness: float) -> None:
    ours = colour.hsl_to_rgb(np.array([hue]), np.array([saturation]), np.array([lightness]))
    assert np.abs(ours[0] - reference_rgb(hue, saturation, lightness)).max() <= 1


def test_rgb_to_hsl_agrees_with_colorsys() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (500, 3))
    hue, saturation, lightness = colour.rgb_to_hsl(rgb)
    ref = np.array([colorsys.rgb_to_hls(*(c / 255.0)) for c in rgb])
    assert np.allclose(hue, ref[:, 0] * 360.0, atol=1e-9)
    exact = reference_hue(rgb)
    assert np.allclose(hue, [float(h) for h in exact], atol=1e-12)
    whole = [i for i, h in enumerate(exact) if h.denominator == 1]
    assert whole and all(hue[i] == exact[i] for i in whole)  # rule edges are exact
    assert np.allclose(lightness, ref[:, 1])
    assert np.allclose(saturation, ref[:, 2])


# ---------------------------------------------------------------------------- decision map


class CountingPredictor:
    def __init__(self, inner: Predictor) -> None:
        self.inner = inner
        self.calls = 0

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.inner.probabilities(rgb)


@pytest.mark.parametrize("saturation", [1.0, 0.4, 0.0])
def test_decision_map_cells_are_what_the_predictor_says(saturation: float) -> None:
    predictor = random_predictor(3)
    counting = CountingPredictor(predictor)
    cells = decision_map.decision_map(counting, saturation, hue_steps=36, lightness_steps=12)
    assert counting.calls == 1
    assert len(cells) == 36 * 12
    assert {"hue", "lightness", "r", "g", "b", "label", "color", "probability"} <= set(cells)
    # Every grid centre once.
    assert sorted(set(cells["hue"])) == pytest.approx([(i + 0.5) * 10 for i in range(36)])
    assert sorted(set(cells["lightness"])) == pytest.approx([(j + 0.5) / 12 for j in range(12)])
    for row in cells.sample(60, random_state=0).itertuples():
        rgb = reference_rgb(row.hue, saturation, row.lightness)
        assert np.abs(np.array([row.r, row.g, row.b]) - rgb).max() <= 1
        label, probs = predictor.predict_one(row.r, row.g, row.b)
        assert row.label == label
        assert row.color == LABEL_COLORS[label]
        assert row.probability == pytest.approx(probs[label])


def test_decision_map_changes_with_saturation() -> None:
    grey = decision_map.decision_map(random_predictor(3), 0.0)
    vivid = decision_map.decision_map(random_predictor(3), 1.0)
    assert (grey["r"] == grey["g"]).all() and (grey["g"] == grey["b"]).all()
    assert not (vivid["r"] == vivid["g"]).all()


def test_decision_map_spec_is_fixed_and_maps_labels_to_their_colours() -> None:
    spec = decision_map.decision_map_spec()
    assert spec == decision_map.decision_map_spec()
    spec["layer"][0]["mark"]["type"] = "changed"  # a copy: the next one is untouched
    spec = decision_map.decision_map_spec()
    cells, points = spec["layer"]
    assert cells["mark"]["type"] == "rect" and points["mark"]["type"] == "point"
    for layer in (cells, points):
        scale = layer["encoding"]["color"]["scale"]
        assert scale["domain"] == list(LABELS)
        assert scale["range"] == [LABEL_COLORS[name] for name in LABELS]
    assert (cells["encoding"]["x"]["field"], cells["encoding"]["x2"]["field"]) == ("x", "x2")
    assert (cells["encoding"]["y"]["field"], cells["encoding"]["y2"]["field"]) == ("y", "y2")
    # The cell's far corner is computed in the browser from the grid's size.
    assert {"calculate": "datum.x + 5.0", "as": "x2"} in cells["transform"]
    assert {"calculate": f"datum.y + {1 / 24}", "as": "y2"} in cells["transform"]
    validate(spec)


def test_overlay_keeps_colours_near_the_slice_and_is_stable() -> None:
    dataset = random_dataset(3000)
    overlay = decision_map.overlay_frame(dataset, 0.5, window=0.1, max_points=200)
    assert 0 < len(overlay) <= 200
    assert overlay.equals(decision_map.overlay_frame(dataset, 0.5, window=0.1, max_points=200))
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in overlay["rgb"]])
    saturation = np.array([colorsys.rgb_to_hls(*(c / 255.0))[2] for c in rgb])
    assert (np.abs(saturation - 0.5) <= 0.1 + 1e-9).all()
    assert np.allclose(overlay["hue"], [float(h) for h in reference_hue(rgb)], atol=1e-9)
    predictor = random_predictor()
    frame = decision_map.decision_map_frame(predictor, 0.5, overlay)
    assert (frame["layer"] == "data").sum() == len(overlay)
    points = frame[frame["layer"] == "data"]
    assert points["label"].tolist() == overlay["label"].tolist()
    np.testing.assert_allclose(points["x"], overlay["hue"], rtol=1e-6)
    np.testing.assert_allclose(points["y"], overlay["lightness"], rtol=1e-6)
    assert points["rgb"].tolist() == overlay["rgb"].tolist()
    cells = frame[frame["layer"] == "map"]
    reference = decision_map.decision_map(predictor, 0.5)
    assert len(cells) == 72 * 24
    assert cells["label"].tolist() == reference["label"].tolist()
    np.testing.assert_allclose(cells["x"], reference["hue_start"], rtol=1e-6)
    np.testing.assert_allclose(cells["y"], reference["lightness_start"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(cells["probability"], reference["probability"], rtol=1e-6)
    assert cells["rgb"].isna().all()  # the cells' colour is their place: not sent
    assert set(decision_map.decision_map_frame(predictor, 0.5)["layer"]) == {"map"}


def test_decision_map_keeps_what_the_weights_do_not_change() -> None:
    """An epoch's redraw rebuilds only the labels and probabilities: the geometry and the
    overlay's columns are built once per grid and overlay, and the cache stays bounded."""
    dataset = random_dataset(1000)
    overlay = decision_map.overlay_frame(dataset, 0.5)
    first = decision_map.decision_map_table(random_predictor(1), 0.5, overlay)
    second = decision_map.decision_map_table(random_predictor(2), 0.5, overlay)
    for name in ("layer", "x", "y", "rgb"):
        assert first.column(name).equals(second.column(name))
    grid = decision_map.grid_cells(0.5, decision_map.HUE_STEPS, decision_map.LIGHTNESS_STEPS)
    kept = decision_map._fixed_columns(grid, overlay)
    assert decision_map._fixed_columns(grid, overlay) is kept
    assert decision_map._fixed_columns(grid, overlay.copy()) is not kept  # another overlay
    for _ in range(2 * decision_map._FIXED_MOST):
        decision_map._fixed_columns(grid, overlay.copy())
    assert len(decision_map._FIXED) <= decision_map._FIXED_MOST
    # The labels did change with the weights, and the points kept their true labels.
    assert not first.column("label").equals(second.column("label"))
    frame = second.to_pandas()
    assert frame[frame["layer"] == "data"]["label"].tolist() == overlay["label"].tolist()


# ---------------------------------------------------------------------------- confusion matrix


def test_confusion_matrix_counts_every_pair() -> None:
    predictor = random_predictor(5)
    dataset = random_dataset(500, seed=2)
    index = np.arange(0, 500, 4)
    confusion = matrix.confusion_matrix(predictor, dataset.rgb[index], dataset.label[index])
    assert len(confusion) == 81
    assert confusion["count"].sum() == len(index)
    predicted = predictor.predict_labels(dataset.rgb[index])
    for true, pred in [(0, 0), (1, 2), (5, 5), (8, 1)]:
        expected = int(((dataset.label[index] == true) & (predicted == pred)).sum())
        cell = confusion[
            (confusion["true"] == LABELS[true]) & (confusion["predicted"] == LABELS[pred])
        ]
        assert int(cell["count"].iloc[0]) == expected
    # Names work as well as indices.
    by_name = matrix.confusion_matrix(
        predictor, dataset.rgb[index], [LABELS[i] for i in dataset.label[index]]
    )
    assert by_name["count"].tolist() == confusion["count"].tolist()


def test_per_class_accuracy() -> None:
    predictor = random_predictor(5)
    dataset = random_dataset(500, seed=2)
    confusion = matrix.confusion_matrix(predictor, dataset.rgb, dataset.label)
    accuracy = matrix.per_class_accuracy(confusion)
    predicted = predictor.predict_labels(dataset.rgb)
    assert accuracy["label"].tolist() == list(LABELS)
    for k, row in enumerate(accuracy.itertuples()):
        rows = dataset.label == k
        assert row.colours == rows.sum()
        assert row.accuracy == pytest.approx((predicted[rows] == k).mean())
    assert accuracy["correct"].sum() == (predicted == dataset.label).sum()


def test_confusion_matrix_spec_is_a_labelled_heatmap() -> None:
    spec = matrix.confusion_matrix_spec()
    assert spec["title"] == "Confusion matrix"
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rect", "text"]
    assert spec["layer"][1]["encoding"]["text"]["field"] == "count"
    validate(spec)


# ---------------------------------------------------------------------------- runs


def make_run(number: int, losses: list[float | None]) -> Run:
    run = Run(number, Hyperparams(seed=number), "test")
    for epoch, loss in enumerate(losses, start=1):
        run.rows.append(make_row("batch", step=epoch, epoch=epoch, batch=1, loss=99.0, seconds=0))
        run.rows.append(
            make_row(
                "epoch",
                step=epoch,
                epoch=epoch,
                batch=1,
                loss=loss,
                accuracy=0.5,
                val_loss=0.5 if loss else None,
                val_accuracy=0.4,
                seconds=1.0,
            )
        )
    return run


def test_run_curves_use_epoch_rows_only() -> None:
    runs = [make_run(1, [2.0, 1.0]), make_run(2, [3.0, None, 1.5])]
    curves = compare.run_curves(runs)
    assert 99.0 not in curves["value"].tolist()
    training = curves[curves["set"] == "training"]
    # The legend names what differs between the runs: here only the seed.
    assert training[training["run"] == "Run 1 · seed 1"]["value"].tolist() == [2.0, 1.0]
    assert training[training["run"] == "Run 2 · seed 2"]["epoch"].tolist() == [1, 3]
    assert len(curves[curves["set"] == "validation"]) == 4
    accuracy = compare.run_curves(runs, "Accuracy")
    assert set(accuracy["value"]) == {0.5, 0.4}
    validate(compare.run_curves_spec("Loss"))


def test_run_labels_name_only_the_settings_that_differ() -> None:
    one = Run(1, Hyperparams(learning_rate=0.25), "built-in synthetic set")
    two = Run(2, Hyperparams(learning_rate=2.0, hidden_units=64), "built-in synthetic set")
    three = Run(3, Hyperparams(learning_rate=0.25), "votes")
    assert compare.run_labels([one, two]) == {
        "Run 1": "Run 1 · learning rate 0.25 · hidden units 16",
        "Run 2": "Run 2 · learning rate 2 · hidden units 64",
    }
    assert compare.run_labels([one, three]) == {
        "Run 1": "Run 1 · built-in synthetic set",
        "Run 3": "Run 3 · votes",
    }
    assert compare.run_labels([one]) == {"Run 1": "Run 1"}
    assert compare.run_labels([one, Run(4, Hyperparams(learning_rate=0.25), one.data_source)]) == {
        "Run 1": "Run 1",
        "Run 4": "Run 4",
    }


def test_the_runs_table_has_columns_only_for_settings_that_differ() -> None:
    runs = [
        Run(1, Hyperparams(epochs=10), "built-in synthetic set"),
        Run(2, Hyperparams(epochs=30), "built-in synthetic set"),
    ]
    table = compare.run_table([run.summary() for run in runs], runs)
    assert list(table.columns) == ["run", "status", "epochs", *compare.RESULT_COLUMNS]
    assert table["epochs"].tolist() == [10, 30]
    shared = compare.shared_settings(runs)
    assert shared.startswith("built-in synthetic set · batch size 32 · ")
    assert "epochs" not in shared and "learning rate 0.25" in shared


# ---------------------------------------------------------------------------- explorer


def test_label_and_contributor_counts() -> None:
    dataset = random_dataset(300, people=7)
    labels = explorer.label_counts(dataset)
    assert labels["label"].tolist() == list(LABELS)
    assert labels["count"].tolist() == np.bincount(dataset.label, minlength=9).tolist()
    assert labels["color"].tolist() == [LABEL_COLORS[n] for n in LABELS]
    people = explorer.contributor_counts(dataset)
    expected = pd.Series(dataset.contributor).value_counts()
    assert dict(zip(people["contributor"], people["colours"], strict=True)) == expected.to_dict()
    assert people["colours"].is_monotonic_decreasing
    first = people.iloc[0]
    mine = dataset.label[dataset.contributor == first["contributor"]]
    assert first["top label"] == LABELS[np.bincount(mine, minlength=9).argmax()]


def test_mosaic_holds_every_colour_of_the_label_once() -> None:
    dataset = random_dataset(600)
    tiles = explorer.mosaic(dataset, "blue-ish", columns=10)
    rows = np.flatnonzero(dataset.label == LABELS.index("blue-ish"))
    assert sorted(tiles["row_index"]) == rows.tolist()
    assert (tiles["col"] == np.arange(len(tiles)) % 10).all()
    assert (tiles["row"] == np.arange(len(tiles)) // 10).all()
    assert tiles["kept"].all()
    validate(explorer.mosaic_spec(len(tiles), columns=10))


def test_mosaic_keeps_reds_on_both_sides_of_zero_together() -> None:
    hues = [350, 180, 5, 355, 10, 0]
    rgb = colour.hsl_to_rgb(np.array(hues, float), np.ones(6), np.full(6, 0.5))
    dataset = ColorDataset(rgb, np.zeros(6, int), np.array(["a"] * 6, dtype=object))
    order = explorer.mosaic(dataset, "red-ish")["hue"].round().tolist()
    assert order[0] == 180 or order[-1] == 180
    reds = [h for h in order if h != 180]
    assert reds == [350, 355, 0, 5, 10]


# ---------------------------------------------------------------------------- cleaning


def test_dropping_a_contributor_drops_exactly_their_rows() -> None:
    dataset = random_dataset(350, people=7)
    rules = cleaning.CleaningRules(drop_contributors=frozenset({"c3"}))
    cleaned, report = cleaning.clean(dataset, rules)
    theirs = dataset.contributor == "c3"
    assert len(cleaned) == len(dataset) - theirs.sum()
    assert "c3" not in set(cleaned.contributor)
    assert np.array_equal(cleaned.rgb, dataset.rgb[~theirs])
    assert report == {"from contributor c3": int(theirs.sum())}


@pytest.mark.parametrize("hue_range", [(60, 180), (330, 20)])
def test_hue_range_drops_exactly_the_rows_outside(hue_range: tuple[int, int]) -> None:
    dataset = random_dataset(2000, seed=4)
    label = "green-ish" if hue_range == (60, 180) else "red-ish"
    rules = cleaning.CleaningRules(hue_ranges={label: hue_range})
    cleaned, report = cleaning.clean(dataset, rules)
    hue = np.array(reference_hue(dataset.rgb), dtype=object)
    low, high = hue_range
    inside = (hue >= low) & (hue <= high) if low <= high else (hue >= low) | (hue <= high)
    grey = dataset.rgb.min(axis=1) == dataset.rgb.max(axis=1)  # no hue: never dropped
    drop = (dataset.label == LABELS.index(label)) & ~inside & ~grey
    assert 0 < drop.sum() < (dataset.label == LABELS.index(label)).sum()
    assert np.array_equal(cleaned.rgb, dataset.rgb[~drop])
    assert report == {f"outside hue range for {label}": int(drop.sum())}
    if low > high:  # the wrap-around keeps both sides of 0°
        kept = reference_hue(cleaned.rgb[cleaned.label == LABELS.index(label)])
        assert any(h >= 330 for h in kept) and any(h <= 20 for h in kept)


def test_hue_rule_edges_and_greys() -> None:
    rgb = np.array([[255, 85, 0], [255, 0, 85], [128, 128, 128], [0, 255, 0]])  # 20°, 340°
    dataset = ColorDataset(rgb, np.zeros(4, int), np.array(list("abcd"), dtype=object))
    cleaned, report = cleaning.clean(dataset, cleaning.CleaningRules({"red-ish": (330, 20)}))
    # 20° is inside, the pure grey has no hue and stays, the green goes.
    assert cleaned.rgb.tolist() == rgb[:3].tolist()
    assert report == {"outside hue range for red-ish": 1}


def test_a_row_counts_once_and_caption_says_why() -> None:
    rgb = np.array([[0, 255, 0], [0, 255, 0], [255, 0, 0]])
    dataset = ColorDataset(rgb, np.zeros(3, int), np.array(["x", "y", "x"], dtype=object))
    rules = cleaning.CleaningRules({"red-ish": (330, 20)}, frozenset({"x"}))
    cleaned, report = cleaning.clean(dataset, rules)
    assert len(cleaned) == 0
    assert report == {"from contributor x": 2, "outside hue range for red-ish": 1}
    assert cleaning.cleaning_caption(report) == (
        "3 rows dropped: 2 from contributor x, 1 outside hue range for red-ish"
    )
    assert "cleaned" in cleaned.source


def test_no_rule_returns_the_same_data_set() -> None:
    dataset = random_dataset(50)
    cleaned, report = cleaning.clean(dataset, cleaning.CleaningRules())
    assert cleaned is dataset and report == {}
    assert cleaning.cleaning_caption(report) == "0 rows dropped."


def test_one_dropped_row_is_one_row() -> None:
    dataset = ColorDataset(
        np.array([[0, 255, 0], [255, 0, 0]]), np.zeros(2, int), np.array(["x", "y"], dtype=object)
    )
    cleaned, report = cleaning.clean(dataset, cleaning.CleaningRules(drop_contributors={"x"}))
    assert cleaning.cleaning_caption(report) == "1 row dropped: 1 from contributor x"
    assert cleaned.source.endswith("cleaned (-1 row)")
    assert cleaning.cleaning_caption({"from contributor y": 1234}) == (
        "1,234 rows dropped: 1,234 from contributor y"
    )


def test_cleaning_rules_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        cleaning.CleaningRules({"teal-ish": (0, 10)})
    with pytest.raises(ValueError):
        cleaning.CleaningRules({"red-ish": (-5, 10)})


@settings(deadline=None)  # the machine may be busy; timing is not the point
@given(st.integers(-180, 360), st.integers(-180, 360))
def test_hue_slider_round_trip(a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    hue_range = cleaning.hue_range_from_slider(low, high)
    if high - low >= 360:
        assert hue_range is None
        return
    assert hue_range is not None
    assert all(0 <= v <= 360 for v in hue_range)
    # The slider's span keeps exactly the hues the rule keeps.
    for hue in range(0, 360, 7):
        on_slider = any(low <= h <= high for h in (hue - 360, hue, hue + 360))
        assert bool(cleaning.hue_in_range(np.array([hue]), *hue_range)[0]) == on_slider
    back = cleaning.hue_range_to_slider(hue_range)
    assert cleaning.hue_range_from_slider(*back) == hue_range


# ---------------------------------------------------------------------------- network view


def test_network_frame_of_a_deeper_relu_model_and_a_valid_spec() -> None:
    import altair as alt

    from colorclf.core.predict import Predictor
    from colorclf.views import network

    rng = np.random.default_rng(9)
    predictor = Predictor(
        (
            (rng.normal(size=(3, 4)), rng.normal(size=4), "relu"),
            (rng.normal(size=(4, 5)), rng.normal(size=5), "tanh"),
            (rng.normal(size=(5, 9)), rng.normal(size=9), "softmax"),
        )
    )
    frame = network.network_frame(predictor, 0.5)
    units = frame[frame["part"] == "unit"]["unit"].tolist()
    assert units == [f"unit 1.{u}" for u in range(1, 5)] + [f"unit 2.{u}" for u in range(1, 6)]
    assert (frame["part"] == "edge").sum() == 3 * 4 + 4 * 5 + 5 * 9
    cells = frame[frame["part"] == "cell"]
    for name in units[:4]:  # relu: each unit's largest activation on the grid is 100 %
        unit = cells[cells["unit"] == name]
        assert unit["response"].min() >= 0
        assert unit["response"].max() == pytest.approx(1.0) or unit["activation"].max() == 0
    for name in units[4:]:  # tanh: its own range, −1…1
        unit = cells[cells["unit"] == name]
        np.testing.assert_allclose(unit["response"], unit["activation"])
    incoming, outgoing = network.unit_detail(predictor, 1, 2)
    assert incoming["from"].tolist() == ["unit 1.1", "unit 1.2", "unit 1.3", "unit 1.4", "bias"]
    assert sorted(outgoing["to"]) == sorted(LABELS)
    alt.LayerChart.from_dict(network.network_spec(3, network.network_height(predictor)))


@pytest.mark.parametrize(
    ("text", "rgb"),
    [
        ("128, 128, 128", (128, 128, 128)),
        (" 128 128 128 ", (128, 128, 128)),
        ("0;255;7", (0, 255, 7)),
        ("#808080", (128, 128, 128)),
        ("808080", (128, 128, 128)),
        ("#FF8000", (255, 128, 0)),
        ("#f80", (255, 136, 0)),
    ],
)
def test_an_exact_colour_is_three_numbers_or_a_hex_code(text: str, rgb: tuple) -> None:
    assert colour.parse_colour(text) == rgb


@pytest.mark.parametrize(
    "text",
    ["", "128", "1, 2", "1, 2, 3, 4", "256, 0, 0", "-1, 0, 0", "#12345g", "f80", "red",
     "١٢٣, 1, 1", "1e2, 0, 0", "9" * 5000, "**1**, 2, 3"],
)  # fmt: skip
def test_anything_else_is_one_plain_message(text: str) -> None:
    with pytest.raises(ColorclfError) as caught:
        colour.parse_colour(text)
    message = str(caught.value)
    assert "\n" not in message and 0 < len(message) < 120
    assert message.startswith(("Type three numbers", "Each of red"))


def test_the_decision_map_summary_counts_only_the_cells() -> None:
    from colorclf.views import summaries

    dataset = random_dataset(3000)
    predictor = random_predictor()
    overlay = decision_map.overlay_frame(dataset, 0.5, window=0.1, max_points=200)
    table = decision_map.decision_map_table(predictor, 0.5, overlay)
    cells = decision_map.decision_map_frame(predictor, 0.5, overlay).query("layer == 'map'")
    shares = cells["label"].value_counts(normalize=True)
    unsure = (cells["probability"] < 0.5).mean()
    summary = summaries.decision_map_summary(table)
    top = shares.index[0]  # the points' labels never count
    assert summary.startswith(f"Decision map: most colours are called {top} {shares[top]:.0%}")
    assert summary.endswith(f"unsure on {unsure:.0%} of them.")
