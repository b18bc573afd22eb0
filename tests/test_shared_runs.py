"""Runs shared with the class, on real databases: SQLite always, PostgreSQL when
COLORCLF_TEST_PG_URL is set (the same fixtures as the vote store's tests)."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from colorclf.core.errors import ColorclfError
from colorclf.core.hyperparams import PRESETS, Hyperparams
from colorclf.store import RunBoard, SharedRun, ShareRefused, VoteStore, shared_run_from_epochs
from tests.test_store import HOSTILE_NAMES, FakeClock, engine_factory  # noqa: F401

MakeBoard = Callable[..., RunBoard]


def epochs(val_accuracy: list[float], *, base_loss: float = 1.0) -> list[dict[str, float]]:
    """Epoch rows as a run keeps them (``Run.epoch_rows()``)."""
    return [
        {
            "kind": "epoch",
            "epoch": i,
            "loss": base_loss - 0.1 * i,
            "val_loss": base_loss + 0.05 - 0.1 * i,
            "accuracy": acc - 0.02,
            "val_accuracy": acc,
            "seconds": 0.5 * (i + 1),
        }
        for i, acc in enumerate(val_accuracy)
    ]


def a_run(name: str = "ada", val_accuracy: list[float] | None = None, **hp: object) -> SharedRun:
    return shared_run_from_epochs(
        name, Hyperparams(**hp), "builtin", epochs(val_accuracy or [0.3, 0.5, 0.45])
    )


@pytest.fixture
def make_board(engine_factory: Callable[[], sa.Engine]) -> MakeBoard:  # noqa: F811
    shared = engine_factory()

    def make(*, own_engine: bool = False, **limits: object) -> RunBoard:
        engine = engine_factory() if own_engine else shared
        return RunBoard(VoteStore(engine), **limits)  # type: ignore[arg-type]

    return make


@pytest.fixture
def board(make_board: MakeBoard) -> RunBoard:
    """A board without limits."""
    return make_board(min_interval=0, max_per_contributor=0, max_runs=0)


def test_a_shared_run_reads_back_whole(board: RunBoard) -> None:
    hp = PRESETS["tuned"].replace(epochs=3, seed=7)
    run_id = board.share(
        shared_run_from_epochs("  Zoë  ", hp, "https://example.org/c.json", epochs([0.3, 0.6, 0.5]))
    )
    (back,) = board.runs()
    assert back.id == run_id
    assert back.contributor == "Zoë"
    assert back.hyperparams == hp
    assert back.data_source == "https://example.org/c.json"
    assert back.epochs == 3
    assert back.seconds == pytest.approx(1.5)
    assert back.curve["val_accuracy"] == pytest.approx([0.3, 0.6, 0.5])
    assert back.curve["loss"] == pytest.approx([1.0, 0.9, 0.8])
    assert back.metrics() == pytest.approx(
        {
            "final_val_accuracy": 0.5,
            "best_val_accuracy": 0.6,
            "final_val_loss": 0.85,
            "best_val_loss": 0.85,
        }
    )
    assert board.count() == 1
    # Only the tables we own: the votes' and the runs'.
    assert {"votes", "shared_runs"} <= set(sa.inspect(board.store.engine).get_table_names())


def test_runs_are_listed_best_first_and_diverged_runs_last(board: RunBoard) -> None:
    board.share(a_run("middle", [0.5, 0.6]))
    diverged = shared_run_from_epochs(
        "nan",
        Hyperparams(),
        "builtin",
        [{"loss": math.nan, "val_loss": math.inf, "accuracy": None, "val_accuracy": math.nan}],
    )
    board.share(diverged)
    board.share(a_run("best", [0.7, 0.9]))
    board.share(a_run("low", [0.2]))
    assert [run.contributor for run in board.runs()] == ["best", "middle", "low", "nan"]
    assert board.runs()[-1].metrics()["best_val_accuracy"] is None


def test_hostile_names_are_stored_verbatim(board: RunBoard) -> None:
    for name in HOSTILE_NAMES:
        board.share(a_run(name))
    assert sorted(run.contributor for run in board.runs()) == sorted(HOSTILE_NAMES)
    assert board.store.count() == 0  # the votes table is still there, untouched
    with board.store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM shared_runs")).scalar_one() == len(
            HOSTILE_NAMES
        )


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 41, None, 42], ids=["empty", "blank", "41", "none", "int"]
)
def test_bad_names_are_refused(board: RunBoard, name: object) -> None:
    with pytest.raises(ColorclfError):
        board.share(a_run(name))  # type: ignore[arg-type]
    assert board.count() == 0


def test_runs_without_epochs_or_with_ragged_curves_are_refused(board: RunBoard) -> None:
    with pytest.raises(ColorclfError, match="finished epochs"):
        board.share(shared_run_from_epochs("ada", Hyperparams(), "builtin", []))
    ragged = SharedRun("ada", Hyperparams(), "builtin", {"loss": [1.0], "val_loss": [1.0, 2.0]})
    with pytest.raises(ColorclfError, match="finished epochs"):
        board.share(ragged)
    assert board.count() == 0


def test_the_data_source_is_one_bounded_line(board: RunBoard) -> None:
    run = shared_run_from_epochs("ada", Hyperparams(), "a\nb\x00" + "c" * 500, epochs([0.5]))
    board.share(run)
    (back,) = board.runs()
    assert "\n" not in back.data_source and len(back.data_source) <= 200


def test_a_contributor_must_wait_between_shares(make_board: MakeBoard) -> None:
    clock = FakeClock()
    board = make_board(min_interval=5, max_per_contributor=0, max_runs=0, clock=clock)
    board.share(a_run("ada"))
    clock.advance(2)
    with pytest.raises(ShareRefused, match="try again in 3 s"):
        board.share(a_run("ada"))
    board.share(a_run("bob"))  # the limit is per contributor
    clock.advance(3)
    board.share(a_run("ada"))
    assert [run.contributor for run in board.runs()].count("ada") == 2


def test_at_most_max_per_contributor_runs(make_board: MakeBoard) -> None:
    board = make_board(min_interval=0, max_per_contributor=3, max_runs=0)
    for _ in range(3):
        board.share(a_run("ada"))
    with pytest.raises(ShareRefused, match="shared 3 runs"):
        board.share(a_run("ada"))
    board.share(a_run("bob"))
    ada_run = next(run for run in board.runs() if run.contributor == "ada")
    assert board.remove(ada_run.id) == 1  # the teacher removes one: room for another
    board.share(a_run("ada"))
    assert board.count() == 4


def test_a_full_board_refuses_until_cleared(make_board: MakeBoard) -> None:
    board = make_board(min_interval=0, max_per_contributor=0, max_runs=2)
    board.share(a_run("a"))
    board.share(a_run("b"))
    with pytest.raises(ShareRefused, match="board is full"):
        board.share(a_run("c"))
    assert board.clear() == 2
    board.share(a_run("c"))
    assert [run.contributor for run in board.runs()] == ["c"]


def test_remove_and_clear_return_counts(board: RunBoard) -> None:
    ids = [board.share(a_run(f"kid-{i}")) for i in range(3)]
    assert board.remove(ids[1]) == 1
    assert board.remove(ids[1]) == 0
    assert sorted(run.id for run in board.runs()) == [ids[0], ids[2]]
    assert board.clear() == 2
    assert board.runs() == []


def test_30_threads_sharing_at_once_store_every_run_once(make_board: MakeBoard) -> None:
    board = make_board()  # the default limits: one share each is well inside them
    barrier = threading.Barrier(30)
    errors: list[BaseException] = []

    def share(i: int) -> None:
        try:
            barrier.wait()
            board.share(a_run(f"kid-{i}", [0.01 * i, 0.02 * i]))
        except BaseException as err:
            errors.append(err)

    workers = [threading.Thread(target=share, args=(i,)) for i in range(30)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    runs = board.runs()
    assert sorted(run.contributor for run in runs) == sorted(f"kid-{i}" for i in range(30))
    assert [run.contributor for run in runs][:2] == ["kid-29", "kid-28"]


def test_one_contributors_burst_across_two_engines_passes_the_limit_once(
    make_board: MakeBoard,
) -> None:
    """Two engines stand for two replicas: the database decides."""
    clock = FakeClock()
    a = make_board(min_interval=60, clock=clock)
    b = make_board(own_engine=True, min_interval=60, clock=clock)
    sqlite = a.store.engine.dialect.name == "sqlite"
    if sqlite:  # a real second process would not share this process's write lock
        b.store._sqlite_lock = threading.Lock()
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def share(board: RunBoard) -> None:
        barrier.wait()
        try:
            board.share(a_run("masher"))
            outcomes.append("stored")
        except ShareRefused:
            outcomes.append("refused")

    workers = [threading.Thread(target=share, args=(a if i % 2 else b,)) for i in range(10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == ["refused"] * 9 + ["stored"]
    assert a.count() == 1


def test_the_curve_is_json_text_of_a_few_numbers(board: RunBoard) -> None:
    board.share(a_run("ada", [0.1] * 200))
    with board.store.engine.connect() as conn:
        text = conn.execute(sa.text("SELECT curve FROM shared_runs")).scalar_one()
    curve = json.loads(text)
    assert set(curve) == {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert all(len(values) == 200 for values in curve.values())
