"""Read colour data sets from every source the app offers and validate them row by row.

Sources: the built-in synthetic set, the class votes database, a file path, an upload's
bytes, an http(s) URL. Formats: the Coding Train's JSON (``{"entries": [...]}``), a raw
Firebase export (push id → entry, possibly under ``"colors"``), a bare JSON list of entries,
and CSV with the columns r, g, b, label and optionally uid.

Like the Coding Train's own cleaning, bad rows are skipped, not fatal, and counted per
reason in ``ColorDataset.skipped``. A source that cannot be read at all, or holds no valid
row, raises ``DataError`` with a message that says what is wrong and where.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from colorclf import __version__
from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import DataError
from colorclf.core.labels import LABELS, normalise_label

MAX_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 64
CODING_TRAIN_URL = (
    "https://raw.githubusercontent.com/CodingTrain/ColorClassifer-TensorFlow.js"
    "/master/colorData.json"
)

# Why a row was skipped. A row counts once, under the first reason that applies, checked in
# this order: a field is missing, r/g/b is not an integer, r/g/b is outside 0..255, the label
# is not one of the nine. "not an entry" is a JSON item that is not an object.
MISSING = "missing value"
NOT_INTEGER = "not an integer"
OUT_OF_RANGE = "out of range"
UNKNOWN_LABEL = "unknown label"
NOT_ENTRY = "not an entry"
SKIP_REASONS: tuple[str, ...] = (MISSING, NOT_INTEGER, OUT_OF_RANGE, UNKNOWN_LABEL, NOT_ENTRY)

ANONYMOUS = "anonymous"
_CHUNK = 64 * 1024
_INTEGER_TEXT = re.compile(r"\s*(?:\+?0*(\d+)|-\s*0*(\d+))(?:\.0*)?\s*", re.ASCII)
_SCAN_CHUNK = 1 << 20
_BRACKETS = np.zeros(256, dtype=np.int8)
_BRACKETS[[ord("["), ord("{")]] = 1
_BRACKETS[[ord("]"), ord("}")]] = -1


# ---------------------------------------------------------------------------- sources


def load_source(source: str) -> ColorDataset:
    """``"builtin"``, ``"votes"``, an http(s) URL, or a file path."""
    text = source.strip()
    if text == "builtin":
        from colorclf.builtin import builtin_dataset

        return builtin_dataset()
    if text == "votes":
        from colorclf.store import load_votes_dataset

        return load_votes_dataset()
    if text.lower().startswith(("http://", "https://")):
        return load_url(text)
    return load_path(source)


def load_path(path: str | Path) -> ColorDataset:
    """Read and parse a JSON or CSV file (at most ``MAX_BYTES``)."""
    p = Path(path)
    name = str(path)
    try:
        if not p.exists():
            raise DataError(f"no such file: {name}")
        if p.is_dir():
            raise DataError(f"{name} is a directory, not a data file")
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise DataError(f"{name} is too big: {_megabytes(size)} (the limit is {_limit()})")
        with p.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise DataError(f"cannot read {name}: {err.strerror or err}") from None
    return parse_bytes(data, name)


def load_bytes(data: bytes, name: str) -> ColorDataset:
    """An uploaded file's content; ``name`` (the file name) picks the format and is quoted in
    messages."""
    return parse_bytes(bytes(data), name or "upload")


def load_url(url: str, timeout: float = 20.0) -> ColorDataset:
    """Download and parse a data set; at most ``MAX_BYTES``, at most ``timeout`` seconds.

    The timeout bounds the whole download, not only each network read, so a server that
    trickles bytes cannot hang the app.
    """
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise DataError(f"not a valid URL: {url!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise DataError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers={"User-Agent": f"colorclf/{__version__}"})
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.strip().isdigit() and int(length) > MAX_BYTES:
                raise DataError(
                    f"{url} is too big: {_megabytes(int(length))} (the limit is {_limit()})"
                )
            data = _read_bounded(response, url, deadline, timeout)
    except DataError:
        raise
    except urllib.error.HTTPError as err:
        raise DataError(f"cannot download {url}: HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise DataError(f"cannot download {url}: {_network_reason(err.reason, timeout)}") from None
    except TimeoutError:
        raise DataError(f"cannot download {url}: timed out after {timeout:g} s") from None
    except (OSError, http.client.HTTPException, ValueError) as err:
        raise DataError(f"cannot download {url}: {_network_reason(err, timeout)}") from None
    return parse_bytes(data, url)


def check_public_url(url: str) -> None:
    """Refuse a URL whose host resolves to a loopback, private or link-local address.

    The page downloads on the *server*: on a shared hosted URL a student must not make it
    fetch the host's own or its network's internal services. The command line, run by the
    user on their own machine, does not need this. ``COLORCLF_ALLOW_PRIVATE_URLS=1`` lifts it.
    """
    if os.environ.get("COLORCLF_ALLOW_PRIVATE_URLS") == "1":
        return
    host = urllib.parse.urlsplit(url.strip()).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        raise DataError(f"cannot download {url}: cannot resolve host {host!r}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved:
            raise DataError(
                f"cannot download {url}: {host} is a local or private address, "
                "which the page does not fetch"
            )


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib would also follow one to ftp)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        target = urllib.parse.urljoin(req.full_url, newurl)
        if urllib.parse.urlsplit(target).scheme.lower() not in ("http", "https"):
            raise DataError(f"{req.full_url} redirects to {target!r}, not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read_bounded(response: Any, url: str, deadline: float, timeout: float) -> bytes:
    buffer = bytearray()
    read = getattr(response, "read1", response.read)
    while True:
        if time.monotonic() > deadline:
            raise DataError(f"cannot download {url}: timed out after {timeout:g} s")
        chunk = read(_CHUNK)
        if not chunk:
            return bytes(buffer)
        buffer += chunk
        if len(buffer) > MAX_BYTES:
            raise DataError(f"{url} is too big: more than {_limit()}")


def _network_reason(reason: object, timeout: float) -> str:
    if isinstance(reason, socket.gaierror):
        return "host not found (no network, or a typo in the address?)"
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _limit() -> str:
    if MAX_BYTES >= 1024 * 1024:
        return f"{MAX_BYTES / 1024 / 1024:g} MB"
    return f"{MAX_BYTES:,} bytes"


# ---------------------------------------------------------------------------- parsing


def parse_bytes(data: bytes, name: str) -> ColorDataset:
    """Parse JSON (by the name's ``.json`` or content starting with ``{``/``[``) or CSV.

    Returns a ColorDataset or raises DataError; never anything else, for any input.
    """
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise DataError(f"{name} is too big: {_megabytes(len(data))} (the limit is {_limit()})")
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
    return _build(rows, skipped, name)


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


# ---------------------------------------------------------------------------- validation


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


def _uid(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
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


def _build(rows: Iterator[tuple[Any, ...]], skipped: dict[str, int], name: str) -> ColorDataset:
    check = _RowChecker().check
    rgb: list[tuple[int, int, int]] = []
    labels: list[int] = []
    contributors: list[str] = []
    for r, g, b, label, uid in rows:
        result = check(r, g, b, label)
        if type(result) is str:
            skipped[result] = skipped.get(result, 0) + 1
            continue
        red, green, blue, label_index = result
        rgb.append((red, green, blue))
        labels.append(label_index)
        contributors.append(uid.strip() or ANONYMOUS if type(uid) is str else _uid(uid))
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


# ---------------------------------------------------------------------------- output


def to_coding_train_json(dataset: ColorDataset) -> bytes:
    """The data set in the Coding Train's format, ``{"entries": [{r, g, b, label, uid}]}``."""
    entries = [
        {"r": int(r), "g": int(g), "b": int(b), "label": LABELS[int(label)], "uid": str(uid)}
        for (r, g, b), label, uid in zip(
            dataset.rgb.tolist(), dataset.label.tolist(), dataset.contributor.tolist(), strict=True
        )
    ]
    return (json.dumps({"entries": entries}, indent=2, ensure_ascii=False) + "\n").encode()


def describe(dataset: ColorDataset) -> dict[str, Any]:
    """A summary for people: rows kept, skipped per reason, rows per label, contributors."""
    skipped = {reason: int(dataset.skipped.get(reason, 0)) for reason in SKIP_REASONS}
    extra = {k: int(v) for k, v in dataset.skipped.items() if k not in skipped}
    return {
        "source": dataset.source,
        "rows": len(dataset),
        "skipped": {**skipped, **extra},
        "skipped_total": sum(skipped.values()) + sum(extra.values()),
        "labels": dataset.label_counts(),
        "contributors": dataset.contributor_count(),
    }
