"""User text on the page: ``plain`` makes any text show as itself in a Markdown element."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colorclf.core.text import count, plain
from tests.conftest import rendered

HOSTILE = [
    "![x](https://evil.example/pixel.png)",
    "[Log in again](https://evil.example/login)",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ `code` ~~gone~~",
    "# heading",
    "1. list",
    "- item",
    "> quote",
    "https://evil.example/a www.evil.example me@evil.example",
    ":red[alarm] :material/warning: $x^2$",
    "a\\b \\* trailing\\",
    "&lt;b&gt; &amp;",
    "| a | b |",
    "x\n\n# y",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_shows_as_typed(text: str) -> None:
    assert " ".join(rendered(plain(text)).split()) == " ".join(text.split())


def test_bidi_overrides_and_controls_are_dropped() -> None:
    assert plain("abc\u202edef\u2066g\x00h\x1bi") == "abcdefg h i"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_any_text_renders_as_one_plain_paragraph(text: str) -> None:
    shown = plain(text)
    assert "\n" not in shown
    if shown:
        expected = "".join(" " if ch < " " or "\x7f" <= ch <= "\x9f" else ch for ch in text)
        expected = "".join(ch for ch in expected if ch not in "\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069\u200e\u200f")  # fmt: skip
        assert rendered(shown).split() == expected.split()  # and nothing but a paragraph


def test_count_says_one_in_the_singular() -> None:
    assert count(1, "contributor") == "1 contributor"
    assert count(0, "row") == "0 rows"
    assert count(5600, "colour") == "5,600 colours"
    assert count(2, "match", "matches") == "2 matches"
