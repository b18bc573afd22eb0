"""A lesson in a real browser at a laptop's size: presenter mode (what a projector shows a
room), runs compared, an exact colour asked."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from tests.conftest import start_streamlit, stop_streamlit, wait_idle
from tests.test_browser import DOCS

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 1366, 768
TIMEOUT_MS = 180_000

LOOK = """() => {
  const font = (el) => el ? parseFloat(getComputedStyle(el).fontSize) : 0;
  const chart = document.querySelector('.st-key-live-chart [data-testid=stVegaLiteChart]');
  const answer = document.querySelector('.st-key-presenter-page .colorclf-ask-headline');
  return {
    sidebars: document.querySelectorAll('[data-testid=stSidebar]').length,
    chart: chart && chart.getBoundingClientRect().toJSON(),
    status: font(document.querySelector('.st-key-training-status p')),
    console: font(document.querySelector('.st-key-training-console div')),
    answer: answer ? answer.innerText : null,
    answerFont: font(answer),
  };
}"""


@contextmanager
def laptop_page(browser, url: str) -> Iterator[object]:
    """``url`` open at a laptop's size, its Train button drawn and the page idle."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    try:
        page.goto(url)
        page.get_by_role("button", name="Train").wait_for(timeout=TIMEOUT_MS)
        wait_idle(page)
        yield page
    finally:
        context.close()


def train_once(page, run: int = 1) -> None:
    page.get_by_role("button", name="Train").click()
    page.get_by_text(f"Run {run}: Training complete").first.wait_for(timeout=TIMEOUT_MS)


def test_a_presenter_link_opens_a_projector_view_and_the_toggle_leaves_it(
    browser, streamlit_server
):
    with laptop_page(browser, f"{streamlit_server}/?presenter=1&epochs=2") as page:
        assert page.evaluate(LOOK)["sidebars"] == 0  # no sidebar, not even a collapsed one
        assert page.get_by_role("spinbutton", name="Epochs").count() == 0
        train_once(page)
        page.get_by_text("Epoch 2/2 · loss").first.wait_for(timeout=TIMEOUT_MS)
        page.locator(".st-key-presenter-page .colorclf-ask-headline").first.wait_for(
            timeout=TIMEOUT_MS
        )
        look = page.evaluate(LOOK)
        chart = look["chart"]
        assert chart is not None and chart["width"] >= 0.7 * WIDTH, chart
        assert chart["top"] >= 0 and chart["bottom"] <= HEIGHT, chart  # all on the first screen
        assert look["status"] >= 20 and look["console"] >= 20, look  # the page's 16 px, larger
        assert look["answer"] and look["answerFont"] >= 56, look
        assert page.locator('[data-testid="stException"]').count() == 0
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / "presenter.png"))  # the README's projector view

        page.get_by_text("Presenter mode").click()
        page.locator("[data-testid=stSidebar]").wait_for(timeout=TIMEOUT_MS)
        epochs = page.get_by_role("spinbutton", name="Epochs")
        epochs.wait_for(timeout=TIMEOUT_MS)
        assert epochs.input_value() == "2"  # the link's settings stayed
        assert page.get_by_text("Run 1: Training complete").count() >= 1


def test_a_second_run_joins_the_comparison_with_a_legend_of_what_differs(browser, streamlit_server):
    with laptop_page(browser, f"{streamlit_server}/?epochs=2") as page:
        for run, rate in ((1, None), (2, "1")):
            if rate is not None:
                field = page.get_by_role("spinbutton", name="Learning rate")
                field.fill(rate)
                field.press("Enter")
                page.wait_for_function(  # the page took it: its link says so
                    "() => location.search.includes('learning_rate=1')", timeout=TIMEOUT_MS
                )
            train_once(page, run)
        page.get_by_role("tab", name="Runs").click()
        panel = page.get_by_role("tabpanel", name="Runs")
        legend = panel.locator("svg").get_by_text("Run 2 · learning rate 1")
        legend.wait_for(timeout=TIMEOUT_MS)
        assert panel.locator("svg").get_by_text("Run 1 · learning rate 0.25").count() == 1
        table = panel.locator("[data-testid=stDataFrame]").first.bounding_box()
        assert table is not None and table["x"] + table["width"] <= WIDTH  # not cut off
        assert page.locator('[data-testid="stException"]').count() == 0


def test_an_exact_colour_sets_the_sliders_and_the_bars_show_their_numbers(
    browser, streamlit_server
):
    with laptop_page(browser, f"{streamlit_server}/?epochs=2") as page:
        train_once(page)
        field = page.get_by_role("textbox", name="Exact colour")
        field.fill("128, 128, 128")
        field.press("Enter")
        page.get_by_text("This colour: 128, 128, 128 · #808080").wait_for(timeout=TIMEOUT_MS)
        from playwright.sync_api import expect

        for name in ("Red", "Green", "Blue"):  # the sliders moved there too
            expect(page.get_by_role("slider", name=name)).to_have_value("128", timeout=TIMEOUT_MS)
        bars = page.get_by_role("list", name="Probabilities")
        items = bars.get_by_role("listitem")
        assert items.count() == 9
        numbers = [int(re.findall(r"(\d+)%", text)[-1]) for text in items.all_inner_texts()]
        assert all(0 <= n <= 100 for n in numbers) and 95 <= sum(numbers) <= 105, numbers

        # A slider moved: the field empties once the sliders rest (the server heard them),
        # and a page run keeps the colour the browser chose.
        page.get_by_role("slider", name="Blue").press("End")
        page.get_by_text("This colour: 128, 128, 255 · #8080ff").wait_for(timeout=TIMEOUT_MS)
        expect(field).to_have_value("", timeout=TIMEOUT_MS)
        page.get_by_role("button", name="Train").click()
        page.get_by_text("Run 2: Training complete").first.wait_for(timeout=TIMEOUT_MS)
        expect(page.get_by_role("slider", name="Blue")).to_have_value("255")
        page.get_by_text("This colour: 128, 128, 255 · #8080ff").wait_for(timeout=TIMEOUT_MS)
        assert page.locator('[data-testid="stException"]').count() == 0


ANSWERS = """() => Array.from(document.querySelectorAll('.colorclf-ask')).map((el) => [
  el.querySelector('.colorclf-ask-headline').innerText,
  el.querySelector('.colorclf-ask-detail').innerText,
  Array.from(el.querySelectorAll('[role=listitem]'))
    .map((row) => row.innerText.match(/(\\d+)%/)[1]).join(' '),
])"""


def _packed(values: list[float]) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


STALE_WEIGHTS = {  # a network that says red-ish to everything, from another session
    "session": "the session before",
    "serial": 10_000,
    "layers": [
        {
            "rows": 3,
            "cols": 9,
            "kernel": _packed([0.0] * 27),
            "bias": _packed([50.0] + [0.0] * 8),
            "activation": "softmax",
        }
    ],
}


def test_the_browser_answers_as_the_server_side_predictor_does(browser):
    """The sliders run the network in the browser; for every activation, the headline, the
    top two and the nine bars are what ``Predictor`` and ``describe_answer`` say."""
    proc, url = start_streamlit(script="tests/ask_widget_app.py")
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page = context.new_page()
        # Weights a page can still hold from the session before a reconnect (a live panel's
        # last epoch): the sliders must not take them for this session's newest.
        page.add_init_script(f"window.colorclfAskWeights = {json.dumps(STALE_WEIGHTS)};")
        page.goto(url)
        expected = page.locator('[data-testid="stText"]').filter(has_text=re.compile(r"^case "))
        expected.last.wait_for(timeout=TIMEOUT_MS)
        cases = expected.all_inner_texts()
        page.wait_for_function(  # every component drew its answer
            f"() => document.querySelectorAll('.colorclf-ask-bars [role=listitem]').length"
            f" === {9 * len(cases)}",
            timeout=TIMEOUT_MS,
        )
        shown = [" | ".join(answer) for answer in page.evaluate(ANSWERS)]
        assert len(cases) >= 10
        assert shown == [case.split(": ", 1)[1] for case in cases]
    finally:
        context.close()
        stop_streamlit(proc)
