"""The page's few CSS rules, in one place (presenter mode's large type is in presenter.py)."""

from __future__ import annotations

import streamlit as st

# ``stMainBlockContainer`` is one of the ``st`` classes Streamlit gives its blocks for
# styling. Its default top padding (6rem) put the views another 50 px below a laptop's
# screen; the toolbar above it is 3.75rem high. Should the class vanish, the page keeps
# Streamlit's padding.
# On a short screen (a 768 px laptop) the console keeps only its newest two lines in view, so
# the live chart can be tall and still end on the first screen: the box shrinks and its text
# sits at the bottom, the older lines cut off above (a screen reader still reads them).
# Presenter mode has its own two-line console (presenter.py). Streamlit gives the box's
# wrapper (``stLayoutWrapper``, a test id) the same fixed height as its flex basis.
_CONSOLE = ".st-key-training-console:not(.st-key-presenter-page .st-key-training-console)"
PAGE_CSS = f"""<style>.stMainBlockContainer {{ padding-top: 3.5rem; }}
@media (max-height: 900px) {{
  [data-testid="stLayoutWrapper"]:has(> {_CONSOLE}) {{ flex: 0 0 3.4rem !important;
    overflow: hidden !important; }}
  {_CONSOLE} {{ height: 3.4rem !important; justify-content: flex-end;
    overflow: hidden !important; }}
}}</style>"""

# Streamlit fades its captions with opacity 0.6: grey #828180 on white, 3.88:1, below WCAG
# AA's 4.5:1 for their 14 px type (axe-core's color-contrast rule). At 0.8 they stay quieter
# than the text, in a light and a dark theme alike, and read at ~7:1 on white. The test id
# ``stCaptionContainer`` is Streamlit's; should it vanish, captions keep Streamlit's grey.
READABLE_CSS = '<style>[data-testid="stCaptionContainer"] { opacity: 0.8 !important; }</style>'


def page_style() -> None:
    """Add the training page's CSS to this page run (pure CSS: it takes no room on the page)."""
    st.html(PAGE_CSS)


def readable_text() -> None:
    """Add the CSS every page needs for its text to be readable (WCAG AA contrast)."""
    st.html(READABLE_CSS)
