"""The live chart in the system Chromium: pointing anywhere over it names the epoch and
every series there; it is tall enough to read on a laptop and on a projector; and no page
breaks a WCAG 2.1 A/AA rule that axe-core checks."""

from __future__ import annotations

import re

import pytest

from tests.conftest import wait_idle

pytestmark = pytest.mark.browser
TIMEOUT_MS = 180_000
CHART = '.st-key-live-chart [data-testid="stVegaLiteChart"]'
TOOLTIP = "#vg-tooltip-element"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _open(browser, url: str, size: tuple[int, int], ready: str = "Train"):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name=ready).first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)
    return context, page


def _train(page) -> None:
    page.get_by_role("button", name="Train").click()
    page.get_by_text("Run 1: Training complete").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)


def test_pointing_anywhere_over_either_panel_names_the_epoch_and_every_series(
    browser, streamlit_server
):
    from playwright.sync_api import expect

    context, page = _open(browser, f"{streamlit_server}/?epochs=3", (1366, 768))
    try:
        _train(page)
        chart = page.locator(f"{CHART} canvas")
        chart.wait_for(timeout=TIMEOUT_MS)
        box = chart.bounding_box()
        assert box is not None
        x, y, width, height = box["x"], box["y"], box["width"], box["height"]
        tooltip = page.locator(TOOLTIP)
        # The loss panel fills the upper part of the plot, the accuracy panel the lower; the
        # points lie off the lines (the old tooltip showed only on a line's pixels).
        for panel, fraction in (("loss", 0.4), ("accuracy", 0.78)):
            epochs = []
            for across in (0.2, 0.4, 0.6, 0.8, 0.97):  # the plot (the y axis is left of it)
                page.mouse.move(x + across * width, y + fraction * height, steps=4)
                expect(tooltip).to_be_visible(timeout=10_000)
                shown = re.compile(r"epoch\s*(\d+\.\d)")
                expect(tooltip).to_contain_text(shown, timeout=10_000)
                text = tooltip.inner_text()
                for name in ("batch loss", "loss (smoothed)", "accuracy (smoothed)", "val loss"):
                    assert name in text, (panel, across, text)
                epochs.append(float(shown.search(text).group(1)))
            assert epochs == sorted(epochs) and epochs[0] < epochs[-1], (panel, epochs)
            assert epochs[-1] >= 2.5, (panel, epochs)  # the right end is the last epoch's
        # The chart's name and its summary in words, for a screen reader.
        assert "Live training chart" in (page.locator(CHART).get_attribute("aria-label") or "")
        summary = re.compile(r"^Chart: after epoch 3 of 3, loss \d\.\d{4}, validation accuracy")
        page.get_by_text(summary).wait_for()
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_on_a_projector_the_chart_is_half_the_screen_and_all_on_it(browser, streamlit_server):
    width, height = 1280, 720
    context, page = _open(browser, f"{streamlit_server}/?presenter=1&epochs=2", (width, height))
    try:
        _train(page)
        box = page.locator(CHART).bounding_box()
        status = page.locator(".st-key-training-status").bounding_box()
        assert box is not None and status is not None
        assert box["height"] >= height / 2, box
        assert status["y"] >= 0 and box["y"] + box["height"] <= height, (status, box)
    finally:
        context.close()


@pytest.mark.parametrize(
    ("path", "size", "ready", "train"),
    [
        ("", (1366, 768), "Train", False),
        ("?epochs=2", (1366, 768), "Train", True),
        ("label", (390, 844), "grey-ish", False),
        ("class", (1366, 768), None, False),
        ("?presenter=1&epochs=2", (1280, 720), "Train", True),
    ],
    ids=["train", "after-a-run", "label", "class", "presenter"],
)
def test_no_page_breaks_a_wcag_rule_axe_checks(browser, streamlit_server, path, size, ready, train):
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        page.goto(f"{streamlit_server}/{path}")
        if ready is None:
            page.get_by_role("heading", name="Class board").wait_for(timeout=TIMEOUT_MS)
        else:
            page.get_by_role("button", name=ready, exact=True).wait_for(timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        if train:
            _train(page)
        violations = _axe_on_a_still_page(page, Axe())
        found = [
            (rule["id"], rule["impact"], [node["target"] for node in rule["nodes"]][:3])
            for rule in violations
        ]
        assert found == [], found
    finally:
        context.close()


# Counts the script runs (the board's timer runs a fragment every few seconds) that start
# while axe looks: Streamlit fades a running fragment's elements, which axe reads as grey.
WATCH_RUNS_JS = """() => {
  window.colorclfRuns = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.colorclfRuns += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def _axe_on_a_still_page(page, axe, tries: int = 5) -> list[dict]:
    """axe's violations, from a look during which no script or fragment ran (else again)."""
    options = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
    page.evaluate(WATCH_RUNS_JS)
    for _ in range(tries):
        wait_idle(page, TIMEOUT_MS)
        page.evaluate("() => { window.colorclfRuns = 0; }")
        violations = axe.run(page, options=options).response["violations"]
        if page.evaluate("() => window.colorclfRuns") == 0:
            return violations
    raise AssertionError(f"a script ran during each of {tries} looks by axe")
