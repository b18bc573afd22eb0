"""The growing delay after failures (teacher passwords)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colorclf.core.throttle import Throttle


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_free_failures_then_doubling_up_to_the_cap() -> None:
    clock = Clock()
    throttle = Throttle(free=3, base=2.0, cap=10.0, clock=clock)
    waits = [throttle.failed("s") for _ in range(6)]
    assert waits == [0, 0, 2.0, 4.0, 8.0, 10.0]
    clock.now += 4
    assert throttle.wait("s") == pytest.approx(6.0)
    assert throttle.wait("other") == 0
    throttle.succeeded("s")
    assert throttle.wait("s") == 0


def test_a_key_is_forgotten_after_the_quiet_time() -> None:
    clock = Clock()
    throttle = Throttle(free=1, base=1.0, cap=100.0, forget=60.0, clock=clock)
    assert [throttle.failed("s") for _ in range(3)] == [1.0, 2.0, 4.0]
    clock.now += 61
    assert throttle.failed("s") == 1.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from("abc"), min_size=1, max_size=60))
def test_guessing_fast_is_never_cheap(keys: list[str]) -> None:
    """However the failures fall on keys, with free=3 no key gets past its 4th guess within
    the sum of its waits: n guesses cost at least 2 + 4 + … seconds."""
    throttle = Throttle(free=3, base=2.0, cap=300.0, clock=Clock())
    counts = {k: 0 for k in keys}
    for key in keys:
        counts[key] += 1
        wait = throttle.failed(key)
        n = counts[key]
        assert wait == (0 if n < 3 else min(300.0, 2.0 * 2 ** (n - 3)))


def test_many_keys_stay_bounded() -> None:
    throttle = Throttle(free=3, base=1.0, cap=1.0, clock=Clock(), max_keys=100)
    for i in range(1000):
        throttle.failed(f"k{i}")
    assert throttle.wait("k999") == 0  # one failure: no wait, and the table did not grow past
    assert len(throttle) <= 100
