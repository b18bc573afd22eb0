"""Row-by-row validation: like the Coding Train's own cleaning, bad rows are skipped, not fatal,
and counted per reason in ``ColorDataset.skipped``; a source with no valid row is a DataError.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import DataError
from colorclf.core.labels import LABELS, normalise_label

# Why a row was skipped. A row counts once, under the first reason that applies, checked in
# this order: a field is missing, r/g/b is not an integer, r/g/b is outside 0..255, the label
# is not one of the nine. "not an entry" is a JSON item that is not an object.
MISSING = "missing value"
NOT_INTEGER = "not an integer"
OUT_OF_RANGE = "out of range"
UNKNOWN_LABEL = "unknown label"
NOT_ENTRY = "not an entry"
INVALID_TEXT = "invalid text"  # a uid that is not valid Unicode (a lone surrogate) or too long
SKIP_REASONS: tuple[str, ...] = (
    MISSING,
    NOT_INTEGER,
    OUT_OF_RANGE,
    UNKNOWN_LABEL,
    NOT_ENTRY,
    INVALID_TEXT,
)
MAX_UID_LENGTH = 200

ANONYMOUS = "anonymous"
_INTEGER_TEXT = re.compile(r"\s*(?:\+?0*(\d+)|-\s*0*(\d+))(?:\.0*)?\s*", re.ASCII)


def _integer(value: Any) -> int | str:
    """The channel value as an int, or the skip reason."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return NOT_INTEGER
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else NOT_INTEGER
    if isinstance(value, str):
        if not value.strip():
            return MISSING
        match = _INTEGER_TEXT.fullmatch(value)
        if match is None:
            return NOT_INTEGER
        digits = match.group(1) or match.group(2)
        magnitude = int(digits) if len(digits) <= 6 else 10**6
        return -magnitude if match.group(2) is not None else magnitude
    return NOT_INTEGER


def _label(value: Any) -> int | str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return MISSING
    if not isinstance(value, str):
        return UNKNOWN_LABEL
    label = normalise_label(value)
    return UNKNOWN_LABEL if label is None else LABELS.index(label)


def _uid(value: Any) -> str | None:
    """The contributor id; None for text that is not valid Unicode (JSON's ``"\\ud800"``
    decodes to a lone surrogate, which pyarrow and every export refuse) or too long."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_UID_LENGTH:
            return None
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return text or ANONYMOUS
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ANONYMOUS


class _RowChecker:
    """Validates rows; remembers what each text value meant, since the same few hundred
    strings ("0".."255", the nine labels) make up almost every row of a real file."""

    def __init__(self) -> None:
        self._texts: dict[str, int | str] = {}
        self._labels: dict[str, int | str] = {}

    def _integer(self, value: Any) -> int | str:
        if type(value) is int:
            return value
        if type(value) is str:
            known = self._texts.get(value)
            if known is None:
                known = self._texts[value] = _integer(value)
            return known
        return _integer(value)

    def _label(self, value: Any) -> int | str:
        if type(value) is str:
            known = self._labels.get(value)
            if known is None:
                known = self._labels[value] = _label(value)
            return known
        return _label(value)

    def check(self, r: Any, g: Any, b: Any, label: Any) -> tuple[int, int, int, int] | str:
        """The row's (r, g, b, label index), or the reason to skip it (see ``SKIP_REASONS``)."""
        red, green, blue = self._integer(r), self._integer(g), self._integer(b)
        label_index = self._label(label)
        values = (red, green, blue, label_index)
        for reason in (MISSING, NOT_INTEGER):
            if reason in values:
                return reason
        if not (isinstance(red, int) and isinstance(green, int) and isinstance(blue, int)):
            return NOT_INTEGER  # unreachable: every non-int above is a reason
        if not (0 <= red <= 255 and 0 <= green <= 255 and 0 <= blue <= 255):
            return OUT_OF_RANGE
        if isinstance(label_index, str):
            return label_index
        return red, green, blue, label_index


def build(rows: Iterator[tuple[Any, ...]], skipped: dict[str, int], name: str) -> ColorDataset:
    check = _RowChecker().check
    uids: dict[str, str | None] = {}
    rgb: list[tuple[int, int, int]] = []
    labels: list[int] = []
    contributors: list[str] = []
    for r, g, b, label, uid in rows:
        result = check(r, g, b, label)
        if type(result) is str:
            skipped[result] = skipped.get(result, 0) + 1
            continue
        if type(uid) is str:
            contributor = uids[uid] if uid in uids else uids.setdefault(uid, _uid(uid))
        else:
            contributor = _uid(uid)
        if contributor is None:
            skipped[INVALID_TEXT] = skipped.get(INVALID_TEXT, 0) + 1
            continue
        red, green, blue, label_index = result
        rgb.append((red, green, blue))
        labels.append(label_index)
        contributors.append(contributor)
    ordered = {reason: skipped[reason] for reason in SKIP_REASONS if skipped.get(reason)}
    if not labels:
        total = sum(ordered.values())
        if total == 0:
            raise DataError(f"{name} holds no entries")
        detail = ", ".join(f"{reason}: {count}" for reason, count in ordered.items())
        raise DataError(f"no valid row in {name}: {total} skipped ({detail})")
    return ColorDataset(
        rgb=np.array(rgb, dtype=np.uint8).reshape(-1, 3),
        label=np.array(labels, dtype=np.int64),
        contributor=np.array(contributors, dtype=object),
        skipped=ordered,
        source=name,
    )
