"""The first click of the day: a trainer warms up when the web server starts, before any page
opens (tests/test_browser.py checks that on a real server), and its TensorFlow import gives
way to the first browser's page load."""

from __future__ import annotations

import os
import sys
import threading

import pytest


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice value is Linux's")
def test_tensorflow_is_imported_at_a_lower_priority_in_a_thread_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from colorclf.train import worker

    calls: list[tuple[int, int]] = []
    setpriority = os.setpriority

    def recording(which: int, who: int, priority: int) -> None:
        calls.append((who, priority))
        setpriority(which, who, priority)

    monkeypatch.setattr(os, "setpriority", recording)
    me = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, me)
    worker.import_gently()
    assert "keras" in sys.modules and "tensorflow" in sys.modules
    ((importer, priority),) = calls
    assert importer != me and priority == worker.BACKGROUND_NICE
    assert os.getpriority(os.PRIO_PROCESS, me) == before  # the trainer's own threads: as before


def test_an_idle_trainer_stocks_default_models_while_it_stays_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The class's press takes models the idle trainer built (``stock_models``): it builds
    only while idle, and the ones it built are the default preset's, ready to take."""
    from colorclf.core.hyperparams import DEFAULT_PRESET, PRESETS
    from colorclf.train import model, worker

    kept = model.BuiltModels()
    monkeypatch.setattr(model, "BUILT_MODELS", kept)
    answers = iter([True, True, False, True])
    assert worker.stock_models(lambda: next(answers)) == 2
    assert worker.stock_models(lambda: False) == 0
    hp = PRESETS[DEFAULT_PRESET]
    first, second = kept.take(hp), kept.take(hp)
    assert first is not second
    assert kept.stock(hp, 1) is True  # both stocked models were taken: none is left


def test_stocking_ends_quietly_when_a_build_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that fails (a model file's check capped the process's memory meanwhile) ends
    the idle stocking, never the trainer's tidy thread."""
    from colorclf.train import model, worker

    class Failing:
        calls = 0

        def stock(self, hp: object, want: int) -> bool:
            self.calls += 1
            if self.calls == 3:
                raise MemoryError
            return True

    failing = Failing()
    monkeypatch.setattr(model, "BUILT_MODELS", failing)
    assert worker.stock_models(lambda: True) == 2
    assert failing.calls == 3
