"""The page in a real browser (the system Chromium through Playwright).

Skips without a browser locally; CI installs Debian's chromium and makes it mandatory.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import start_streamlit, stop_streamlit, wait_idle, wait_until

pytestmark = pytest.mark.browser
# The README's screenshots are refreshed only when asked (COLORCLF_UPDATE_SCREENSHOTS=1):
# a test run must not change files of the checkout.
DOCS = (
    Path(__file__).resolve().parent.parent / "docs"
    if os.environ.get("COLORCLF_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "colorclf-screenshots"
)

# A fingerprint of what the loss chart shows right now (canvas pixels or SVG markup).
CHART_SIGNATURE = """() => {
  const chart = document.querySelector('.st-key-live-chart [data-testid="stVegaLiteChart"]');
  if (!chart) return null;
  const canvas = chart.querySelector('canvas');
  const text = canvas ? canvas.toDataURL() : (chart.querySelector('svg') || chart).innerHTML;
  let hash = 0;
  for (let i = 0; i < text.length; i += 7) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  return text.length + ':' + hash;
}"""


def open_page(browser, url: str, path: str = "", size: tuple[int, int] = (1400, 1000)):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{url}/{path}")
    page.get_by_role("button", name="Train").wait_for(timeout=60_000)
    wait_idle(page)
    return context, page


def set_epochs(page, epochs: int) -> None:
    field = page.get_by_role("spinbutton", name="Epochs")
    field.fill(str(epochs))
    field.press("Enter")
    wait_idle(page)


def status_label(page) -> str:
    return page.locator(".st-key-training-status p").first.inner_text()


def prediction(page) -> str:
    """The sliders' answer: the headline and the top two."""
    return page.evaluate(ANSWER_JS)


ANSWER_JS = """() => Array.from(document.querySelectorAll(
  '.colorclf-ask-headline, .colorclf-ask-detail')).map((el) => el.innerText).join(' · ')"""


SLIDERS_JS = """() => [Array.from(document.querySelectorAll('.colorclf-ask input'))
  .map((el) => el.value), document.activeElement && document.activeElement.outerHTML,
  document.querySelector('.colorclf-ask').innerText]"""


def crowd_text(rgb: tuple[int, int, int]) -> str:
    """What the panel says people said for ``rgb`` in the built-in data (views/crowd.py)."""
    from colorclf.data.sources import load_source
    from colorclf.views.crowd import crowd_table, crowd_votes, describe_crowd

    return describe_crowd(crowd_votes(crowd_table(load_source("builtin")), rgb))


def assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def test_train_watch_the_chart_then_ask_with_a_slider(browser, streamlit_server):
    context, page = open_page(browser, streamlit_server, size=(1366, 768))  # a laptop
    try:
        page.get_by_role("button", name="Train").click()
        # Scoped to the live chart: a chart in a hidden tab would never become visible.
        page.wait_for_selector('.st-key-live-chart [data-testid="stVegaLiteChart"]', timeout=60_000)
        states, answers = set(), set()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            signature = page.evaluate(CHART_SIGNATURE)
            if signature:
                states.add(signature)
            answers.add(prediction(page))
            if page.get_by_text("Training complete in").count():
                break
            time.sleep(0.05)
        page.get_by_text("Training complete in").first.wait_for(timeout=5_000)
        assert len(states) >= 10, f"the chart changed only {len(states)} times while training"
        # The sliders' answer followed the epochs' weights (sent by the live panel).
        assert len(answers - {""}) >= 3, answers
        wait_idle(page)
        assert page.get_by_text("Epoch 10/10 · loss").count() >= 1
        assert_no_error(page)

        red = page.get_by_role("slider", name="Red")
        red.focus()
        before = prediction(page)
        red.press("Home")  # Red 0
        page.get_by_role("slider", name="Blue").focus()
        page.keyboard.press("End")  # Blue 255: (0, 0, 255)
        try:
            page.wait_for_function(
                "() => document.querySelector('.colorclf-ask-headline').innerText === 'blue-ish'",
                timeout=10_000,
            )
        except Exception as error:  # say what the sliders show instead
            raise AssertionError(f"not blue-ish: {page.evaluate(SLIDERS_JS)}") from error
        wait_idle(page)
        assert before != prediction(page)
        # Beside it, what people said in the data the run learned from (the built-in set).
        page.get_by_text(crowd_text((0, 0, 255))).wait_for(timeout=10_000)
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / "screenshot.png"))  # the laptop's first screen
    finally:
        context.close()


def test_slider_stop_resume_in_the_browser(browser, streamlit_server):
    context, page = open_page(browser, streamlit_server)
    try:
        # Long enough (~20 s here) that the run cannot end before Stop is pressed.
        set_epochs(page, 60)
        train = page.get_by_role("button", name="Train")
        train.click()
        train.click(force=True, no_wait_after=True)  # an impatient double click
        page.get_by_text("Epoch 1/60 · loss").first.wait_for(timeout=60_000)
        # The sliders are there from the click; their answer comes with the first epoch.
        slider = page.get_by_role("slider", name="Red")
        slider.wait_for(timeout=120_000)
        slider.focus()
        for _ in range(5):
            slider.press("ArrowLeft")
        stop = page.get_by_role("button", name="Stop")
        try:
            stop.click(timeout=30_000)
        except Exception as error:
            status = status_label(page)
            raise AssertionError(f"no Stop button; the status says {status!r}") from error
        try:
            page.get_by_text("Stopped at epoch").first.wait_for(timeout=120_000)
        except Exception as error:  # say what the page shows instead
            raise AssertionError(f"not stopped; the status says {status_label(page)!r}") from error
        wait_idle(page)
        assert_no_error(page)
        assert page.get_by_text("Run 2").count() == 0  # the double click made one run
        page.get_by_role("button", name="Resume").click()
        page.get_by_text("Training complete in").first.wait_for(timeout=240_000)
        assert page.get_by_text("Epoch 60/60 · loss").count() >= 1
        assert_no_error(page)
    finally:
        context.close()


def test_two_sessions_train_at_once_and_see_only_their_own_runs(browser, streamlit_server):
    first_context, first = open_page(browser, streamlit_server)
    second_context, second = open_page(browser, streamlit_server)
    try:
        set_epochs(first, 3)
        set_epochs(second, 5)
        first.get_by_role("button", name="Train").click()
        second.get_by_role("button", name="Train").click()
        first.get_by_text("Training complete in").first.wait_for(timeout=240_000)
        second.get_by_text("Training complete in").first.wait_for(timeout=240_000)
        for page, epochs, other in ((first, 3, 5), (second, 5, 3)):
            wait_idle(page)
            assert page.get_by_text(f"Epoch {epochs}/{epochs} · loss").count() >= 1
            assert page.get_by_text(f"Epoch 1/{other} ").count() == 0
            assert page.get_by_text("Run 2").count() == 0
            assert_no_error(page)
    finally:
        first_context.close()
        second_context.close()


def test_a_shared_link_sets_up_the_page_and_trains_three_epochs(browser, streamlit_server):
    query = "?preset=coding-train&epochs=3&hidden_units=8&seed=7"
    context, page = open_page(browser, streamlit_server, query)
    try:
        assert page.get_by_role("spinbutton", name="Epochs").input_value() == "3"
        assert page.get_by_role("spinbutton", name="Hidden units").input_value() == "8"
        assert page.get_by_role("spinbutton", name="Seed").input_value() == "7"
        page.get_by_role("button", name="Train").click()
        page.get_by_text("Training complete in").first.wait_for(timeout=180_000)
        wait_idle(page)
        assert page.get_by_text("Epoch 3/3 · loss").count() >= 1
        assert page.get_by_text("Epoch 4/").count() == 0
        assert "hidden_units=8" in page.url and "seed=7" in page.url
        page.get_by_role("tab", name="Decision map").click()
        panel = page.get_by_role("tabpanel", name="Decision map")
        panel.scroll_into_view_if_needed()
        DOCS.mkdir(parents=True, exist_ok=True)
        panel.screenshot(path=str(DOCS / "decision-map.png"))
        assert_no_error(page)
    finally:
        context.close()


# One look at the layout, taken at once so that no part can vanish between two reads: the
# boxes of the live chart (not the sliders' probability chart), the status element and the
# Stop button (null when absent).
LAYOUT = """() => {
  const box = (el) => el && el.getBoundingClientRect().toJSON();
  const stop = [...document.querySelectorAll('[data-testid=stButton] button')]
    .find((b) => b.innerText.trim() === 'Stop');
  const status = document.querySelector('.st-key-training-status');
  return {
    chart: box(document.querySelector('.st-key-live-chart [data-testid=stVegaLiteChart]')),
    status: box(status),
    stop: box(stop),
    text: status ? status.innerText : '',
    scrollY: window.scrollY,
  };
}"""


def test_at_laptop_size_status_chart_and_stop_stay_in_view_from_click_to_end(
    browser, streamlit_server
):
    width, height = 1366, 768
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()

    def check(layout: dict, parts: tuple[str, ...]) -> None:
        for name in parts:
            box = layout[name]
            assert box is not None, f"no {name}; status {layout['text']!r}"
            assert box["top"] >= 0 and box["bottom"] <= height, (
                f"{name} is off the screen: {box}; status {layout['text']!r}"
            )

    try:
        page.goto(streamlit_server)
        page.get_by_role("button", name="Train").wait_for(timeout=60_000)
        wait_idle(page)
        page.get_by_role("button", name="Train").click()
        page.locator('.st-key-live-chart [data-testid="stVegaLiteChart"]').wait_for(timeout=120_000)
        seen_training = 0
        while True:
            layout = page.evaluate(LAYOUT)
            if "Training complete in" in layout["text"]:
                break
            parts = ("chart", "status", "stop")
            # While training (and while no part is being redrawn this very moment: a chart
            # element Vega is still mounting has no height yet, seen once in a few runs).
            drawn = all(layout[name] is not None for name in parts) and layout["chart"]["height"]
            if drawn and "· loss" in layout["text"]:
                seen_training += 1
                check(layout, parts)
                # Tall enough to read both panels (it was 236 px, ~60 px a panel).
                assert layout["chart"]["height"] >= 320, layout["chart"]
            page.wait_for_timeout(200)  # sampling the layout, not waiting for the app
        assert seen_training >= 3, "the run ended before the layout could be checked"
        wait_idle(page)
        assert page.get_by_text("Epoch 10/10 · loss").count() >= 1
        layout = page.evaluate(LAYOUT)
        check(layout, ("chart", "status"))
        assert layout["scrollY"] == 0
    finally:
        context.close()


# A fingerprint of the canvas inside one element (the Network tab's diagram).
CANVAS_SIGNATURE = """(panel) => {
  const canvas = panel.querySelector('[data-testid="stVegaLiteChart"] canvas');
  if (!canvas) return null;
  const text = canvas.toDataURL();
  let hash = 0;
  for (let i = 0; i < text.length; i += 7) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  return text.length + ':' + hash;
}"""


def test_the_network_tab_follows_the_training(browser, streamlit_server):
    context, page = open_page(browser, streamlit_server)
    try:
        set_epochs(page, 12)
        page.get_by_role("tab", name="Network", exact=True).click()
        panel = page.get_by_role("tabpanel", name="Network", exact=True)
        panel.get_by_text("Saturation", exact=True).wait_for()  # drawn once the tab opens
        assert "Train a model (or upload one) to see inside it." in panel.inner_text()
        page.get_by_role("button", name="Train").click()
        panel.locator('[data-testid="stVegaLiteChart"] canvas').wait_for(timeout=120_000)
        states = set()
        deadline = time.monotonic() + 240
        while not page.get_by_text("Training complete in").count():
            assert time.monotonic() < deadline, "training did not finish"
            signature = panel.evaluate(CANVAS_SIGNATURE)
            if signature:
                states.add(signature)
            page.wait_for_timeout(100)
        wait_idle(page)
        states.add(panel.evaluate(CANVAS_SIGNATURE))
        # Epoch by epoch the weights move: the diagram was drawn in more than one state.
        assert len(states - {None}) >= 2
        assert panel.get_by_text("Unit", exact=True).count() >= 1
        DOCS.mkdir(parents=True, exist_ok=True)
        panel.screenshot(path=str(DOCS / "network.png"))
        assert_no_error(page)
    finally:
        context.close()


def _trainers_of(pid: int) -> list[int]:
    """The trainer processes (``colorclf.train.worker``) whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"colorclf.train.worker" in cmdline:
            found.append(int(entry.name))
    return found


def test_a_warm_trainer_starts_with_the_server_before_any_page_opens(browser, tmp_path):
    """Nobody opens a page: the server's start alone (st.App's lifespan) starts a trainer
    warming up, so the first Train of the day does not wait for TensorFlow's import; the
    page then opens as always."""
    database = f"sqlite:///{tmp_path / 'votes.sqlite'}"
    proc, url = start_streamlit({"COLORCLF_DB_URL": database})
    try:
        assert wait_until(lambda: _trainers_of(proc.pid), timeout=60), (
            "no trainer process started with the server"
        )
        warm = _trainers_of(proc.pid)
        context, page = open_page(browser, url, size=(1366, 768))
        try:
            page.get_by_role("button", name="Train").wait_for(state="visible", timeout=60_000)
            assert _trainers_of(proc.pid) == warm  # the page uses it: no second one starts
            assert_no_error(page)
        finally:
            context.close()
    finally:
        stop_streamlit(proc)
