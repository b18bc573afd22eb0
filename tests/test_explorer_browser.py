"""The Data explorer's cleaning rules in the system Chromium at laptop size (1366×768): what
the widgets show, what the summary says and what would train must agree, after Reset too.

AppTest cannot show this defect: it reads a widget's value from the server's session state,
while a browser keeps showing (and sends back at the next touch) what it last drew unless the
server tells it the new value.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_idle

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
CONTRIBUTOR = "synthetic-007"


def _dropped(panel):
    """The explorer's "N rows dropped…" caption."""
    return panel.locator(
        '[data-testid="stCaptionContainer"]', has_text=re.compile(r"^[\d,]+ rows? dropped")
    )


def _summary(page) -> str:
    """The data summary above the Train button ("5,600 colours from … · source")."""
    captions = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    (text,) = [text for text in captions if re.match(r"[\d,]+ colours from .* · ", text)]
    return text


def _tags(panel) -> list[str]:
    """The contributors the "Drop contributors" box shows as chosen."""
    tags = panel.locator('[data-testid="stMultiSelect"] [data-tag] > span[title]')
    return [tags.nth(i).get_attribute("title") for i in range(tags.count())]


def test_reset_puts_the_widgets_and_the_training_set_back_to_the_full_data(
    browser, streamlit_server
):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    try:
        page.goto(streamlit_server)
        page.get_by_role("button", name="Train").wait_for(timeout=60_000)
        wait_idle(page)
        full = _summary(page)
        assert full.startswith("5,600 colours") and "cleaned" not in full
        page.get_by_role("tab", name="Data explorer").click()
        wait_idle(page)
        panel = page.get_by_role("tabpanel", name="Data explorer")
        expect(_dropped(panel)).to_have_text("0 rows dropped.")

        # Type one contributor's name and press Enter: that contributor, and only it, is dropped.
        drop = panel.get_by_role("combobox", name="Drop contributors")
        drop.click()
        drop.fill(CONTRIBUTOR)
        drop.press("Enter")
        page.keyboard.press("Escape")
        expect(_dropped(panel)).to_have_text(
            re.compile(rf"^(\d+) rows? dropped: \1 from contributor {CONTRIBUTOR}$")
        )
        wait_idle(page)
        assert [tag.split(" (")[0] for tag in _tags(panel)] == [CONTRIBUTOR]

        # Narrow the red hue range from the keyboard.
        start = panel.get_by_role("slider", name="Hue range to keep for red-ish (°) — start")
        end = panel.get_by_role("slider", name="Hue range to keep for red-ish (°) — end")
        start.focus()
        for _ in range(20):
            start.press("ArrowRight")
        expect(_dropped(panel)).to_contain_text("outside hue range for red-ish")
        wait_idle(page)
        assert start.input_value() == "20"
        cleaned = _summary(page)
        assert "cleaned" in cleaned and not cleaned.startswith("5,600 colours")

        panel.get_by_role("button", name="Reset cleaning rules").click()
        expect(_dropped(panel)).to_have_text("0 rows dropped.")
        wait_idle(page)
        # The widgets show the full data again ...
        assert (start.input_value(), end.input_value()) == ("0", "360")
        assert _tags(panel) == []
        assert _summary(page) == full

        # ... and the next touch (any widget: the browser sends every widget's value) keeps
        # it so: nothing dropped comes back.
        epochs = page.get_by_role("spinbutton", name="Epochs")
        epochs.fill("3")
        epochs.press("Enter")
        expect(page).to_have_url(re.compile(r"epochs=3"))
        wait_idle(page)
        expect(_dropped(panel)).to_have_text("0 rows dropped.")
        assert (start.input_value(), end.input_value()) == ("0", "360")
        assert _tags(panel) == []
        assert _summary(page) == full
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
