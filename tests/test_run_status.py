"""One run status: its states and moves in one place, and no module naming them as text."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from colorclf.core.hyperparams import Hyperparams
from colorclf.core.runs import ACTIVE, MOVES, Run, RunStatus, StatusMoveError

PACKAGE = Path(__file__).resolve().parent.parent / "colorclf"


def fresh_run() -> Run:
    return Run(1, Hyperparams(), "test")


def walk_to(run: Run, *path: RunStatus) -> Run:
    for status in path:
        run.status = status
    return run


def test_every_status_has_its_moves_and_every_move_is_allowed() -> None:
    assert set(MOVES) == set(RunStatus)
    for start, targets in MOVES.items():
        for target in targets:
            run = Run(1, Hyperparams(), "test", status=start)
            run.status = target
            assert run.status is target


def test_a_move_not_in_the_table_is_refused() -> None:
    for start in RunStatus:
        for target in set(RunStatus) - MOVES[start] - {start}:
            run = Run(1, Hyperparams(), "test", status=start)
            with pytest.raises(StatusMoveError, match=f"from {start} to {target}"):
                run.status = target
            assert run.status is start  # unchanged


def test_a_lesson_walks_the_table() -> None:
    """Train, Stop, Resume, Step, a dead trainer and Resume again: every move allowed."""
    run = fresh_run()
    assert run.status is RunStatus.QUEUED and run.status in ACTIVE
    walk_to(run, RunStatus.TRAINING, RunStatus.STOPPED)  # Stop
    walk_to(run, RunStatus.QUEUED, RunStatus.TRAINING, RunStatus.COMPLETE)  # Resume
    walk_to(run, RunStatus.QUEUED, RunStatus.TRAINING, RunStatus.STOPPED)  # Step
    walk_to(run, RunStatus.QUEUED, RunStatus.TRAINING, RunStatus.FAILED)  # trainer died
    walk_to(run, RunStatus.QUEUED, RunStatus.TRAINING, RunStatus.COMPLETE)  # Resume
    assert run.status not in ACTIVE
    assert run.status == "complete"  # a str: shown and compared as its word


# The same word with another meaning: the curves of the training set (beside validation).
OTHER_MEANINGS = {("views/compare.py", "training")}


def test_no_module_names_a_run_status_as_text() -> None:
    words = {status.value for status in RunStatus}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "core" / "runs.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and node.value in words
                and (str(path.relative_to(PACKAGE)), node.value) not in OTHER_MEANINGS
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}")
    assert found == []
