"""The loss stream: rows checked against an independent batch-by-batch reference run."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from colorclf.core.dataset import ColorDataset, stratified_split  # noqa: E402
from colorclf.core.hyperparams import Hyperparams  # noqa: E402
from colorclf.core.rows import ROW_KEYS, Progress, batches_per_epoch, epoch_order  # noqa: E402
from colorclf.train.loop import train  # noqa: E402
from colorclf.train.model import build_model, make_optimizer  # noqa: E402

# 200 colours, 10 % held out → 180 training rows → batches of 32: five full and one of 20,
# so a size-weighted mean differs from a plain mean of the batch rows.
HP = Hyperparams(epochs=2, batch_size=32, val_split=0.1, seed=3)


def small_dataset(n: int = 200, seed: int = 0) -> ColorDataset:
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, size=(n, 3))
    # A learnable rule (the brightest channel picks red/green/blue), with some noise labels.
    label = np.argmax(rgb, axis=1)
    noisy = rng.random(n) < 0.3
    label[noisy] = rng.integers(0, 9, size=int(noisy.sum()))
    return ColorDataset(rgb=rgb, label=label, contributor=np.arange(n) % 7, source="test")


@pytest.fixture(scope="module")
def split():
    return stratified_split(small_dataset(), HP.val_split, HP.seed)


def _cross_entropy(probs: np.ndarray, y: np.ndarray) -> float:
    """Keras' categorical cross-entropy: normalise, clip to [1e-7, 1-1e-7], mean of -log p."""
    probs = np.asarray(probs, dtype=np.float64)
    probs = np.clip(probs / probs.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    return float(np.mean(-np.sum(y * np.log(probs), axis=1)))


def _reference_rows(model, initial: list[np.ndarray], split, hp: Hyperparams) -> tuple[list, list]:
    """Train a clone batch by batch over the same order; each batch's loss and accuracy are
    measured with the weights *before* that batch's update, as Keras' training step does."""
    ref = keras.models.clone_model(model)
    ref.set_weights(initial)
    ref.compile(optimizer=make_optimizer(hp), loss="categorical_crossentropy", metrics=["accuracy"])
    n = len(split.x_train)
    rows = []
    for epoch in range(hp.epochs):
        order = epoch_order(n, hp.seed, epoch)
        x, y = split.x_train[order], split.y_train[order]
        for start in range(0, n, hp.batch_size):
            xb, yb = x[start : start + hp.batch_size], y[start : start + hp.batch_size]
            probs = np.asarray(ref(xb, training=False))
            accuracy = float(np.mean(np.argmax(probs, axis=1) == np.argmax(yb, axis=1)))
            rows.append((epoch + 1, _cross_entropy(probs, yb), accuracy, len(xb)))
            ref.train_on_batch(xb, yb)
    return rows, ref.get_weights()


def _strip_seconds(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def test_rows_match_an_independent_batch_by_batch_reference(split) -> None:
    model = build_model(HP)
    initial = model.get_weights()
    evaluated: list[tuple[float, float]] = []
    rows: list[dict] = []

    def sink(row: dict) -> None:
        rows.append(row)
        if row["kind"] == "epoch":  # the model now holds the weights after that epoch
            loss, accuracy = model.evaluate(split.x_val, split.y_val, verbose=0)
            evaluated.append((loss, accuracy))

    outcome = train(model, split, HP, sink)

    per_epoch = batches_per_epoch(len(split.x_train), HP.batch_size)
    assert per_epoch == 6
    assert len(rows) == (per_epoch + 1) * HP.epochs
    assert all(tuple(row) == ROW_KEYS for row in rows)
    batch_rows = [r for r in rows if r["kind"] == "batch"]
    epoch_rows = [r for r in rows if r["kind"] == "epoch"]
    assert [r["step"] for r in batch_rows] == list(range(1, per_epoch * HP.epochs + 1))
    assert [r["batch"] for r in batch_rows] == list(range(1, per_epoch + 1)) * HP.epochs
    assert [r["epoch"] for r in epoch_rows] == [1, 2]
    assert all(r["val_loss"] is None and r["val_accuracy"] is None for r in batch_rows)
    assert outcome.progress.step == per_epoch * HP.epochs and not outcome.stopped

    reference, ref_weights = _reference_rows(model, initial, split, HP)
    assert len(reference) == len(batch_rows)
    for row, (epoch, loss, accuracy, _size) in zip(batch_rows, reference, strict=True):
        assert row["epoch"] == epoch
        assert row["loss"] == pytest.approx(loss, abs=1e-4)
        assert row["accuracy"] == pytest.approx(accuracy, abs=1e-4)
    for a, b in zip(model.get_weights(), ref_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)

    for epoch_row in epoch_rows:
        mine = [
            (r["loss"], r["accuracy"], size)
            for r, (epoch, _, _, size) in zip(batch_rows, reference, strict=True)
            if epoch == epoch_row["epoch"]
        ]
        sizes = np.array([m[2] for m in mine], dtype=float)
        assert sizes.sum() == len(split.x_train)
        weighted_loss = float(np.dot([m[0] for m in mine], sizes) / sizes.sum())
        weighted_acc = float(np.dot([m[1] for m in mine], sizes) / sizes.sum())
        assert epoch_row["loss"] == pytest.approx(weighted_loss, abs=1e-6)
        assert epoch_row["accuracy"] == pytest.approx(weighted_acc, abs=1e-6)
        assert epoch_row["step"] == per_epoch * epoch_row["epoch"]

    for epoch_row, (val_loss, val_accuracy) in zip(epoch_rows, evaluated, strict=True):
        assert epoch_row["val_loss"] == pytest.approx(val_loss, abs=1e-4)
        assert epoch_row["val_accuracy"] == pytest.approx(val_accuracy, abs=1e-4)
    assert outcome.progress.last_epoch_row == epoch_rows[-1]


@pytest.mark.parametrize("k", [4, 6])  # mid-epoch, and exactly at the end of epoch 1
def test_stop_and_resume_equals_an_uninterrupted_run(split, k: int) -> None:
    straight = build_model(HP)
    straight_rows: list[dict] = []
    train(straight, split, HP, straight_rows.append)

    model = build_model(HP)
    rows: list[dict] = []
    first = train(model, split, HP, rows.append, should_stop=lambda: len(rows) >= k)
    assert first.stopped
    assert first.progress.step == k
    assert not first.progress.finished
    assert [r["step"] for r in rows if r["kind"] == "batch"] == list(range(1, k + 1))

    second = train(model, split, HP, rows.append, progress=first.progress)
    assert not second.stopped
    assert second.progress.finished
    assert second.progress.epoch == HP.epochs
    assert len([r for r in rows if r["kind"] == "epoch"]) == HP.epochs
    assert [r["step"] for r in rows if r["kind"] == "batch"] == [
        r["step"] for r in straight_rows if r["kind"] == "batch"
    ]
    for a, b in zip(model.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for mine, theirs in zip(rows, straight_rows, strict=True):
        assert mine["kind"] == theirs["kind"]
        assert mine["loss"] == pytest.approx(theirs["loss"], abs=1e-5)


def test_should_stop_before_the_first_batch_trains_nothing(split) -> None:
    model = build_model(HP)
    before = model.get_weights()
    rows: list[dict] = []
    outcome = train(model, split, HP, rows.append, should_stop=lambda: True)
    assert outcome.stopped and outcome.progress.step == 0 and rows == []
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_rows_different_seed_different_rows(split) -> None:
    hp = HP.replace(epochs=1)

    def run(seed: int) -> list[dict]:
        rows: list[dict] = []
        train(build_model(hp.replace(seed=seed)), split, hp.replace(seed=seed), rows.append)
        return _strip_seconds(rows)

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert [r["loss"] for r in first] != [r["loss"] for r in other]


def test_epoch_order_is_a_seeded_permutation() -> None:
    order = epoch_order(50, 1, 0)
    assert sorted(order.tolist()) == list(range(50))
    np.testing.assert_array_equal(order, epoch_order(50, 1, 0))
    assert not np.array_equal(order, epoch_order(50, 1, 1))
    assert not np.array_equal(order, epoch_order(50, 2, 0))


def test_progress_resumes_from_a_fresh_progress_object(split) -> None:
    """A Progress made by the caller (as a page would keep it) plans the epochs it names."""
    progress = Progress(epochs_planned=1)
    rows: list[dict] = []
    outcome = train(build_model(HP), split, HP, rows.append, progress=progress)
    assert outcome.progress is progress
    assert progress.epoch == 1
    assert len([r for r in rows if r["kind"] == "epoch"]) == 1


# ---------------------------------------------------------------------------- early stopping

# Validation losses a constructed run reports, epoch by epoch: the best is epoch 3 (0.5);
# with patience 2, epochs 4 and 5 bring nothing lower, so training stops after epoch 5.
SCRIPTED_VAL_LOSS = [0.9, 0.7, 0.5, 0.6, 0.55, 0.4, 0.3, 0.35]


@pytest.fixture
def scripted_val_loss(monkeypatch):
    """The loop's validation losses replaced by ``SCRIPTED_VAL_LOSS``, in order."""
    import colorclf.train.loop as loop

    losses = iter(SCRIPTED_VAL_LOSS)
    monkeypatch.setattr(loop, "evaluate_arrays", lambda model, x, y: (next(losses), 0.5))


def test_patience_stops_at_the_right_epoch_and_restores_the_best_weights(
    split, scripted_val_loss
) -> None:
    hp = HP.replace(epochs=8, patience=2)
    model = build_model(hp)
    weights_after: dict[int, list[np.ndarray]] = {}
    rows: list[dict] = []

    def sink(row: dict) -> None:
        rows.append(row)
        if row["kind"] == "epoch":
            weights_after[row["epoch"]] = model.get_weights()

    outcome = train(model, split, hp, sink)
    assert outcome.stopped and outcome.progress.stopped_early
    assert [r["epoch"] for r in rows if r["kind"] == "epoch"] == [1, 2, 3, 4, 5]
    assert outcome.progress.epoch == 5 and outcome.progress.best_epoch == 3
    for mine, best in zip(model.get_weights(), weights_after[3], strict=True):
        np.testing.assert_array_equal(mine, best)
    for mine, last in zip(outcome.last_weights, weights_after[5], strict=True):
        np.testing.assert_array_equal(mine, last)
    assert not all(
        np.array_equal(a, b) for a, b in zip(weights_after[3], weights_after[5], strict=True)
    )


def test_resume_after_an_early_stop_continues_the_same_run(split, scripted_val_loss) -> None:
    hp = HP.replace(epochs=8, patience=2)
    straight = build_model(hp)
    straight_rows: list[dict] = []
    train(straight, split, hp.replace(patience=0), straight_rows.append)

    import colorclf.train.loop as loop

    model = build_model(hp)
    rows: list[dict] = []
    losses = iter(SCRIPTED_VAL_LOSS)
    loop.evaluate_arrays = lambda model, x, y: (next(losses), 0.5)  # restored by monkeypatch
    first = train(model, split, hp, rows.append)
    assert first.progress.stopped_early
    model.set_weights(first.last_weights)  # what the job sends back on Resume
    first.progress.continue_after_stop()
    second = train(
        model, split, hp, rows.append, progress=first.progress, best_weights=first.best_weights
    )
    assert not second.stopped and second.progress.finished
    assert [r["epoch"] for r in rows if r["kind"] == "epoch"] == list(range(1, 9))
    assert [r["step"] for r in rows if r["kind"] == "batch"] == [
        r["step"] for r in straight_rows if r["kind"] == "batch"
    ]
    for mine, theirs in zip(rows, straight_rows, strict=True):
        assert mine["loss"] == pytest.approx(theirs["loss"], abs=1e-5)
    # The best epoch is now 7 (0.3), and the finished run holds its weights.
    assert second.progress.best_epoch == 7


def test_patience_off_never_stops_early(split, scripted_val_loss) -> None:
    hp = HP.replace(epochs=8, patience=0)
    outcome = train(build_model(hp), split, hp, lambda row: None)
    assert not outcome.stopped and outcome.progress.epoch == 8
    assert outcome.best_weights is None and outcome.last_weights is None


def test_until_epoch_trains_exactly_one_more_epoch(split) -> None:
    hp = HP.replace(epochs=2)
    model = build_model(hp)
    rows: list[dict] = []
    first = train(model, split, hp, rows.append)
    first.progress.epochs_planned = 3  # a Step past the planned end
    second = train(model, split, hp, rows.append, progress=first.progress, until_epoch=3)
    assert [r["epoch"] for r in rows if r["kind"] == "epoch"] == [1, 2, 3]
    assert second.progress.epoch == 3
    per_epoch = batches_per_epoch(len(split.x_train), hp.batch_size)
    assert second.progress.step == 3 * per_epoch


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_shared_template_trains_exactly_the_run_a_new_one_would(split, optimizer: str) -> None:
    """A trainer thread keeps one traced template per architecture for every run: a run on it,
    with another seed, after a run that was stopped half-way, and resumed from a stopped
    state, equals the same run on a template of its own."""
    from colorclf.core.protocol import Done, Rows, TrainTask
    from colorclf.train import engine
    from colorclf.train.scheduler import run_task

    hp = HP.replace(optimizer=optimizer, learning_rate=0.05, pace="full")

    def task(hp: Hyperparams, state=None, progress=None) -> TrainTask:
        return TrainTask(hp=hp, split=split, progress=progress or Progress(hp.epochs), state=state)

    def run(fresh: bool, hp, stop_after=None, **kwargs):
        if fresh:  # this thread forgets its templates: the run traces one of its own
            engine._local.templates = None
        rows: list[dict] = []
        results = []

        def send(message) -> None:
            if isinstance(message, Rows):
                rows.extend(message.rows)
            elif isinstance(message, Done):
                results.append(message.result)

        should_stop = (lambda: len(rows) >= stop_after) if stop_after else None
        run_task(task(hp, **kwargs), send, should_stop)
        (result,) = results
        return result, _strip_seconds(rows)

    run(True, hp.replace(seed=11), stop_after=3)  # leaves trained weights and slots behind
    kept = engine.chunk_step(hp)
    for seed in (3, 4):
        reused, reused_rows = run(False, hp.replace(seed=seed))
        assert engine.chunk_step(hp) is kept  # the same template went round again
        new, new_rows = run(True, hp.replace(seed=seed))
        assert reused_rows == new_rows
        for a, b in zip(reused.state.weights, new.state.weights, strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(reused.state.optimizer, new.state.optimizer, strict=True):
            np.testing.assert_array_equal(a, b)
        kept = engine.chunk_step(hp)

    # Stop, then resume on the kept template: the uninterrupted run.
    stopped, first_rows = run(False, hp, stop_after=4)
    resumed, rest = run(False, hp, state=stopped.state, progress=stopped.progress)
    straight, straight_rows = run(True, hp)
    # (as test_stop_and_resume_equals_an_uninterrupted_run: equal to float rounding)
    assert [(r["kind"], r["step"]) for r in first_rows + rest] == [
        (r["kind"], r["step"]) for r in straight_rows
    ]
    for mine, theirs in zip(first_rows + rest, straight_rows, strict=True):
        assert mine["loss"] == pytest.approx(theirs["loss"], abs=1e-5)
    for a, b in zip(resumed.state.weights, straight.state.weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)

    # Another architecture gets another template.
    kept = engine.chunk_step(hp)
    run(False, hp.replace(hidden_units=hp.hidden_units + 1))
    assert engine.chunk_step(hp.replace(hidden_units=hp.hidden_units + 1)) is not kept


def test_adam_rows_and_weights_match_keras_own_training_step(split) -> None:
    """The compiled chunk uses Keras' loss and ``optimizer.apply``: Adam, with its slots and
    bias correction, trains exactly what ``train_on_batch`` does."""
    hp = HP.replace(optimizer="adam", learning_rate=0.01, pace="full")
    model = build_model(hp)
    initial = model.get_weights()
    rows: list[dict] = []
    train(model, split, hp, rows.append)
    reference, ref_weights = _reference_rows(model, initial, split, hp)
    batch_rows = [r for r in rows if r["kind"] == "batch"]
    assert len(batch_rows) == len(reference)
    for row, (_epoch, loss, accuracy, _size) in zip(batch_rows, reference, strict=True):
        assert row["loss"] == pytest.approx(loss, abs=1e-4)
        assert row["accuracy"] == pytest.approx(accuracy, abs=1e-4)
    for a, b in zip(model.get_weights(), ref_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_live_pace_spreads_the_run_and_full_pace_is_due_at_once(split) -> None:
    """A live-paced run says when its next chunk is due: two epochs a second, a chunk about a
    tenth of a second; a full-paced one is always due."""
    from colorclf.core.hyperparams import LIVE_EPOCHS_PER_SECOND
    from colorclf.train.loop import TrainRun

    per_epoch = batches_per_epoch(len(split.x_train), HP.batch_size)
    live = TrainRun(build_model(HP), split, HP.replace(pace="live"), lambda row: None)
    assert live.rate == per_epoch * LIVE_EPOCHS_PER_SECOND
    trained = 0
    while not live.advance():
        trained = live.progress.step
        assert live.next_due == pytest.approx(live._started + trained / live.rate)
    assert trained > 0 and live.chunk_batches < per_epoch

    full = TrainRun(build_model(HP), split, HP.replace(pace="full"), lambda row: None)
    assert full.rate is None
    while not full.advance():
        assert full.next_due == 0.0
    assert full.progress.finished and full.outcome is not None


def test_the_scheduler_takes_every_run_in_turns() -> None:
    """No run takes two turns while another waits: with one thread, thirty runs of three
    turns each go round robin, in the order they came."""
    import threading

    from colorclf.core.hyperparams import load_factor
    from colorclf.train.scheduler import Scheduler

    turns: list[int] = []
    stretches: list[float] = []
    finished = threading.Event()

    class Recorded:
        def __init__(self, number: int) -> None:
            self.number, self.left, self.due = number, 3, 0.0

        def stretch(self, factor: float) -> None:
            stretches.append(factor)

        def turn(self) -> bool:
            turns.append(self.number)
            self.left -= 1
            if len(turns) == 90:
                finished.set()
            return self.left == 0

    scheduler = Scheduler(threads=1)
    gate = threading.Event()
    blocker = Recorded(-1)
    blocker.turn = lambda: gate.wait() or True  # holds the one thread while runs arrive
    scheduler.add(blocker)
    for number in range(30):
        scheduler.add(Recorded(number))
    gate.set()
    assert finished.wait(30)
    assert turns == list(range(30)) * 3
    assert scheduler.idle.wait(5) and scheduler.active == 0
    # Live chunks stretch with the runs sharing the trainer, and shrink back as they end.
    assert stretches[1] == load_factor(30) == 10.0  # the blocker has ended
    assert stretches[-1] == load_factor(1) == 1.0
    assert stretches[1:] == sorted(stretches[1:], reverse=True)


def test_the_trainer_is_ready_once_one_thread_has_taken_the_first_warm_up_step():
    """A first click on a cold server waits for Ready: not for every thread to trace every
    preset (the default template is the first step)."""
    import threading

    from colorclf.train.scheduler import Scheduler

    later_step = threading.Event()  # holds every thread's second step until the test ends
    first_steps: list[str] = []
    ran: list[int] = []

    class OneTurn:
        number, due = 1, 0.0

        def stretch(self, factor: float) -> None:
            pass

        def turn(self) -> bool:
            ran.append(self.number)
            return True

    scheduler = Scheduler(threads=2, warm=[lambda: first_steps.append("default"), later_step.wait])
    assert first_steps  # a thread took the first step ...
    assert not later_step.is_set()  # ... and Ready did not wait for the second
    later_step.set()
    scheduler.add(OneTurn())
    assert scheduler.idle.wait(10) and ran == [1]


class _Recorder(keras.callbacks.Callback):
    """Every batch event, as a callback sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, int, dict]] = []

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.events.append(("begin", batch, dict(logs or {})))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.events.append(("end", batch, dict(logs or {})))


def test_batch_callbacks_tell_a_callback_what_keras_callback_list_tells_it(split) -> None:
    """The loop's ``BatchCallbacks`` leaves out Keras' per-batch log conversion: for the
    loop's float logs, every callback still sees what Keras' own ``CallbackList`` shows it."""
    from colorclf.train.callback import BatchCallbacks

    through_loop = _Recorder()
    train(build_model(HP), split, HP, [].append, callbacks=[through_loop])
    ends = [event for event in through_loop.events if event[0] == "end"]
    assert len(ends) == HP.epochs * batches_per_epoch(len(split.x_train), HP.batch_size)
    assert all(set(logs) == {"loss", "accuracy"} for _, _, logs in ends)
    assert all(type(value) is float for _, _, logs in ends for value in logs.values())

    ours, theirs = _Recorder(), _Recorder()
    model = build_model(HP)
    our_list = BatchCallbacks([ours], model=model)
    their_list = keras.callbacks.CallbackList([theirs], model=model)
    for kind, batch, logs in through_loop.events:
        for callbacks in (our_list, their_list):
            if kind == "begin":
                callbacks.on_train_batch_begin(batch)
            else:
                callbacks.on_train_batch_end(batch, logs)
    assert ours.events == theirs.events == through_loop.events
    assert [list(logs) for _, _, logs in ours.events] == [
        list(logs) for _, _, logs in theirs.events
    ]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_kept_model_trains_exactly_the_run_a_new_one_would(split, optimizer: str) -> None:
    """The trainer keeps the models of ended runs (``BuiltModels``): one taken again, after a
    run that moved its weights and optimizer slots on, trains exactly the run of a model just
    built; no more than ``most`` are kept."""
    from colorclf.train.model import BuiltModels

    hp = HP.replace(optimizer=optimizer, learning_rate=0.05)
    models = BuiltModels(most=2)
    first = models.take(hp)
    train(first, split, hp, [].append)
    models.give_back(hp, first)
    kept = models.take(hp)
    assert kept is first
    kept_rows: list[dict] = []
    new_rows: list[dict] = []
    train(kept, split, hp, kept_rows.append)
    new = build_model(hp)
    train(new, split, hp, new_rows.append)
    assert _strip_seconds(kept_rows) == _strip_seconds(new_rows)
    for a, b in zip(kept.get_weights(), new.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(kept.optimizer.variables) == len(new.optimizer.variables)
    for a, b in zip(kept.optimizer.variables, new.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.array(a), np.array(b))

    extra = build_model(hp)
    for model in (kept, new, extra):
        models.give_back(hp, model)
    taken = [models.take(hp) for _ in range(3)]
    assert taken[:2] == [new, kept]  # the two kept; the third was not
    assert all(taken[2] is not model for model in (kept, new, extra))


def test_stocked_models_train_the_run_a_new_one_would(split) -> None:
    """An idle trainer stocks models (``BuiltModels.stock``): one at a time up to the number
    asked and never past ``most``; a stocked model trains exactly a new one's run."""
    from colorclf.train.model import BuiltModels

    models = BuiltModels(most=3)
    assert [models.stock(HP, 2) for _ in range(3)] == [True, True, False]
    other = HP.replace(hidden_units=HP.hidden_units + 1)
    assert [models.stock(other, 5) for _ in range(2)] == [True, False]  # most: 3 in all
    stocked_rows: list[dict] = []
    new_rows: list[dict] = []
    stocked = models.take(HP)
    train(stocked, split, HP, stocked_rows.append)
    train(build_model(HP), split, HP, new_rows.append)
    assert _strip_seconds(stocked_rows) == _strip_seconds(new_rows)
    assert models.take(HP) is not stocked  # the second stocked one


def _epochs_sent_and_end(split, hp: Hyperparams, initial: list, each_epoch: bool) -> tuple:
    """Each epoch's weights as the sink reads them off the run, and the model's at the end."""
    from colorclf.train.loop import TrainRun

    model = build_model(hp)
    model.set_weights(initial)
    sent: list[np.ndarray] = []

    def sink(row: dict) -> None:
        if row["kind"] == "epoch":
            sent.append([array for k, b, _ in run.predictor().layers for array in (k, b)])

    run = TrainRun(model, split, hp, sink, model_each_epoch=each_epoch)
    run.to_end()
    return sent, model.get_weights()


def test_a_scheduled_run_leaves_its_weights_in_the_model_only_at_its_end(split) -> None:
    """The trainer's runs keep the weights in NumPy (``model_each_epoch=False``): what the
    page is sent at each epoch, and the model at the end, are the same run's weights as a
    run that puts them into the model at every epoch's end."""
    hp = HP.replace(epochs=3)
    initial = build_model(hp).get_weights()
    sent_each, end_each = _epochs_sent_and_end(split, hp, initial, each_epoch=True)
    sent_end, end_only = _epochs_sent_and_end(split, hp, initial, each_epoch=False)
    assert len(sent_each) == len(sent_end) == 3
    for epoch_each, epoch_end in zip(sent_each, sent_end, strict=True):
        for a, b in zip(epoch_each, epoch_end, strict=True):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(end_each, end_only, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(sent_end[0][0], sent_end[-1][0])  # the epochs' weights moved
