"""The class board (/class), Share with the class and ``python -m colorclf runs``: AppTest on a
temporary SQLite database, the command line through a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from colorclf.core.hyperparams import PRESETS, Hyperparams
from colorclf.core.links import read_link
from colorclf.core.rows import make_row
from colorclf.core.runs import Run
from colorclf.store import RunBoard, VoteStore, shared_run_from_epochs
from tests import test_label_page
from tests.test_shared_runs import epochs
from tests.test_teaching_ui import chart_frames

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30
PASSWORD = "owl-42 on the board"
db_url = test_label_page.db_url  # the fixture: the page's own SQLite file, no password
HOSTILE = "<b>**x**</b> [x](javascript:alert(1))"


def _board_page() -> None:
    from colorclf.app.board import render

    render()


@pytest.fixture
def board(db_url: str) -> Iterator[RunBoard]:
    """The page's database, written directly (no limits)."""
    engine = sa.create_engine(db_url)
    yield RunBoard(VoteStore(engine), min_interval=0, max_per_contributor=0, max_runs=0)
    engine.dispose()


def share(board: RunBoard, name: str, accuracy: list[float], hp: Hyperparams | None = None) -> int:
    run = shared_run_from_epochs(
        name, hp or Hyperparams(epochs=len(accuracy)), "builtin", epochs(accuracy)
    )
    return board.share(run)


def _app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_function(_board_page, default_timeout=TIMEOUT)
    at.secrets["unrelated"] = "x"  # never a developer's secrets.toml
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def _metric(at: AppTest, label: str) -> int:
    return int(next(m for m in at.metric if m.label == label).value)


def test_an_empty_board_says_how_to_fill_it(db_url: str) -> None:
    at = _app()
    assert not at.exception
    assert _metric(at, "Shared runs") == 0
    assert any("No runs shared yet" in info.value for info in at.info)


def test_the_table_is_best_first_with_a_link_that_opens_the_run_in_train(
    board: RunBoard,
) -> None:
    tuned = PRESETS["tuned"].replace(epochs=2, seed=5)
    share(board, "middle", [0.4, 0.6])
    share(board, "best", [0.5, 0.9], tuned)
    share(board, HOSTILE, [0.1, 0.2])
    VoteStore(board.store.engine, min_interval=0).add_vote(1, 2, 3, "red-ish", "ada")
    at = _app()
    assert not at.exception
    assert (_metric(at, "Shared runs"), _metric(at, "Class votes")) == (3, 1)
    table = at.dataframe[0].value
    assert table["name"].tolist() == ["best", "middle", HOSTILE]  # names verbatim, as cells
    assert table["best val accuracy"].tolist() == pytest.approx([0.9, 0.6, 0.2])
    link = table["open"].iloc[0]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    config = read_link(query)
    assert config.hyperparams == tuned and config.data == "builtin" and not config.notices
    # Nothing a student typed is rendered as Markdown anywhere on the page.
    assert all(HOSTILE not in md.value for md in at.markdown)


def test_the_chart_overlays_the_best_ten_or_the_picked_runs(board: RunBoard) -> None:
    ids = [share(board, f"kid-{i}", [0.02 * i, 0.04 * i]) for i in range(12)]
    at = _app()
    ((spec, frame),) = chart_frames(at)
    assert frame["run"].nunique() == 10  # never more than ten drawn at once
    assert set(frame["run"]) == {f"#{rank} kid-{11 - rank + 1}" for rank in range(1, 11)}
    assert spec["title"]["text"] == "Validation accuracy per epoch"
    assert frame.loc[frame["run"] == "#1 kid-11", "value"].tolist() == pytest.approx([0.22, 0.44])

    picker = at.multiselect(key="board_pick")
    assert picker.max_selections == 10
    picker.set_value([ids[0], ids[3]]).run()
    ((spec, frame),) = chart_frames(at)
    assert set(frame["run"]) == {"#12 kid-0", "#9 kid-3"}
    at.radio(key="board_metric").set_value("Loss").run()
    ((spec, frame),) = chart_frames(at)
    assert spec["title"]["text"] == "Validation loss per epoch"
    assert frame.loc[frame["run"] == "#9 kid-3", "value"].tolist() == pytest.approx([1.05, 0.95])


def test_the_board_shows_runs_shared_after_it_opened(board: RunBoard) -> None:
    share(board, "early", [0.5])
    at = _app()
    assert at.dataframe[0].value["name"].tolist() == ["early"]
    share(board, "late", [0.7])
    at.run()  # what the fragment's run_every does every few seconds in a browser
    assert at.dataframe[0].value["name"].tolist() == ["late", "early"]


def test_projector_mode_has_large_lines_and_no_controls(board: RunBoard) -> None:
    for i in range(12):
        share(board, f"kid-{i}", [0.05 * i])
    share(board, HOSTILE, [0.99])
    at = _app({"projector": "1"})
    assert not at.exception
    assert at.toggle(key="board_projector").value is True
    assert not at.multiselect and not at.radio and not at.dataframe and not at.text_input
    assert not at.expander  # no teacher tools on the projector
    lines = [t.value for t in at.text]
    assert len(lines) == 10 and lines[0].startswith("#1") and HOSTILE in lines[0]
    ((spec, frame),) = chart_frames(at)
    assert spec["config"]["axis"]["labelFontSize"] >= 20
    assert frame["run"].nunique() == 10
    at.toggle(key="board_projector").set_value(False).run()
    assert at.dataframe and at.multiselect


def test_teacher_tools_are_disabled_without_a_password(board: RunBoard) -> None:
    share(board, "ada", [0.5])
    at = _app()
    assert any("Teacher tools are disabled" in info.value for info in at.info)
    assert not at.button


def test_teacher_removes_one_run_and_clears_the_board(
    board: RunBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLORCLF_TEACHER_PASSWORD", PASSWORD)
    keep = share(board, "keep", [0.9])
    gone = share(board, "gone", [0.5])
    at = _app()
    password = at.text_input(key="board_teacher_password")
    password.set_value("wrong").run()
    assert any(e.value == "Wrong password." for e in at.error)
    assert not at.button
    assert board.count() == 2

    at.text_input(key="board_teacher_password").set_value(PASSWORD).run()
    at.selectbox(key="board_remove_id").set_value(gone).run()
    at.button(key="board_remove").click().run()
    assert any(s.value == "Removed one run." for s in at.success)
    assert [run.id for run in board.runs()] == [keep]
    assert at.dataframe[0].value["name"].tolist() == ["keep"]

    at.button(key="board_clear").click().run()  # not confirmed
    assert any("Type CLEAR" in e.value for e in at.error)
    assert board.count() == 1
    at.text_input(key="board_clear_confirm").set_value("CLEAR").run()
    at.button(key="board_clear").click().run()
    assert any("deleted 1 run." in s.value for s in at.success)
    assert board.count() == 0
    assert _metric(at, "Shared runs") == 0


def test_a_broken_database_is_one_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("COLORCLF_DB_URL", f"sqlite:///{tmp_path / 'file' / 'votes.sqlite'}")
    at = _app()
    assert not at.exception
    assert len(at.error) >= 1 and all("\n" not in e.value for e in at.error)


# ---------------------------------------------------------------------------- sharing


def _finished_run(number: int, status: str = "complete", epochs_done: int = 3) -> Run:
    run = Run(
        number=number,
        hyperparams=Hyperparams(epochs=3, seed=number),
        data_source="builtin",
        status=status,
    )
    for i in range(epochs_done):
        run.rows.append(make_row("batch", epoch=i, loss=9.0))
        run.rows.append(
            make_row(
                "epoch",
                epoch=i,
                loss=1.0 - 0.1 * i,
                val_loss=1.1 - 0.1 * i,
                accuracy=0.3 + 0.1 * i,
                val_accuracy=0.25 + 0.1 * i,
                seconds=1.0 + i,
            )
        )
    return run


def _share_page(runs) -> None:  # no annotation: AppTest runs this source alone
    from colorclf.app.share import share_panel

    share_panel(runs)


def _share_app(runs: list[Run]) -> AppTest:
    at = AppTest.from_function(_share_page, args=(runs,), default_timeout=TIMEOUT)
    at.secrets["unrelated"] = "x"
    return at.run()


def test_share_with_the_class_stores_the_epoch_curve(board: RunBoard) -> None:
    runs = [_finished_run(1), _finished_run(2, "stopped", 2), _finished_run(3, "training", 1)]
    at = _share_app(runs)
    chooser = at.selectbox(key="share_run")
    assert chooser.options == ["Run 1", "Run 2"]  # a run still training cannot be shared
    assert chooser.value == 2
    assert at.text[0].value.startswith("Sharing as: anon-")
    at.text_input(key="share_name").set_value(f"  {HOSTILE}  ").run()
    at.button(key="share_button").click().run()
    assert any("Run 2 is on the class board" in s.value for s in at.success)
    assert f"Shared as: {HOSTILE}" in [t.value for t in at.text]
    (stored,) = board.runs()
    assert stored.contributor == HOSTILE
    assert stored.hyperparams == Hyperparams(epochs=3, seed=2)
    assert stored.epochs == 2  # epoch rows only, never the batch rows
    assert stored.curve["val_accuracy"] == pytest.approx([0.25, 0.35])
    assert stored.seconds == pytest.approx(2.0)

    at.button(key="share_button").click().run()  # the same run twice
    assert any("already on the class board" in w.value for w in at.warning)
    assert board.count() == 1


def test_sharing_too_fast_is_a_warning_not_a_second_run(board: RunBoard) -> None:
    at = _share_app([_finished_run(1), _finished_run(2)])
    at.button(key="share_button").click().run()
    at.selectbox(key="share_run").set_value(1).run()
    at.button(key="share_button").click().run()  # within the 5 s between two shares
    assert any(w.value.startswith("Not shared: you shared a run just now") for w in at.warning)
    assert board.count() == 1


def test_nothing_to_share_before_a_run_finishes(db_url: str) -> None:
    at = _share_app([_finished_run(1, "training", 0)])
    assert not at.button
    assert any("When a run finishes" in c.value for c in at.caption)


# ---------------------------------------------------------------------------- command line


def _cli(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLORCLF_DB_URL": db}
    return subprocess.run(
        [sys.executable, "-m", "colorclf", "runs", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_runs_on_the_command_line(board: RunBoard, db_url: str) -> None:
    empty = _cli(db=db_url)
    assert empty.returncode == 0 and empty.stdout.startswith("no shared runs yet")
    share(board, "second", [0.4, 0.6])
    tuned = PRESETS["tuned"].replace(epochs=2)
    share(board, "first", [0.8, 0.7], tuned)
    text = _cli(db=db_url)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("2 shared runs in SQLite")
    settings = f"adam lr {tuned.learning_rate:g}, {tuned.hidden_units} {tuned.activation}"
    assert f"first / {settings}" in lines[2] and "0.800" in lines[2]
    assert "second" in lines[3]
    as_json = _cli("--json", db=db_url)
    payload = json.loads(as_json.stdout)
    assert [r["name"] for r in payload["runs"]] == ["first", "second"]
    first = payload["runs"][0]
    assert first["best_val_accuracy"] == pytest.approx(0.8)
    assert first["final_val_accuracy"] == pytest.approx(0.7)
    assert first["hyperparams"]["optimizer"] == "adam"
    assert first["curve"]["val_accuracy"] == pytest.approx([0.8, 0.7])


def test_runs_with_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = _cli(db=f"sqlite:///{tmp_path / 'file' / 'votes.sqlite'}")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("colorclf: error:")
    assert "Traceback" not in result.stderr
