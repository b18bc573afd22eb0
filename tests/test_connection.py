"""The page stays connected through many trainings, many sessions and a dropped socket.

Issue: after the 4th or 5th training in one session the browser said "Cached ForwardMsg
MISS" and lost its connection for good. ``forward_msg_cache_app.py`` is the pattern
that triggers it, without the training; the tests deliver the server's messages 100 ms
late (``slow_network``), as a hosted server's network does, which is what makes the
race likely on any machine (without it, it needs a busy 2-core machine).

``.streamlit/config.toml`` turns the message cache off; with
``COLORCLF_SHOW_CACHE_BUG=1`` the first test runs with Streamlit's default (the cache
on) instead and then expects the page to be lost, which shows the setting is needed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    connection_state,
    slow_network,
    start_streamlit,
    stop_streamlit,
    wait_idle,
)

pytestmark = pytest.mark.browser
TIMEOUT_MS = 300_000  # generous: six sessions on two cores, and CI machines may be busy
SHOW_BUG = os.environ.get("COLORCLF_SHOW_CACHE_BUG") == "1"


@pytest.fixture(scope="module")
def pattern_server() -> Iterator[str]:
    env = {"STREAMLIT_GLOBAL_MIN_CACHED_MESSAGE_SIZE": "10000"} if SHOW_BUG else {}
    proc, url = start_streamlit(env, script="tests/forward_msg_cache_app.py")
    try:
        yield url
    finally:
        stop_streamlit(proc)


def _watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    return errors


def _lost(errors: list[str]) -> list[str]:
    return [text for text in errors if "MISS" in text or "fatal error" in text]


def _new_page(browser, latency_ms: int = 100) -> tuple[object, object, list[str]]:
    """A laptop-size page whose server messages arrive ``latency_ms`` late, and the list
    its console's messages go to."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    slow_network(page, latency_ms)
    return context, page, _watch_console(page)


def test_the_live_panel_pattern_stays_connected_through_fifteen_jobs(browser, pattern_server):
    context, page, errors = _new_page(browser)
    try:
        page.goto(pattern_server)
        page.get_by_text("Run 0: idle").wait_for(timeout=TIMEOUT_MS)
        for run in range(1, 16):
            page.get_by_role("button", name="Train").click(timeout=TIMEOUT_MS)
            try:
                page.get_by_text(f"Run {run}: complete").wait_for(timeout=60_000)
            except Exception:
                if SHOW_BUG and _lost(errors):
                    return  # what Streamlit's cache does to this pattern
                raise AssertionError(
                    f"job {run} never showed as complete: the page says {_run_line(page)!r}; "
                    f"{_page_report(page, errors)}"
                ) from None
            assert connection_state(page) == "CONNECTED", (run, _lost(errors)[:2])
            assert not _lost(errors), (run, _lost(errors)[:2])
        assert not SHOW_BUG, "15 jobs stayed connected with the cache on: is the bug fixed?"
    finally:
        context.close()


def _run_line(page) -> str:
    """The pattern page's last "Run N: state" line."""
    line = page.get_by_text(re.compile(r"^Run \d+: ")).last
    return line.inner_text() if line.count() else "(none)"


def _open_training_page(browser, url: str) -> tuple[object, object, list[str]]:
    context, page, errors = _new_page(browser)
    page.goto(url)
    page.get_by_role("button", name="Train").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    field = page.get_by_role("spinbutton", name="Epochs")
    field.fill("2")
    field.press("Enter")
    wait_idle(page)
    return context, page, errors


def _status(page) -> str:
    label = page.locator(".st-key-training-status p").first
    return label.inner_text() if label.count() else "(no status)"


def _wait_complete(page, run: int, errors: list[str]) -> None:
    try:
        page.get_by_text(f"Run {run}: Training complete").first.wait_for(timeout=TIMEOUT_MS)
    except Exception:
        raise AssertionError(
            f"run {run} did not complete: status {_status(page)!r}, connection "
            f"{connection_state(page)}, console {_lost(errors)[:2]}"
        ) from None


def _page_report(page, errors: list[str]) -> str:
    """What the page shows, for a failure's message: the status, the buttons, the
    connection, the console's errors and the app's run state."""
    buttons = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stButton] button')]"
        ".map(b => b.innerText.trim() + (b.disabled ? ' (disabled)' : ''))"
    )
    script = page.evaluate(
        "() => document.querySelector('[data-testid=stApp]')"
        "?.getAttribute('data-test-script-state')"
    )
    alerts = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stException], [data-testid=stAlert]')]"
        ".map(e => e.innerText.trim().slice(0, 200))"
    )
    return (
        f"status {_status(page)!r}, buttons {buttons}, connection {connection_state(page)}, "
        f"script {script}, alerts {alerts}, console {_lost(errors)[:2]}"
    )


def _wait_console_line(page, text: str, run: int, errors: list[str]) -> None:
    """Wait for the console's line (sent with the status; wait, never a sleep)."""
    console = page.locator(".st-key-training-console")
    try:
        console.get_by_text(text).first.wait_for(timeout=30_000)
    except Exception:
        shown = console.inner_text() if console.count() else "(no console)"
        raise AssertionError(
            f"run {run}: the console shows {shown!r}; {_page_report(page, errors)}"
        ) from None


def _assert_healthy(page, run: int, errors: list[str]) -> None:
    try:
        page.get_by_role("button", name="Train").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => { const b = [...document.querySelectorAll('[data-testid=stButton] button')]"
            ".find(b => b.innerText.trim() === 'Train'); return b && !b.disabled; }",
            timeout=TIMEOUT_MS,
        )
    except Exception:
        raise AssertionError(
            f"before run {run}, Train never became clickable: {_page_report(page, errors)}"
        ) from None
    assert connection_state(page) == "CONNECTED", (run, _lost(errors)[:2])
    assert not _lost(errors), (run, _lost(errors)[:2])
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def test_a_setting_changed_then_train_clicked_before_the_page_hears_back(browser, streamlit_server):
    """Change a number and click Train before the server's answer arrives (a slow network,
    or a quick hand): the click carries the Preset box's old value, "coding-train", while
    the server has already turned it into "custom". That stale value must not count as a
    choice of the preset again, which put back its 10 epochs and trained those."""
    context, page, errors = _new_page(browser, 0)
    try:
        page.goto(streamlit_server)
        page.get_by_role("button", name="Train").wait_for(timeout=TIMEOUT_MS)
        wait_idle(page)
        page.evaluate("window.__colorclfHold()")
        field = page.get_by_role("spinbutton", name="Epochs")
        field.fill("3")
        field.press("Enter")
        # The server has run past the Preset box (its answer is held, not yet shown).
        page.wait_for_function("() => window.__colorclfHeard('Preset')", timeout=TIMEOUT_MS)
        page.get_by_role("button", name="Train").click(timeout=TIMEOUT_MS)
        page.evaluate("window.__colorclfRelease()")
        _wait_complete(page, 1, errors)
        _wait_console_line(page, "Epoch 3/3 · loss", 1, errors)
        assert page.get_by_role("spinbutton", name="Epochs").input_value() == "3"
    finally:
        context.close()


def _train_twelve_times(browser, url: str) -> None:
    """One session trains twelve times; before each Train, the page must be ready for it."""
    context, page, errors = _open_training_page(browser, url)
    try:
        for run in range(1, 13):
            _assert_healthy(page, run, errors)
            page.get_by_role("button", name="Train").click(timeout=TIMEOUT_MS)
            _wait_complete(page, run, errors)
            _wait_console_line(page, "Epoch 2/2 · loss", run, errors)
        _assert_healthy(page, 12, errors)
    finally:
        context.close()


def test_twelve_trainings_in_one_session_stay_connected(browser, streamlit_server):
    _train_twelve_times(browser, streamlit_server)


def test_six_sessions_train_twelve_times_at_once(browser, streamlit_server):
    sessions = [_open_training_page(browser, streamlit_server) for _ in range(6)]
    try:
        for run in range(1, 13):
            for _, page, errors in sessions:
                _assert_healthy(page, run, errors)
                page.get_by_role("button", name="Train").click(timeout=TIMEOUT_MS)
            for _, page, errors in sessions:
                _wait_complete(page, run, errors)
        for _, page, errors in sessions:
            _assert_healthy(page, 12, errors)
            assert page.get_by_text("Run 13").count() == 0  # each session: its own runs
    finally:
        for context, _, _ in sessions:
            context.close()


@pytest.fixture(scope="module")
def late_events_server() -> Iterator[str]:
    """The app on a server whose script runners' messages reach the event loop late (see
    ``tests/late_events/sitecustomize.py``): a timer tick then often lands just after a page
    run's runner stopped, and Streamlit drops that page run's last messages when the tick
    starts a new runner."""
    proc, url = start_streamlit({"PYTHONPATH": str(Path(__file__).parent / "late_events")})
    try:
        yield url
    finally:
        stop_streamlit(proc)


def test_a_run_end_is_not_lost_to_a_late_timer_tick(browser, late_events_server):
    """The page run that draws a run's end leaves no live fragment behind, so the ticks still
    on their way are dropped; while it left one, most of these twelve trainings stuck one
    page on "Training complete" above a disabled Train, with nothing polling."""
    _train_twelve_times(browser, late_events_server)


def test_a_dropped_connection_comes_back_with_the_sessions_runs(browser, streamlit_server):
    context, page, errors = _open_training_page(browser, streamlit_server)
    try:
        page.get_by_role("button", name="Train").click()
        _wait_complete(page, 1, errors)
        wait_idle(page)
        page.evaluate("() => window.__colorclfSockets.at(-1).close()")  # a network blip
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stApp]')"
            ".getAttribute('data-test-connection-state') !== 'CONNECTED'",
            timeout=TIMEOUT_MS,
        )
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stApp]')"
            ".getAttribute('data-test-connection-state') === 'CONNECTED'",
            timeout=TIMEOUT_MS,
        )
        # The same session: its run and model are still there, and the next run is Run 2.
        page.get_by_text("Run 1: Training complete").first.wait_for(timeout=TIMEOUT_MS)
        _assert_healthy(page, 1, errors)
        page.locator(".colorclf-ask-headline").filter(has_text=re.compile(".")).wait_for(
            timeout=TIMEOUT_MS
        )  # the sliders ask
        page.get_by_role("button", name="Train").click()
        _wait_complete(page, 2, errors)
        _assert_healthy(page, 2, errors)
    finally:
        context.close()
