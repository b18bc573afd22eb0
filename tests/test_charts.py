"""The live loss chart's data: bounded, averaged honestly, the same however it is fed, on an
axis in epochs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from colorclf.core.rows import make_row
from colorclf.views import chart_data, charts


def batch_rows(n: int, *, start: int = 1, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        make_row("batch", step=step, epoch=1, batch=step, loss=float(loss), accuracy=float(acc))
        for step, loss, acc in zip(
            range(start, start + n), rng.uniform(0.1, 3.0, n), rng.uniform(0, 1, n), strict=True
        )
    ]


def epoch_row(epoch: int, step: int, val: float | None = 0.5) -> dict:
    return make_row(
        "epoch",
        step=step,
        epoch=epoch,
        batch=10,
        loss=1.0 / epoch,
        accuracy=0.5,
        val_loss=val,
        val_accuracy=None if val is None else 0.6,
    )


def sent(data: chart_data.LiveChartData):
    """What the page sends (the Arrow table), as a pandas frame for easy filtering."""
    return data.table().to_pandas()


def series(frame, name: str, batches_per_epoch: int = 1):
    """(global steps, values) of one series; the table holds epochs = step / batches."""
    part = frame[frame["series"] == name]
    steps = np.rint(part["epoch"].to_numpy(dtype=np.float64) * batches_per_epoch)
    return steps, part["value"].to_numpy()


def test_a_short_history_is_sent_whole():
    rows = batch_rows(50)
    data = chart_data.LiveChartData(1)
    assert data.update(rows)
    steps, values = series(sent(data), "batch loss")
    assert steps.tolist() == list(range(1, 51))
    np.testing.assert_allclose(values, [r["loss"] for r in rows], rtol=1e-6)
    assert not data.update(rows)  # nothing new


def test_a_long_history_is_bounded_and_its_buckets_are_true_means():
    n = 100_000
    rows = batch_rows(n) + [epoch_row(e, e * 100) for e in range(1, 1001)]
    data = chart_data.LiveChartData(1)
    data.update(rows)
    frame = sent(data)
    assert len(frame) <= 3 * chart_data.MAX_BATCH_POINTS + 2 * chart_data.MAX_EPOCH_POINTS
    steps, values = series(frame, "batch loss")
    assert chart_data.MAX_BATCH_POINTS // 2 <= len(steps) <= chart_data.MAX_BATCH_POINTS
    assert steps[-1] == n  # the line reaches the newest batch
    # Independent check: equal-size buckets from the start; each point is its bucket's mean.
    size = int(steps[0])
    losses = np.array([r["loss"] for r in rows[:n]])
    for k, (step, value) in enumerate(zip(steps, values, strict=True)):
        bucket = losses[k * size : min((k + 1) * size, n)]
        assert step == min((k + 1) * size, n)
        assert value == pytest.approx(bucket.mean(), rel=1e-5)
    epoch_steps, _ = series(frame, "val loss")
    assert len(epoch_steps) <= chart_data.MAX_EPOCH_POINTS + 1
    assert epoch_steps[-1] == 100_000  # the newest epoch is always kept


def test_feeding_rows_in_pieces_gives_the_same_frame_as_all_at_once():
    rows = [*batch_rows(5000), epoch_row(1, 5000), *batch_rows(3000, start=5001, seed=1)]
    whole = chart_data.LiveChartData(100)
    whole.update(rows)
    pieces = chart_data.LiveChartData(100)
    for end in range(0, len(rows) + 1, 37):
        pieces.update(rows[:end])
    pieces.update(rows)
    left, right = sent(whole), sent(pieces)
    assert left["series"].tolist() == right["series"].tolist()
    np.testing.assert_array_equal(left["epoch"].to_numpy(), right["epoch"].to_numpy())
    np.testing.assert_array_equal(left["value"].to_numpy(), right["value"].to_numpy())


def test_missing_validation_values_are_left_out():
    data = chart_data.LiveChartData(10)
    data.update([*batch_rows(10), epoch_row(1, 10, val=None)])
    frame = sent(data)
    assert set(frame["series"]) == {"batch loss", "loss", "accuracy"}
    assert np.isfinite(frame["value"].to_numpy()).all()


def test_the_spec_is_fixed_carries_no_data_and_draws_on_a_canvas():
    spec = charts.loss_chart_spec()
    assert charts.loss_chart_spec() is spec  # built once
    text = json.dumps(spec)
    assert "datasets" not in spec and '"data"' not in text  # no inline data anywhere
    assert spec["usermeta"]["embedOptions"]["renderer"] == "canvas"
    fields = {"epoch", "series", "value"}
    assert all(f'"field": "{field}"' in text for field in fields)


def test_the_arrow_table_the_page_sends_has_the_chart_fields():
    data = chart_data.LiveChartData(3_000)
    data.update([*batch_rows(3_000), epoch_row(1, 3_000), epoch_row(2, 3_000, val=None)])
    table = data.table()
    assert table.column_names == ["epoch", "series", "value"]
    assert str(table.schema.field("series").type).startswith("dictionary<values=string")
    assert set(table.column("series").to_pylist()) <= set(chart_data.SERIES)
    assert np.isfinite(table.column("value").to_numpy()).all()


def test_the_axis_is_in_epochs_and_validation_points_sit_on_whole_epochs():
    data = chart_data.LiveChartData(25)
    rows = []
    for epoch in (1, 2):
        rows += batch_rows(25, start=(epoch - 1) * 25 + 1, seed=epoch)
        rows.append(epoch_row(epoch, epoch * 25))
    data.update(rows)
    frame = sent(data)
    batches = frame[frame["series"] == "batch loss"]["epoch"].to_numpy()
    assert batches[0] == pytest.approx(1 / 25) and batches[-1] == pytest.approx(2.0)
    assert frame[frame["series"] == "val loss"]["epoch"].tolist() == [1.0, 2.0]


def test_the_smoothed_line_is_a_start_corrected_moving_average_of_the_batches():
    rows = batch_rows(100)  # under MAX_BATCH_POINTS: sent unthinned
    assert len(rows) <= chart_data.MAX_BATCH_POINTS
    data = chart_data.LiveChartData(100)  # smoothing over a tenth of an epoch: 10 batches
    data.update(rows)
    frame = sent(data)
    _, smoothed = series(frame, "loss", 100)
    # Independent reference: weights w**k over the batches so far, normalised.
    weight = np.exp(-1 / 10)
    losses = np.array([row["loss"] for row in rows])
    k = np.arange(len(losses))[::-1]
    expected_last = float((weight**k * losses).sum() / (weight**k).sum())
    assert smoothed[-1] == pytest.approx(expected_last, rel=1e-5)
    assert smoothed.std() < losses.std() / 2  # quieter than the batches it follows


def test_two_panels_share_one_epoch_axis_and_keep_accuracy_between_0_and_1():
    spec = charts.loss_chart_spec()
    panels = spec["layer"][:2]  # the third: the pointer's tooltip and rule
    assert [panel["encoding"]["y"]["title"] for panel in panels] == ["loss", "accuracy"]
    assert panels[1]["encoding"]["y"]["scale"]["domain"] == [0, 1]
    # One x encoding for the whole chart, which every layer inherits: one epoch axis.
    assert spec["encoding"]["x"]["field"] == "epoch"
    assert spec["encoding"]["x"]["axis"]["orient"] == "bottom"
    assert not any("x" in layer.get("encoding", {}) for layer in spec["layer"])


def test_the_best_epoch_is_marked_at_its_validation_loss():
    rows = [epoch_row(1, 10, 0.9), epoch_row(2, 20, 0.4), epoch_row(3, 30, 0.6)]
    data = chart_data.LiveChartData(10)
    data.update(rows[:1])
    assert series(sent(data), "best epoch", 10)[0].tolist() == [10]
    data.update(rows)
    steps, values = series(sent(data), "best epoch", 10)
    assert steps.tolist() == [20]
    np.testing.assert_allclose(values, [0.4], rtol=1e-6)
    # An equal loss later is no improvement (Keras' rule); no validation: no marker.
    data.update([*rows, epoch_row(4, 40, 0.4)])
    assert series(sent(data), "best epoch", 10)[0].tolist() == [20]
    empty = chart_data.LiveChartData(10)
    empty.update([epoch_row(1, 10, None)])
    assert len(series(sent(empty), "best epoch")[0]) == 0
    spec = json.dumps(charts.loss_chart_spec())
    assert '"best epoch"' in spec and '"diamond"' in spec


def test_the_pointer_picks_the_nearest_batch_along_x_and_dashes_tell_validation_apart():
    spec = charts.loss_chart_spec()
    text = json.dumps(spec)
    hover = next(param for param in spec["params"] if param["name"] == charts.HOVER)
    assert hover["select"]["nearest"] is True and hover["select"]["fields"] == ["epoch"]
    pointer = spec["layer"][2]  # the tooltip's points and the rule, over the transforms they share
    points, rule = pointer["layer"]
    assert "y" not in points["encoding"]  # nearest along x alone: anywhere up the plot
    assert {"filter": {"param": charts.HOVER, "empty": False}} in rule["transform"]
    assert "transform" not in points and len(json.dumps(pointer["transform"])) > 1000
    # The series' colours and dashes are the whole chart's; the pointer, with no series, draws
    # in its own colour rather than the series scale's (it adds nothing to the legend).
    assert spec["encoding"]["color"]["field"] == spec["encoding"]["strokeDash"]["field"] == "series"
    assert pointer["encoding"]["color"] == {"value": charts.HOVER_COLOR}
    assert "value" in pointer["encoding"]["strokeDash"]
    titles = [tip["title"] for tip in points["encoding"]["tooltip"]]
    assert titles[0] == "epoch" and "val loss" in titles and "batch loss" in titles
    dashes = dict(zip(chart_data.SERIES, charts.SERIES_DASHES, strict=True))
    assert dashes["val loss"] != dashes["loss"] and dashes["val accuracy"] != dashes["accuracy"]
    assert '"strokeDash"' in text and spec["description"] == charts.DESCRIPTION
