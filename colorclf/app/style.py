"""The page's few CSS rules, in one place (presenter mode's large type is in presenter.py)."""

from __future__ import annotations

import streamlit as st

# ``stMainBlockContainer`` is one of the ``st`` classes Streamlit gives its blocks for
# styling. Its default top padding (6rem) put the views another 50 px below a laptop's
# screen; the toolbar above it is 3.75rem high. Should the class vanish, the page keeps
# Streamlit's padding.
PAGE_CSS = "<style>.stMainBlockContainer { padding-top: 3.5rem; }</style>"


def page_style() -> None:
    """Add the page's CSS to this page run (pure CSS: it takes no room on the page)."""
    st.html(PAGE_CSS)
