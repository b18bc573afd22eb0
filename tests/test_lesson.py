"""The training page through AppTest, as a teacher prepares a lesson (issue 14): what trains is
what the page says, the words on the page, small data sets, and the downloads' names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from colorclf.app.state import TRAINING_KEY
from colorclf.core.hyperparams import PRESETS
from colorclf.data.sources import SourceKind
from colorclf.store import VoteStore
from tests.conftest import open_tab, rendered
from tests.test_app import (
    find_chart,
    link_app,
    new_app,
    preset_box,
    set_epochs,
    wait_for_job,
)


def data_summary(at: AppTest) -> str:
    """The data summary above Train ("5,600 colours from 148 contributors · …"), as shown
    (bold marks and Markdown escapes removed)."""
    (text,) = [
        re.sub(r"\\(.)", r"\1", c.value.replace("**", ""))
        for c in at.caption
        if re.match(r"\*\*[\d,]+\*\* colours? from", c.value)
    ]
    return text


def dropped_caption(at: AppTest) -> str:
    (text,) = [c.value for c in at.caption if re.match(r"[\d,]+ rows? dropped", c.value)]
    return rendered(text)


def test_train_trains_on_exactly_what_the_explorer_and_the_summary_say():
    at = new_app()
    set_epochs(at, 1)
    open_tab(at, "Data explorer")
    at.multiselect(key="explorer-drop").select("synthetic-007").run()
    shown = dropped_caption(at)
    match = re.fullmatch(r"(\d+) rows? dropped: \1 from contributor synthetic-007", shown)
    assert match, shown
    dropped = int(match.group(1))
    kept = 5600 - dropped
    assert data_summary(at).startswith(f"{kept:,} colours from 147 contributors · ")
    # The explorer is drawn only while its tab is open; closed, its rules still decide.
    open_tab(at, "Decision map")
    assert data_summary(at).startswith(f"{kept:,} colours from 147 contributors · ")
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    assert len(job.dataset) == kept
    assert "synthetic-007" not in set(job.dataset.contributor.tolist())
    assert job.run.data_source in data_summary(at)

    open_tab(at, "Data explorer")
    assert at.multiselect(key="explorer-drop").value == ["synthetic-007"]
    at.button(key="explorer-reset").click().run()
    assert dropped_caption(at) == "0 rows dropped."
    assert at.multiselect(key="explorer-drop").value == []
    assert data_summary(at).startswith("5,600 colours from 148 contributors · ")
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    assert len(job.dataset) == 5600
    assert "cleaned" not in job.run.data_source


def test_ten_votes_from_one_phone_get_a_clear_warning_by_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    url = f"sqlite:///{tmp_path / 'votes.sqlite'}"
    monkeypatch.setenv("COLORCLF_DB_URL", url)
    store = VoteStore(sa.create_engine(url), min_interval=0, max_per_minute=0)
    names = ("red-ish", "green-ish", "blue-ish")
    for i in range(10):
        store.add_vote(25 * i, 255 - 25 * i, 40, names[i % 3], "phone")
    store.engine.dispose()
    at = new_app()
    assert not at.warning  # the built-in set is big enough
    at.radio(key="source").set_value(SourceKind.VOTES).run()
    assert not at.exception
    assert data_summary(at).startswith("10 colours from 1 contributor · votes")
    (warning,) = [rendered(w.value) for w in at.warning]
    assert warning.startswith("Too little data to train meaningfully: only 10 colours")
    assert "a validation set of 3 colours, so one colour moves the validation accuracy by 33" in (
        warning
    )
    # The warning follows the validation split (4, 3 and 3 votes per label: 2 + 2 + 2 held out).
    at.number_input(key="hp_val_split").set_value(0.5).run()
    (warning,) = [rendered(w.value) for w in at.warning]
    assert "a validation set of 6 colours" in warning


def test_the_summary_and_the_explorer_say_one_contributor_and_one_row_skipped():
    rows = "".join(
        f"{i},{255 - i},{i // 2},{'red-ish' if i % 2 else 'blue-ish'},solo\n" for i in range(150)
    )
    content = ("r,g,b,label,uid\n" + rows + "1,2,3,teal-ish,solo\n").encode()
    at = new_app()
    at.radio(key="source").set_value(SourceKind.UPLOAD).run()
    next(u for u in at.get("file_uploader") if u.key == "upload").set_value(
        ("mine.csv", content, "text/csv")
    )
    open_tab(at, "Data explorer")
    assert not at.exception
    summary = data_summary(at)
    assert summary.startswith("150 colours from 1 contributor · mine.csv · 1 row skipped (")
    assert any(c.value.startswith("150 colours from 1 contributor ") for c in at.caption), (
        "the explorer's caption"
    )


def test_after_a_link_with_seed_7_the_summary_names_no_other_seed():
    """The built-in set's generator seed is fixed (0); the link's seed is the training's. The
    summary used to say "builtin (seed 0)" under a Seed of 7."""
    at = link_app(seed="7", epochs="1")
    assert at.number_input(key="hp_seed").value == 7
    summary = data_summary(at)
    assert summary == "5,600 colours from 148 contributors · built-in synthetic set"
    assert "seed" not in summary
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state[TRAINING_KEY].job
    assert job.hp.seed == 7 and job.run.data_source == "built-in synthetic set"


def test_the_preset_box_says_custom_once_a_setting_differs():
    at = new_app()
    assert preset_box(at).value == "coding-train"
    assert at.query_params["preset"] == "coding-train"
    set_epochs(at, 12)
    assert preset_box(at).value == "custom"
    assert "preset" not in at.query_params  # the link carries every setting, no preset name
    assert at.query_params["epochs"] == "12"
    set_epochs(at, 10)  # back to the tutorial's settings: its name again
    assert preset_box(at).value == "coding-train"
    preset_box(at).select("tuned").run()
    assert preset_box(at).value == "tuned"
    assert at.number_input(key="hp_epochs").value == 30
    at.number_input(key="hp_learning_rate").set_value(0.05).run()
    assert preset_box(at).value == "custom"
    assert at.number_input(key="hp_epochs").value == 30  # custom keeps the settings
    assert not at.exception and not at.warning


def test_presets_chosen_one_after_another_each_take_effect():
    at = new_app()
    for name in ("tuned", "coding-train", "tuned", "coding-train"):
        preset_box(at).select(name).run()
        assert preset_box(at).value == name
        assert at.number_input(key="hp_epochs").value == PRESETS[name].epochs
        assert at.number_input(key="hp_hidden_units").value == PRESETS[name].hidden_units
    assert not at.exception


def test_a_link_with_a_preset_and_a_change_opens_as_custom():
    at = link_app(preset="tuned", epochs="5")
    assert preset_box(at).value == "custom"
    assert at.number_input(key="hp_epochs").value == 5
    assert at.number_input(key="hp_hidden_units").value == 64  # the rest is tuned's
    assert not at.warning


def test_downloads_are_named_after_the_run_and_its_preset(download_names: list[str]):
    names = download_names
    at = new_app()
    open_tab(at, "Data explorer")
    assert "colorData-5600-colours.json" in names  # the explorer's export, nothing cleaned
    at.button(key="train").click().run()  # the tutorial's settings
    wait_for_job(at)
    set_epochs(at, 1)
    at.button(key="train").click().run()  # custom settings
    wait_for_job(at)
    names.clear()
    open_tab(at, "Runs")  # the Runs tab's downloads are drawn while it is open
    assert not at.exception
    assert "colorclf-run2-custom.keras" in names
    assert "colorclf-run2-custom-tfjs.zip" in names  # the same model for TensorFlow.js
    assert "colorclf-run1-coding-train-history.csv" in names
    at.multiselect(key="runs-runs").set_value(["Run 1", "Run 2"]).run()
    assert "colorclf-run2-custom-history.csv" in names
    open_tab(at, "Data explorer")
    at.multiselect(key="explorer-drop").select("synthetic-001").run()
    assert "colorData-5583-colours-cleaned.json" in names


def test_a_new_run_joins_the_comparison_and_a_run_taken_out_stays_out():
    at = new_app()
    set_epochs(at, 1)
    for _ in range(2):
        at.button(key="train").click().run()
        wait_for_job(at)
    open_tab(at, "Runs")
    assert at.multiselect(key="runs-runs").value == ["Run 1", "Run 2"]
    at.multiselect(key="runs-runs").unselect("Run 1").run()
    at.radio(key="runs-metric").set_value("Accuracy").run()
    open_tab(at, "Decision map")  # the choices outlive the tab being closed
    at.number_input(key="hp_learning_rate").set_value(1.0).run()
    at.button(key="train").click().run()
    wait_for_job(at)
    open_tab(at, "Runs")
    assert at.multiselect(key="runs-runs").value == ["Run 2", "Run 3"]
    assert at.radio(key="runs-metric").value == "Accuracy"
    _, curves = find_chart(at, "set")  # the Runs tab's curves: the legend names what differs
    assert set(curves.column("run").to_pylist()) == {
        "Run 2 · learning rate 0.25",
        "Run 3 · learning rate 1",
    }
    shared = [c.value for c in at.caption if c.value.startswith("All runs:")]
    assert len(shared) == 1 and "epochs 1" in shared[0] and "learning rate" not in shared[0]
    assert not at.exception
