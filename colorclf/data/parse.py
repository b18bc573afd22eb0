"""Parse a data file's bytes: the Coding Train's JSON (``{"entries": [...]}``), a raw Firebase
export (push id → entry, possibly under ``"colors"``), a bare JSON list of entries, and CSV with
the columns r, g, b, label and optionally uid. Rows are checked by ``colorclf.data.validate``.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import DataError
from colorclf.data import limits
from colorclf.data.validate import NOT_ENTRY, build

MAX_DEPTH = 64
_SCAN_CHUNK = 1 << 20
_BRACKETS = np.zeros(256, dtype=np.int8)
_BRACKETS[[ord("["), ord("{")]] = 1
_BRACKETS[[ord("]"), ord("}")]] = -1



def parse_bytes(data: bytes, name: str) -> ColorDataset:
    """Parse JSON (by the name's ``.json`` or content starting with ``{``/``[``) or CSV.

    Returns a ColorDataset or raises DataError; never anything else, for any input.
    """
    data = bytes(data)
    if len(data) > limits.MAX_BYTES:
        raise DataError(limits.too_big(name, len(data)))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(
            f"{name} is not UTF-8 text (undecodable byte at offset {err.start})"
        ) from None
    stripped = text.lstrip()
    if not stripped:
        raise DataError(f"{name} is empty")
    if name.lower().endswith(".json") or stripped[0] in "{[":
        rows, skipped = _json_rows(text, data, name)
    else:
        rows, skipped = _csv_rows(text, name)
    return build(rows, skipped, name)


def _json_rows(
    text: str, raw: bytes, name: str
) -> tuple[Iterator[tuple[Any, ...]], dict[str, int]]:
    depth = _max_depth(raw)
    if depth > MAX_DEPTH:
        raise DataError(f"{name} is nested too deeply ({depth} levels; a colour data set needs 3)")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{name} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from None
    except RecursionError:
        raise DataError(f"{name} is nested too deeply") from None
    except ValueError as err:  # e.g. an integer literal with thousands of digits
        raise DataError(f"{name} is not valid JSON: {err}") from None

    items = _json_items(document, name)
    skipped: dict[str, int] = {}

    def rows() -> Iterator[tuple[Any, ...]]:
        for item in items:
            if not isinstance(item, dict):
                skipped[NOT_ENTRY] = skipped.get(NOT_ENTRY, 0) + 1
                continue
            yield (item.get("r"), item.get("g"), item.get("b"), item.get("label"), item.get("uid"))

    return rows(), skipped


def _json_items(document: Any, name: str) -> list[Any]:
    """The list of entries in any of the accepted JSON shapes."""
    expected = 'expected {"entries": [...]}, a list of entries, or a Firebase export'
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise DataError(f"{name} has the wrong shape: a JSON {_json_type(document)}; {expected}")
    for key in ("entries", "colors"):
        if key in document:
            inner = document[key]
            if isinstance(inner, list):
                return inner
            if isinstance(inner, dict):
                return list(inner.values())
            raise DataError(
                f'{name} has the wrong shape: "{key}" is a JSON {_json_type(inner)}; {expected}'
            )
    if {"r", "g", "b"} <= document.keys():
        raise DataError(f"{name} has the wrong shape: a single colour entry; {expected}")
    return list(document.values())  # a Firebase export: push id → entry


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _max_depth(raw: bytes) -> int:
    """Deepest bracket nesting outside strings: linear, bounded memory, no recursion.

    Exact for valid JSON; for invalid JSON the parser reports the error anyway.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0
    # Drop escaped backslashes, then escaped quotes: every quote left opens or closes a string.
    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    deepest = level = quotes = 0
    for start in range(0, len(text), _SCAN_CHUNK):
        chunk = np.frombuffer(
            text, dtype=np.uint8, count=min(_SCAN_CHUNK, len(text) - start), offset=start
        )
        is_quote = chunk == ord('"')
        inside = ((np.cumsum(is_quote, dtype=np.int64) + quotes) & 1).astype(bool)
        quotes += int(is_quote.sum())
        steps = np.where(inside, 0, _BRACKETS[chunk])
        if steps.any():
            depth = np.cumsum(steps, dtype=np.int64) + level
            deepest = max(deepest, int(depth.max()))
            level = int(depth[-1])
    return deepest


def _csv_rows(text: str, name: str) -> tuple[Iterator[tuple[Any, ...]], dict[str, int]]:
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # extra fields in a row are ignored
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                index_col=False,
                skip_blank_lines=True,
            )
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} is empty (no CSV header)") from None
    except (pd.errors.ParserError, ValueError, TypeError, MemoryError) as err:
        message = str(err).replace("Error tokenizing data. C error: ", "").strip()
        raise DataError(f"{name} cannot be parsed as CSV: {message}") from None

    columns: dict[str, Any] = {}
    for column in frame.columns:
        key = str(column).strip().lower()
        if key in columns and key in ("r", "g", "b", "label", "uid"):
            raise DataError(f"{name} has the column {key!r} twice")
        columns.setdefault(key, column)
    missing = [c for c in ("r", "g", "b", "label") if c not in columns]
    if missing:
        found = ", ".join(str(c).strip() for c in list(frame.columns)[:10])
        more = ", …" if len(frame.columns) > 10 else ""
        raise DataError(
            f"{name} is missing the CSV column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (found: {found}{more}); the header must name r, g, b, label"
        )

    def column(key: str) -> Iterable[Any]:
        if key not in columns:
            return [None] * len(frame)
        return frame[columns[key]].tolist()

    rows = zip(column("r"), column("g"), column("b"), column("label"), column("uid"), strict=True)
    return iter(rows), {}
