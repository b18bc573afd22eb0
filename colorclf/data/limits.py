"""The one size limit of every data source (a file, an upload, a download)."""

from __future__ import annotations

from colorclf.core.text import size_text

MAX_BYTES = 50 * 1024 * 1024


def too_big(name: str, size: int | None = None) -> str:
    """The message for a source over ``MAX_BYTES`` (``size`` None: a download that kept going)."""
    limit = size_text(MAX_BYTES)
    if size is None:
        return f"{name} is too big: more than {limit}"
    return f"{name} is too big: {size_text(size)} (the limit is {limit})"
