"""Parse a data file's bytes: the Coding Train's JSON (``{"entries": [...]}``), a raw Firebase
export (push id → entry, possibly under ``"colors"``), a bare JSON list of entries, and CSV with
the columns r, g, b, label and optionally uid. Rows are checked by ``colorclf.data.validate``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import DataError
from colorclf.data import limits
from colorclf.data.validate import NOT_ENTRY, build

MAX_DEPTH = 64
MAX_VALUES_PER_ROW = 16  # an entry has five fields; leave room for extras and Firebase ids
_SCAN_CHUNK = 1 << 18
_BRACKETS = np.zeros(256, dtype=np.int8)
_BRACKETS[[ord("["), ord("{")]] = 1
_BRACKETS[[ord("]"), ord("}")]] = -1
_KINDS = np.zeros(256, dtype=np.int8)  # 1: a bracket, 2: an object's brace, 3: a comma
_KINDS[[ord("["), ord("]"), ord("}")]] = 1
_KINDS[ord("{")] = 2
_KINDS[ord(",")] = 3


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
        rows, skipped = _csv_rows(text, data, name)
    return build(rows, skipped, name)


def _big_int(digits: str) -> int:
    """JSON integers: one with more digits than any colour needs stands for "out of range"
    (its row is skipped), instead of Python's int-size error rejecting the whole file."""
    return int(digits) if len(digits) <= 20 else 10**6


class _Entry(tuple[Any, ...]):
    """A colour entry as soon as the JSON decoder has built it: (r, g, b, label, uid), not a
    dict, so a file at the row limit costs a fraction of the memory."""

    __slots__ = ()


def _entry_or_object(obj: dict[str, Any]) -> Any:
    """``json.loads``' object hook: an object with r, g and b becomes an ``_Entry``."""
    if "r" in obj and "g" in obj and "b" in obj and "entries" not in obj and "colors" not in obj:
        return _Entry((obj["r"], obj["g"], obj["b"], obj.get("label"), obj.get("uid")))
    return obj


def _json_rows(
    text: str, raw: bytes, name: str
) -> tuple[Iterator[tuple[Any, ...]], dict[str, int]]:
    depth, objects, values = _json_shape(raw)
    if depth > MAX_DEPTH:
        raise DataError(f"{name} is nested too deeply ({depth} levels; a colour data set needs 3)")
    if objects > limits.MAX_ROWS + 2:
        raise DataError(limits.too_many_rows(name, objects))
    if values > limits.MAX_ROWS * MAX_VALUES_PER_ROW:
        raise DataError(
            f"{name} holds too many values: {values:,} (the limit is "
            f"{limits.MAX_ROWS * MAX_VALUES_PER_ROW:,}, {MAX_VALUES_PER_ROW} per row)"
        )
    try:
        try:
            document = json.loads(text, object_hook=_entry_or_object)
        except ValueError as err:
            if isinstance(err, json.JSONDecodeError) or "digits" not in str(err):
                raise
            # An integer past Python's digit limit: parse again, a Python call per integer.
            document = json.loads(text, parse_int=_big_int, object_hook=_entry_or_object)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{name} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from None
    except RecursionError:
        raise DataError(f"{name} is nested too deeply") from None
    except ValueError as err:
        raise DataError(f"{name} is not valid JSON: {err}") from None

    items = _json_items(document, name)
    skipped: dict[str, int] = {}

    def rows() -> Iterator[tuple[Any, ...]]:
        for item in items:
            if type(item) is _Entry:
                yield item
                continue
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
    if isinstance(document, _Entry):
        raise DataError(f"{name} has the wrong shape: a single colour entry; {expected}")
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


def _json_shape(raw: bytes) -> tuple[int, int, int]:
    """(deepest nesting, objects, values) counted outside strings, before anything is built:
    linear, bounded memory, no recursion. Exact for valid JSON; for invalid JSON the parser
    reports the error anyway. ``values`` counts commas + 1, an upper bound of array items
    and object members.
    """
    # Drop escaped backslashes, then escaped quotes: every quote left opens or closes a string.
    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    deepest = level = quotes = objects = commas = 0
    for start in range(0, len(text), _SCAN_CHUNK):
        chunk = np.frombuffer(
            text, dtype=np.uint8, count=min(_SCAN_CHUNK, len(text) - start), offset=start
        )
        is_quote = chunk == ord('"')
        # Parity of the quotes so far (uint8 wraps, parity survives): even means outside.
        outside = ((np.cumsum(is_quote, dtype=np.uint8) + (quotes & 1)) & 1) == 0
        quotes += int(np.count_nonzero(is_quote))
        marks = np.flatnonzero(outside & (_KINDS[chunk] != 0))
        kinds = _KINDS[chunk[marks]]
        commas += int(np.count_nonzero(kinds == 3))
        objects += int(np.count_nonzero(kinds == 2))
        steps = _BRACKETS[chunk[marks]]
        if steps.any():
            depth = np.cumsum(steps, dtype=np.int64) + level
            deepest = max(deepest, int(depth.max()))
            level = int(depth[-1])
    return deepest, objects, commas + 1


def _line_lengths_ok(raw: bytes, name: str) -> None:
    """Refuse before parsing: more than ``limits.MAX_ROWS`` lines or a line longer than
    ``limits.MAX_LINE`` bytes (both bound what the CSV reader builds); linear, and no array
    larger than one chunk."""
    count = raw.count(b"\n")
    if count > limits.MAX_ROWS + 1:
        raise DataError(limits.too_many_rows(name, count))
    previous, line = -1, 0  # the last line end seen, lines before this chunk
    for start in range(0, len(raw) + 1, _SCAN_CHUNK):
        size = min(_SCAN_CHUNK, len(raw) - start)
        chunk = np.frombuffer(raw, dtype=np.uint8, count=size, offset=start)
        ends = np.flatnonzero(chunk == ord("\n")) + start
        if start + size >= len(raw):
            ends = np.append(ends, len(raw))
        if not len(ends):
            if start + size - previous - 1 > limits.MAX_LINE:
                _line_too_long(name, line + 1)
            continue
        lengths = np.diff(ends, prepend=previous) - 1
        if int(lengths.max()) > limits.MAX_LINE:
            _line_too_long(name, line + int(np.argmax(lengths)) + 1)
        previous, line = int(ends[-1]), line + len(ends)


def _line_too_long(name: str, line: int) -> None:
    raise DataError(
        f"{name} has a line longer than {limits.MAX_LINE:,} characters (line {line}): "
        "not a colour data file"
    )


def _csv_rows(text: str, raw: bytes, name: str) -> tuple[Iterator[tuple[Any, ...]], dict[str, int]]:
    if raw.count(b"\r") > raw.count(b"\n"):  # old Mac line ends: count lines by \r
        raw = raw.replace(b"\r", b"\n")
    _line_lengths_ok(raw, name)
    reader = csv.reader(_lines(text), strict=True)
    try:
        header = next(reader, None)
        while header == []:  # blank lines before the header
            header = next(reader, None)
    except csv.Error as err:
        raise DataError(_csv_problem(name, err, reader.line_num)) from None
    if header is None:
        raise DataError(f"{name} is empty (no CSV header)")
    if len(header) > limits.MAX_COLUMNS:
        raise DataError(
            f"{name} has {len(header):,} columns in its header (at most {limits.MAX_COLUMNS}); "
            "the header must name r, g, b, label"
        )
    columns: dict[str, int] = {}
    for index, column in enumerate(header):
        key = column.strip().lower()
        if key in columns and key in ("r", "g", "b", "label", "uid"):
            raise DataError(f"{name} has the column {key!r} twice")
        columns.setdefault(key, index)
    missing = [c for c in ("r", "g", "b", "label") if c not in columns]
    if missing:
        found = ", ".join(c.strip() for c in header[:10])
        more = ", …" if len(header) > 10 else ""
        raise DataError(
            f"{name} is missing the CSV column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (found: {found}{more}); the header must name r, g, b, label"
        )
    wanted = [columns.get(key, -1) for key in ("r", "g", "b", "label", "uid")]

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            for row in reader:
                if not row:
                    continue  # a blank line
                width = len(row)
                yield tuple(row[i] if 0 <= i < width else None for i in wanted)
        except csv.Error as err:
            raise DataError(_csv_problem(name, err, reader.line_num)) from None

    return rows(), {}


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their ends, one at a time (``io.StringIO`` would hold the whole
    text again as four bytes a character)."""
    end_mark = "\r" if text.count("\r") > text.count("\n") else "\n"
    start = 0
    while start < len(text):
        end = text.find(end_mark, start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _csv_problem(name: str, err: csv.Error, line: int) -> str:
    message = str(err)
    if "unexpected end of data" in message:
        message = f"EOF inside string starting at line {line}"
    elif "NUL" in message:
        message = f"a NUL character at line {line}"
    else:
        message = f"{message} (line {line})"
    return f"{name} cannot be parsed as CSV: {message}"
