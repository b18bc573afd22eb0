"""Text for people: sizes and one-line messages (shared by data files, model files, the CLI)."""

from __future__ import annotations


def size_text(size: int) -> str:
    """A size for people: 512 bytes, 20.4 KB, 50 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def one_line(value: object, limit: int = 300) -> str:
    """A message squeezed to one line of at most ``limit`` characters (library exceptions may
    span several); an exception without a message is named by its type."""
    text = " ".join(str(value).split())
    if not text and isinstance(value, BaseException):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
