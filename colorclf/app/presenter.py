"""Presenter mode: the training page as a projector shows it to a room.

No sidebar (the navigation is hidden and nothing is drawn in it; the toggle moves to the
top of the page), the live chart across the page's whole width, and large type: the
status, the console, the prediction and the charts' axes are readable from the back row.
A link turns it on with ``?presenter=1``.
"""

from __future__ import annotations

import streamlit as st

KEY = "presenter"  # the toggle's key, and the link's parameter
PAGE_KEY = "presenter-page"  # the keyed container the large type applies to

# Streamlit gives a keyed container the CSS class ``st-key-<key>`` (documented with
# ``st.container(key=...)``); the rules below select that class and HTML tags, and two
# of the ``st`` classes Streamlit gives its blocks for styling: ``stMainBlockContainer``
# (its top padding: a projector is short) and ``stSlider`` (its numbers sit on the
# track). Should a class vanish, the page only loses that rule's look. The data set's
# caption and the status box's gaps are smaller than the rest: at 1280×720 the live chart,
# half the screen tall, must still end on it.
LARGE_TYPE_CSS = f"""<style>
.stMainBlockContainer {{ padding-top: 1.75rem !important; }}
.st-key-{PAGE_KEY} p, .st-key-{PAGE_KEY} li, .st-key-{PAGE_KEY} label,
.st-key-{PAGE_KEY} input, .st-key-{PAGE_KEY} button {{ font-size: 1.45rem !important; }}
.st-key-{PAGE_KEY} .stSlider p {{ font-size: 1.1rem !important; }}
.st-key-{PAGE_KEY} h3 {{ font-size: 2.2rem !important; }}
.st-key-{PAGE_KEY} .st-key-training-console div {{ font-size: 1.35rem !important;
  line-height: 1.4 !important; }}
.st-key-{PAGE_KEY} [data-testid="stCaptionContainer"] p {{ font-size: 1.15rem !important; }}
.st-key-{PAGE_KEY} .st-key-training-status {{ gap: 0.4rem; }}
</style>"""


def presenting() -> bool:
    """Whether this session shows presenter mode: its toggle's value, else (on a session's
    first run, before the page has read its link) the link's ``presenter`` flag."""
    state = st.session_state
    if KEY in state:
        return bool(state[KEY])
    from colorclf.core.links import read_link

    raw = st.query_params.get(KEY)
    return raw is not None and read_link({KEY: raw}).presenter


def presenter_toggle() -> bool:
    """The toggle (in the sidebar, or at the top of the page in presenter mode)."""
    return st.toggle(
        "Presenter mode",
        key=KEY,
        help="For a projector: no sidebar, large type, the live chart the page's width. "
        "A link with ?presenter=1 opens the page this way.",
    )


def large_type() -> None:
    """Add presenter mode's large type to this page run (pure CSS: it takes no room)."""
    st.html(LARGE_TYPE_CSS)
