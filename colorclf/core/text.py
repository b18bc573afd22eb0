"""Text for people: sizes and one-line messages (shared by data files, model files, the CLI)."""

from __future__ import annotations


def size_text(size: int) -> str:
    """A size for people: 512 bytes, 20.4 KB, 50 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def count(n: int, noun: str, nouns: str | None = None) -> str:
    """A number and its noun, singular or plural: "1 colour", "5,600 colours", "0 rows";
    ``nouns`` for an irregular plural."""
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"


def one_line(value: object, limit: int = 300) -> str:
    """A message squeezed to one line of at most ``limit`` characters (library exceptions may
    span several); an exception without a message is named by its type."""
    text = " ".join(str(value).split())
    if not text and isinstance(value, BaseException):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~:$&@^=%'\"/,;?")
# Bidirectional overrides and isolates: they reorder what follows on screen.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def plain(value: object) -> str:
    """Text from a user (a file name, a URL, a uid, a student's name, a link's value) made
    safe for Streamlit's Markdown elements (``st.caption``, ``st.error`` …): every ASCII
    punctuation character is backslash-escaped (CommonMark allows exactly that), so no link,
    image, emphasis, directive (``:red[…]``), formula or autolink can form; line breaks and
    other control characters become spaces and bidirectional overrides are dropped, so the
    text shows as one line, in the order it was typed.
    """
    out: list[str] = []
    for ch in str(value):
        if ch in _MARKDOWN_SPECIAL:
            out.append("\\" + ch)
        elif ch in _BIDI_CONTROLS:
            continue
        elif ch < " " or "\x7f" <= ch <= "\x9f":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out).strip()
