"""The crowd beside the model in a real browser: the sliders move to colours of known votes
and the panel shows what ``views/crowd.py`` says there, in the labels' colours, without
asking the server (the table came once)."""

from __future__ import annotations

import re

import pytest

from colorclf.core.labels import LABEL_COLORS
from tests.conftest import start_streamlit, stop_streamlit, wait_idle

pytestmark = pytest.mark.browser
TIMEOUT_MS = 180_000

CROWD_JS = """() => {
  const box = document.querySelector('.colorclf-ask-crowd');
  const parts = Array.from(box.querySelectorAll('.colorclf-ask-crowd-bar span'));
  return {
    hidden: box.hidden,
    caption: box.querySelector('.colorclf-ask-crowd-caption').innerText,
    text: box.querySelector('.colorclf-ask-crowd-text').innerText,
    said: box.querySelector('.colorclf-ask-crowd-disagree').innerText,
    colour: document.querySelector('.colorclf-ask-colour').innerText,
    bar: parts.map((part) => [getComputedStyle(part).backgroundColor, part.style.width]),
  };
}"""


def rgb_css(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_the_crowd_follows_the_sliders(browser):
    proc, url = start_streamlit(script="tests/crowd_widget_app.py")
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        page.goto(url)
        expected_texts = page.locator('[data-testid="stText"]').filter(
            has_text=re.compile("^crowd")
        )
        expected_texts.last.wait_for(timeout=TIMEOUT_MS)
        wait_idle(page)
        expected = dict(text.split(": ", 1) for text in expected_texts.all_inner_texts())
        assert len(expected) == 4

        def check(colour: str) -> dict:
            text, said = (part.strip() for part in expected[f"crowd {colour}"].split(" |"))
            page.wait_for_function(
                "([colour, text]) => document.querySelector('.colorclf-ask-colour').innerText"
                ".startsWith(`This colour: ${colour} `) && document.querySelector("
                "'.colorclf-ask-crowd-text').innerText === text",
                arg=[colour, text],
                timeout=TIMEOUT_MS,
            )
            shown = page.evaluate(CROWD_JS)
            assert not shown["hidden"] and "32 levels a side" in shown["caption"]
            assert shown["said"] == said
            return shown

        shown = check("0, 0, 0")
        assert shown["text"] == "Too few votes near this colour" and shown["bar"] == []
        page.get_by_role("slider", name="Blue").press("End")  # (0, 0, 255)
        shown = check("0, 0, 255")
        assert shown["text"] == (
            "8 votes for colours like this: blue-ish 63 %, purple-ish 25 %, grey-ish 13 %"
        )
        assert shown["said"] == "The model says red-ish, most people said blue-ish."
        # The bar: each name's share in its colour, the label order.
        assert shown["bar"] == [
            [rgb_css(LABEL_COLORS["blue-ish"]), "62.5%"],
            [rgb_css(LABEL_COLORS["purple-ish"]), "25%"],
            [rgb_css(LABEL_COLORS["grey-ish"]), "12.5%"],
        ]
        page.get_by_role("slider", name="Red").press("End")  # (255, 0, 255): a tie
        shown = check("255, 0, 255")
        assert shown["text"] == "6 votes for colours like this: pink-ish 50 %, purple-ish 50 %"
        page.get_by_role("slider", name="Blue").press("Home")  # (255, 0, 0): they agree
        shown = check("255, 0, 0")
        assert shown["text"] == "5 votes for colours like this: red-ish 100 %"
        assert shown["said"] == ""
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
        stop_streamlit(proc)
