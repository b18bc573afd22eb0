"""The limits of every data source (a file, an upload, a download): bytes, and what parsing
may build from them, so that time and memory are bounded by what is read, not only by size."""

from __future__ import annotations

from colorclf.core.text import size_text

MAX_BYTES = 16 * 1024 * 1024
MAX_ROWS = 100_000  # 18 times the Coding Train's crowd data
MAX_COLUMNS = 64  # r, g, b, label, uid and whatever else a spreadsheet carries
MAX_LINE = 10_000  # characters in one line of a CSV file


def too_big(name: str, size: int | None = None) -> str:
    """The message for a source over ``MAX_BYTES`` (``size`` None: a download that kept going)."""
    limit = size_text(MAX_BYTES)
    if size is None:
        return f"{name} is too big: more than {limit}"
    return f"{name} is too big: {size_text(size)} (the limit is {limit})"


def too_many_rows(name: str, count: int) -> str:
    """The message for a source with more than ``MAX_ROWS`` rows (``count``: at least)."""
    return f"{name} has too many rows: {count:,} (the limit is {MAX_ROWS:,})"
