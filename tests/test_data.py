"""The data layer: every format, every skip reason, every failure, URLs on a local server."""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colorclf.core.dataset import ColorDataset, to_coding_train_json
from colorclf.core.errors import DataError
from colorclf.core.labels import LABELS
from colorclf.data import limits, sources, validate
from colorclf.data.export import describe
from colorclf.data.parse import parse_bytes
from colorclf.data.sources import SourceKind, SourceSpec, load_path, load_source, load_url


def upload(content: bytes, name: str) -> ColorDataset:
    """What the page does with an uploaded file's bytes."""
    return load_source(SourceSpec(SourceKind.UPLOAD, name, content))


def entry(r: object = 10, g: object = 20, b: object = 30, label: object = "red-ish", **extra):
    return {"r": r, "g": g, "b": b, "label": label, **extra}


def dumps(document: object) -> bytes:
    return json.dumps(document).encode()


# ---------------------------------------------------------------------------- formats


def test_coding_train_json() -> None:
    document = {
        "entries": [
            entry(81, 183, 155, "green-ish", uid="alice"),
            entry(249, 22, 71, "pink-ish", uid="bob"),
            entry(0, 0, 255, "blue-ish", uid="alice"),
        ]
    }
    ds = parse_bytes(dumps(document), "colorData.json")
    assert ds.rgb.tolist() == [[81, 183, 155], [249, 22, 71], [0, 0, 255]]
    assert ds.label_names == ["green-ish", "pink-ish", "blue-ish"]
    assert ds.contributor.tolist() == ["alice", "bob", "alice"]
    assert ds.skipped == {}
    assert ds.source == "colorData.json"
    assert ds.rgb.dtype == np.uint8


def test_firebase_export_under_colors_ignores_other_keys() -> None:
    document = {
        "colors": {
            "-Kx1": entry(1, 2, 3, "grey-ish", uid="u1"),
            "-Kx2": entry(200, 100, 0, "orange-ish", uid="u2"),
        },
        "users": {"u1": {"name": "someone"}},
    }
    ds = parse_bytes(dumps(document), "export.json")
    assert ds.rgb.tolist() == [[1, 2, 3], [200, 100, 0]]
    assert ds.label_names == ["grey-ish", "orange-ish"]
    assert ds.contributor.tolist() == ["u1", "u2"]
    assert ds.skipped == {}


def test_firebase_export_without_colors() -> None:
    document = {"-Kx1": entry(5, 6, 7, "brown-ish"), "-Kx2": entry(8, 9, 10, "yellow-ish")}
    ds = parse_bytes(dumps(document), "export.json")
    assert ds.rgb.tolist() == [[5, 6, 7], [8, 9, 10]]
    assert ds.label_names == ["brown-ish", "yellow-ish"]


def test_bare_list_and_json_detected_by_content() -> None:
    raw = b"\n  " + dumps([entry(1, 1, 1, "purple-ish"), entry(2, 2, 2, "red-ish")])
    ds = parse_bytes(raw, "download.txt")  # no .json: the leading [ decides
    assert ds.label_names == ["purple-ish", "red-ish"]


def test_json_name_decides_even_when_content_starts_oddly() -> None:
    with pytest.raises(DataError, match=r"x\.json is not valid JSON"):
        parse_bytes(b"r,g,b,label\n1,2,3,red-ish\n", "x.json")


def test_csv_with_uid() -> None:
    raw = b"r,g,b,label,uid\n255,0,0,red-ish,ann\n0,255,0,green-ish,ben\n"
    ds = parse_bytes(raw, "colors.csv")
    assert ds.rgb.tolist() == [[255, 0, 0], [0, 255, 0]]
    assert ds.label_names == ["red-ish", "green-ish"]
    assert ds.contributor.tolist() == ["ann", "ben"]
    assert ds.source == "colors.csv"


def test_csv_without_uid_is_anonymous() -> None:
    ds = parse_bytes(b"label,b,g,r\nblue-ish,200,10,5\n", "colors.csv")
    assert ds.rgb.tolist() == [[5, 10, 200]]  # columns found by name, not position
    assert ds.contributor.tolist() == ["anonymous"]


def test_csv_upper_case_and_padded_columns_and_cells() -> None:
    raw = b" R ,G, B ,LABEL, Uid\n 12 , 34,56 , Pink-ish , zoe \n"
    ds = parse_bytes(raw, "COLORS.CSV")
    assert ds.rgb.tolist() == [[12, 34, 56]]
    assert ds.label_names == ["pink-ish"]
    assert ds.contributor.tolist() == ["zoe"]


def test_csv_with_bom() -> None:
    ds = parse_bytes(b"\xef\xbb\xbfr,g,b,label\n1,2,3,grey-ish\n", "excel.csv")
    assert ds.rgb.tolist() == [[1, 2, 3]]


def test_json_with_bom() -> None:
    ds = parse_bytes(b"\xef\xbb\xbf" + dumps({"entries": [entry()]}), "bom.json")
    assert ds.rgb.tolist() == [[10, 20, 30]]


def test_missing_or_blank_uid_is_anonymous_and_numbers_are_kept() -> None:
    items = [entry(), entry(uid=None), entry(uid="  "), entry(uid=42), entry(uid=" x ")]
    ds = parse_bytes(dumps(items), "u.json")
    assert ds.contributor.tolist() == ["anonymous"] * 3 + ["42", "x"]


def test_label_spellings_are_normalised() -> None:
    spellings = ["Red-ish", " GREEN-ISH ", "gray-ish", "Grey", "purple ish", "blueish", "pink"]
    ds = parse_bytes(dumps([entry(label=s) for s in spellings]), "labels.json")
    assert ds.label_names == [
        "red-ish",
        "green-ish",
        "grey-ish",
        "grey-ish",
        "purple-ish",
        "blue-ish",
        "pink-ish",
    ]
    assert ds.skipped == {}


def test_integer_spellings_accepted() -> None:
    items = [entry(r="12", g=12.0, b=" 7 "), entry(r="+3", g="4.0", b=0), entry(r=255, g=-0.0, b=1)]
    ds = parse_bytes(dumps(items), "ints.json")
    assert ds.rgb.tolist() == [[12, 12, 7], [3, 4, 0], [255, 0, 1]]


def test_duplicates_are_kept() -> None:
    items = [entry(uid="a"), entry(uid="a"), entry(uid="a")]
    ds = parse_bytes(dumps({"entries": items}), "dupes.json")
    assert len(ds) == 3
    assert ds.rgb.tolist() == [[10, 20, 30]] * 3


# ---------------------------------------------------------------------------- skip reasons


def test_every_skip_reason_counted_in_json() -> None:
    items = [
        entry(),  # kept
        entry(r="12", g=12.0, b=0),  # kept
        {"g": 1, "b": 2, "label": "red-ish"},  # missing value: no r
        entry(b=None),  # missing value: null
        entry(label="   "),  # missing value: blank label
        entry(r=12.5),  # not an integer
        entry(g="abc"),  # not an integer
        entry(b=True),  # not an integer
        entry(r=[1]),  # not an integer
        entry(r=256),  # out of range
        entry(g=-1),  # out of range
        entry(b="1000000000000000000000"),  # out of range
        entry(label="teal-ish"),  # unknown label
        entry(label=5),  # unknown label
        "not a dict",  # not an entry
        7,  # not an entry
        None,  # not an entry
        entry(uid="\ud800"),  # invalid text: a lone surrogate
        entry(uid="x" * 201),  # invalid text: too long for a name
    ]
    ds = parse_bytes(dumps({"entries": items}), "mixed.json")
    assert len(ds) == 2
    assert ds.skipped == {
        "missing value": 3,
        "not an integer": 4,
        "out of range": 3,
        "unknown label": 2,
        "not an entry": 3,
        "invalid text": 2,
    }
    assert list(ds.skipped) == list(validate.SKIP_REASONS)  # stable order


def test_every_skip_reason_counted_in_csv() -> None:
    raw = (
        b"r,g,b,label\n"
        b"1,2,3,red-ish\n"
        b",2,3,red-ish\n"  # missing value
        b"1,2\n"  # missing value (short row)
        b"1.5,2,3,red-ish\n"  # not an integer
        b"abc,2,3,red-ish\n"  # not an integer
        b"true,2,3,red-ish\n"  # not an integer
        b"300,2,3,red-ish\n"  # out of range
        b"1,2,3,teal\n"  # unknown label
    )
    ds = parse_bytes(raw, "mixed.csv")
    assert len(ds) == 1
    assert ds.skipped == {
        "missing value": 2,
        "not an integer": 3,
        "out of range": 1,
        "unknown label": 1,
    }


def test_first_reason_wins_once_per_row() -> None:
    items = [
        entry(r="abc", label=None),  # missing beats not-an-integer
        entry(r=999, g="x"),  # not-an-integer beats out-of-range
        entry(r=999, label="teal"),  # out-of-range beats unknown label
        entry(),
    ]
    ds = parse_bytes(dumps(items), "order.json")
    assert ds.skipped == {"missing value": 1, "not an integer": 1, "out of range": 1}


def test_nan_and_infinity_are_not_integers() -> None:
    raw = b'[{"r": NaN, "g": 1, "b": 1, "label": "red"}, {"r": 1e999, "g": 1, "b": 1, '
    raw += b'"label": "red"}, {"r": 1, "g": 1, "b": 1, "label": "red"}]'
    ds = parse_bytes(raw, "nan.json")
    assert ds.skipped == {"not an integer": 2}


# ---------------------------------------------------------------------------- failures


@pytest.mark.parametrize("raw", [b"", b"  \n\t ", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
@pytest.mark.parametrize("name", ["empty.json", "empty.csv"])
def test_empty_file(raw: bytes, name: str) -> None:
    with pytest.raises(DataError, match=rf"^{name.replace('.', '[.]')} is empty$"):
        parse_bytes(raw, name)


def test_invalid_json_names_line_and_column() -> None:
    raw = b'{"entries": [\n  {"r": 1,\n  oops}\n]}'
    with pytest.raises(DataError) as info:
        parse_bytes(raw, "broken.json")
    assert str(info.value) == (
        "broken.json is not valid JSON: Expecting property name enclosed in double quotes "
        "at line 3, column 3"
    )


@pytest.mark.parametrize("digits", [21, 4301, 5000, 100_000])
def test_a_huge_integer_skips_its_row_only(digits: int) -> None:
    huge = "9" * digits
    for field in ("r", "g", "b"):
        fields = {"r": "1", "g": "2", "b": "3", "label": '"red"'} | {field: huge}
        bad = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
        raw = f'[{{"r": 1, "g": 2, "b": 3, "label": "red"}}, {bad}]'
        ds = parse_bytes(raw.encode(), "big.json")
        assert ds.rgb.tolist() == [[1, 2, 3]]
        assert ds.skipped == {"out of range": 1}
    with pytest.raises(DataError, match=r"^no valid row in big\.json: 1 skipped \(not an entry"):
        parse_bytes(b"[" + huge.encode() + b"]", "big.json")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"42", "a JSON number"),
        (b'"text"', "a JSON string"),
        (b"null", "a JSON null"),
        (b"true", "a JSON boolean"),
        (b'{"entries": "abc"}', '"entries" is a JSON string'),
        (b'{"colors": 3}', '"colors" is a JSON number'),
        (b'{"r": 1, "g": 2, "b": 3, "label": "red-ish"}', "a single colour entry"),
    ],
)
def test_wrong_shape(raw: bytes, fragment: str) -> None:
    with pytest.raises(DataError) as info:
        parse_bytes(raw, "shape.json")
    message = str(info.value)
    assert message.startswith("shape.json has the wrong shape")
    assert fragment in message


@pytest.mark.parametrize("raw", [b"[]", b"{}", b'{"entries": []}', b'{"colors": {}}'])
def test_no_entries(raw: bytes) -> None:
    with pytest.raises(DataError, match=r"^none\.json holds no entries$"):
        parse_bytes(raw, "none.json")


def test_csv_header_only_holds_no_entries() -> None:
    with pytest.raises(DataError, match=r"^h\.csv holds no entries$"):
        parse_bytes(b"r,g,b,label\n", "h.csv")


def test_no_valid_row_counts_reasons() -> None:
    items = [entry(label="teal")] * 10
    with pytest.raises(DataError) as info:
        parse_bytes(dumps({"entries": items}), "x.json")
    assert str(info.value) == "no valid row in x.json: 10 skipped (unknown label: 10)"


def test_no_valid_row_lists_several_reasons_in_order() -> None:
    items = [entry(r=300), 5, entry(r=None), entry(r=300)]
    with pytest.raises(DataError) as info:
        parse_bytes(dumps(items), "y.json")
    assert str(info.value) == (
        "no valid row in y.json: 4 skipped (missing value: 1, out of range: 2, not an entry: 1)"
    )


def test_csv_missing_columns() -> None:
    with pytest.raises(DataError) as info:
        parse_bytes(b"red,green,blue,name\n1,2,3,red\n", "wrong.csv")
    message = str(info.value)
    assert message.startswith("wrong.csv is missing the CSV columns r, g, b, label")
    assert "found: red, green, blue, name" in message


def test_csv_missing_one_column() -> None:
    with pytest.raises(DataError, match=r"^w\.csv is missing the CSV column label \(found: r, g"):
        parse_bytes(b"r,g,b\n1,2,3\n", "w.csv")


def test_csv_column_twice() -> None:
    with pytest.raises(DataError, match=r"twice\.csv has the column 'r' twice"):
        parse_bytes(b"r,g,b,label,R\n1,2,3,red,4\n", "twice.csv")


def test_csv_that_cannot_be_parsed() -> None:
    with pytest.raises(DataError, match=r"^q\.csv cannot be parsed as CSV: .*EOF inside string"):
        parse_bytes(b'r,g,b,label\n"1,2,3,red\n', "q.csv")


def test_not_utf8() -> None:
    with pytest.raises(DataError, match=r"^latin\.csv is not UTF-8 text"):
        parse_bytes("r,g,b,label\n1,2,3,r\xf6t\n".encode("latin-1"), "latin.csv")


def test_too_big(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_BYTES", 100)
    raw = dumps([entry()] * 10)
    with pytest.raises(DataError, match=r"^big\.json is too big"):
        parse_bytes(raw, "big.json")
    with pytest.raises(DataError, match=r"^up\.json is too big"):
        upload(raw, "up.json")


@pytest.mark.timeout(30)  # a hang guard, not a speed target
def test_deep_nesting_fails_fast() -> None:
    with pytest.raises(DataError, match=r"^deep\.json is nested too deeply"):
        parse_bytes(b"[" * 100_000, "deep.json")
    with pytest.raises(DataError, match="nested too deeply"):
        parse_bytes(b'{"entries": ' + b'{"a": ' * 70 + b"1" + b"}" * 71, "deep.json")
    # Escaped quotes and backslashes must not make the nesting scan quadratic.
    with pytest.raises(DataError, match="nested too deeply"):
        parse_bytes(b"[" * 100 + b'"' + b'\\"' * 2_000_000, "quotes.json")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    uid = '\\"[[[{{{' * 25  # escaped quotes and brackets inside a string
    raw = ('[{"r": 1, "g": 2, "b": 3, "label": "red", "uid": "' + uid + '"}]').encode()
    ds = parse_bytes(raw, "strings.json")
    assert ds.contributor[0] == json.loads(f'"{uid}"')


def test_moderate_nesting_inside_a_field_is_a_skip() -> None:
    items = [entry(r=[[[[1]]]]), entry()]
    ds = parse_bytes(dumps(items), "nested.json")
    assert ds.skipped == {"not an integer": 1}


# ---------------------------------------------------------------------------- files


def test_load_path_reads_json_and_csv(tmp_path: Path) -> None:
    json_file = tmp_path / "c.json"
    json_file.write_bytes(dumps({"entries": [entry(uid="p")]}))
    csv_file = tmp_path / "c.csv"
    csv_file.write_text("r,g,b,label\n9,8,7,blue\n")
    assert load_path(json_file).rgb.tolist() == [[10, 20, 30]]
    assert load_path(str(csv_file)).label_names == ["blue-ish"]
    assert load_path(csv_file).source == str(csv_file)


def test_load_path_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(DataError, match=rf"^no such file: {re.escape(str(missing))}$"):
        load_path(missing)


def test_load_path_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=rf"^{re.escape(str(tmp_path))} is a directory"):
        load_path(tmp_path)


def test_load_path_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "locked.json"
    target.write_bytes(b"[]")

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)  # chmod does not stop root
    with pytest.raises(DataError) as info:
        load_path(target)
    assert str(info.value) == f"cannot read {target}: Permission denied"


def test_load_path_too_big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "big.csv"
    target.write_text("r,g,b,label\n" + "1,2,3,red\n" * 100)
    monkeypatch.setattr(limits, "MAX_BYTES", 500)
    with pytest.raises(DataError, match=rf"^{re.escape(str(target))} is too big"):
        load_path(target)


def test_uploads_are_parsed() -> None:
    ds = upload(b"r,g,b,label\n1,2,3,red\n", "upload.csv")
    assert ds.source == "upload.csv"
    assert ds.label_names == ["red-ish"]


# ---------------------------------------------------------------------------- load_source


def test_load_source_builtin() -> None:
    ds = load_source("builtin")
    assert ds.source == "built-in synthetic set"
    assert len(ds) == 5600


def test_load_source_votes_imports_the_store_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = ColorDataset(rgb=[[1, 2, 3]], label=[0], contributor=["v"], source="votes")
    fake = types.ModuleType("colorclf.store")
    fake.load_votes_dataset = lambda: expected  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "colorclf.store", fake)
    assert load_source("votes") is expected


def test_load_source_dispatches_urls_and_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(sources, "load_url", lambda url: seen.append(url) or "from-url")
    assert load_source("https://example.org/c.json") == "from-url"
    assert load_source("http://example.org/c.csv") == "from-url"
    assert seen == ["https://example.org/c.json", "http://example.org/c.csv"]
    target = tmp_path / "builtin"  # a file that happens to be called like a source keyword
    target.write_text("r,g,b,label\n1,2,3,red\n")
    assert load_source(str(target)).source == str(target)


# ---------------------------------------------------------------------------- URLs

GOOD_BODY = dumps({"entries": [entry(1, 2, 3, "grey-ish", uid="web")] * 3})


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest's output clean
        pass

    def do_GET(self) -> None:
        if self.path == "/colors.json":
            self._send(200, GOOD_BODY)
        elif self.path == "/stream":  # no Content-Length: the client must count bytes itself
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                self.wfile.write(b"[")
                for _ in range(400):
                    self.wfile.write(b'{"r": 1, "g": 2, "b": 3, "label": "red"},' * 100)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif self.path == "/declared-huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, GOOD_BODY)
        elif self.path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif self.path in ("/redirect", "/redirect-ftp"):
            self.send_response(302)
            target = "/colors.json" if self.path == "/redirect" else "ftp://127.0.0.1/c.json"
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/not-data":
            self._send(200, b"<html><body>hello</body></html>")
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_url_ok(server: str) -> None:
    ds = load_url(f"{server}/colors.json")
    assert ds.rgb.tolist() == [[1, 2, 3]] * 3
    assert ds.source == f"{server}/colors.json"
    assert load_source(f"{server}/colors.json").contributor.tolist() == ["web"] * 3


def test_url_redirects_to_http_only(server: str) -> None:
    assert load_url(f"{server}/redirect").rgb.tolist() == [[1, 2, 3]] * 3
    with pytest.raises(DataError, match=r"/redirect-ftp redirects to 'ftp://127\.0\.0\.1/c\.json'"):
        load_url(f"{server}/redirect-ftp")


def test_url_404(server: str) -> None:
    with pytest.raises(DataError) as info:
        load_url(f"{server}/missing.json")
    assert str(info.value) == f"cannot download {server}/missing.json: HTTP 404 Not Found"


@pytest.mark.timeout(30)
def test_url_timeout(server: str) -> None:
    with pytest.raises(DataError, match=r"/slow: timed out after 0\.3 s$"):
        load_url(f"{server}/slow", timeout=0.3)


@pytest.mark.timeout(30)  # the whole body would take 50 s; each byte comes well within 0.5 s
def test_url_trickle_is_bounded_by_the_total_timeout(server: str) -> None:
    with pytest.raises(DataError, match=r"/trickle: timed out after 0\.5 s$"):
        load_url(f"{server}/trickle", timeout=0.5)


def test_url_too_big_streamed(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_BYTES", 100_000)
    with pytest.raises(DataError, match=r"/stream is too big: more than"):
        load_url(f"{server}/stream")


def test_url_too_big_declared(server: str) -> None:
    with pytest.raises(DataError, match=r"/declared-huge is too big"):
        load_url(f"{server}/declared-huge")


def test_url_that_is_not_data(server: str) -> None:
    with pytest.raises(DataError, match=r"/not-data is missing the CSV column"):
        load_url(f"{server}/not-data")


@pytest.mark.parametrize(
    "url", ["ftp://example.org/c.json", "file:///etc/passwd", "http://", "example.org/c.json"]
)
def test_url_bad_scheme(url: str) -> None:
    with pytest.raises(DataError, match="not an http"):
        load_url(url)


def test_url_malformed() -> None:
    with pytest.raises(DataError, match="not a valid URL"):
        load_url("http://[::1")


def test_url_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(DataError, match=r"^cannot download http://nowhere\.invalid/c\.json: host"):
        load_url("http://nowhere.invalid/c.json")


def test_url_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DataError, match="connection refused"):
        load_url(f"http://127.0.0.1:{port}/c.json", timeout=2)


def test_coding_train_url_constant() -> None:
    assert sources.CODING_TRAIN_URL.startswith("https://raw.githubusercontent.com/CodingTrain/")
    assert sources.CODING_TRAIN_URL.endswith("/colorData.json")


# ---------------------------------------------------------------------------- export, describe


def test_export_round_trips() -> None:
    items = [entry(0, 128, 255, "blue-ish", uid="zoë"), entry(7, 7, 7, "grey-ish"), entry()]
    original = parse_bytes(dumps(items), "in.json")
    exported = to_coding_train_json(original)
    document = json.loads(exported)
    assert list(document) == ["entries"]
    assert document["entries"][0] == {"r": 0, "g": 128, "b": 255, "label": "blue-ish", "uid": "zoë"}
    back = parse_bytes(exported, "out.json")
    assert back.rgb.tolist() == original.rgb.tolist()
    assert back.label.tolist() == original.label.tolist()
    assert back.contributor.tolist() == ["zoë", "anonymous", "anonymous"]


def test_export_round_trips_the_builtin_set() -> None:
    from colorclf.data.builtin import builtin_dataset

    original = builtin_dataset(n=300, seed=4)
    back = parse_bytes(to_coding_train_json(original), "builtin.json")
    assert np.array_equal(back.rgb, original.rgb)
    assert np.array_equal(back.label, original.label)
    assert back.contributor.tolist() == original.contributor.tolist()


def test_describe() -> None:
    items = [entry(uid="a"), entry(label="blue", uid="b"), entry(uid="a"), entry(r=999), 3]
    summary = describe(parse_bytes(dumps(items), "d.json"))
    assert summary["source"] == "d.json"
    assert summary["rows"] == 3
    assert summary["skipped"] == {
        "missing value": 0,
        "not an integer": 0,
        "out of range": 1,
        "unknown label": 0,
        "not an entry": 1,
        "invalid text": 0,
    }
    assert summary["skipped_total"] == 2
    assert list(summary["labels"]) == list(LABELS)
    assert summary["labels"]["red-ish"] == 2
    assert summary["labels"]["blue-ish"] == 1
    assert sum(summary["labels"].values()) == 3
    assert summary["contributors"] == 2


# ---------------------------------------------------------------------------- never crash

JUNK_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
NAMES = st.sampled_from(["x.json", "x.csv", "upload", "X.JSON"])


def parse_or_data_error(raw: bytes, name: str) -> ColorDataset | None:
    try:
        ds = parse_bytes(raw, name)
    except DataError as err:
        assert str(err)
        return None
    assert isinstance(ds, ColorDataset)
    assert len(ds) > 0
    assert ds.rgb.shape == (len(ds), 3)
    assert set(ds.skipped) <= set(validate.SKIP_REASONS)
    return ds


@JUNK_SETTINGS
@given(raw=st.binary(max_size=300), name=NAMES)
def test_junk_bytes(raw: bytes, name: str) -> None:
    parse_or_data_error(raw, name)


@JUNK_SETTINGS
@given(raw=st.text(alphabet='rgblabeuid,\n"[]{}:0123456789.-ì \t\r\x00', max_size=200), name=NAMES)
def test_junk_text_made_of_format_characters(raw: str, name: str) -> None:
    parse_or_data_error(raw.encode(), name)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["r", "g", "b", "label", "uid", "entries", "colors", "x"]),
                      children, max_size=5),
    max_leaves=20,
)  # fmt: skip


@JUNK_SETTINGS
@given(document=JSON_VALUES)
def test_junk_json_structures(document: object) -> None:
    parse_or_data_error(json.dumps(document).encode(), "junk.json")


CHANNEL = st.one_of(
    st.integers(-300, 600),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    st.integers(0, 255).map(str),
    st.lists(st.integers(), max_size=2),
)
LABEL = st.one_of(st.sampled_from(LABELS), st.sampled_from(["Gray", "red", "teal", ""]),
                  st.none(), st.integers(), st.text(max_size=6))  # fmt: skip
NEAR_VALID = st.one_of(
    st.fixed_dictionaries({"r": CHANNEL, "g": CHANNEL, "b": CHANNEL, "label": LABEL},
                          optional={"uid": st.text(max_size=4) | st.none()}),
    st.integers(),
    st.text(max_size=3),
)  # fmt: skip


@JUNK_SETTINGS
@given(items=st.lists(NEAR_VALID, max_size=12), wrap=st.sampled_from(["entries", "colors", ""]))
def test_near_valid_entries_are_kept_or_counted(items: list[object], wrap: str) -> None:
    """Every item is either a kept row or counted under exactly one skip reason."""
    if wrap == "colors":
        document: object = {"colors": {f"-K{i}": item for i, item in enumerate(items)}}
    elif wrap:
        document = {wrap: items}
    else:
        document = items
    ds = parse_or_data_error(json.dumps(document).encode(), "near.json")
    if ds is not None:
        assert len(ds) + sum(ds.skipped.values()) == len(items)
        assert ((ds.rgb >= 0) & (ds.rgb <= 255)).all()


CELL = st.one_of(st.integers(-5, 300).map(str), st.sampled_from(["", "x", "1.0", "1.5", "red"]),
                 st.sampled_from(LABELS), st.text(alphabet=",\"\n ab1", max_size=4))  # fmt: skip


@JUNK_SETTINGS
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=6), max_size=8))
def test_near_valid_csv(rows: list[list[str]]) -> None:
    raw = "r,g,b,label,uid\n" + "\n".join(",".join(row) for row in rows)
    parse_or_data_error(raw.encode(), "near.csv")


# ---------------------------------------------------------------------------- parsing bounds
# Each hostile shape is refused by what it holds (lines, columns, rows, values), before the
# parser builds anything big: bench/bench_hostile.py measures the time and memory.


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"," * 50_000 + b"r,g,b,label\n1,2,3,red\n", r"longer than 10,000 characters \(line 1"),
        (b"r,g,b,label\n1,2,3,red\n" + b"1,2,3,red," + b"9," * 6000 + b"\n", r"\(line 3\)"),
        (b"r,g,b,label\n1,2,3,red\n" + b"1," * 600_000, r"\(line 3\)"),
        (b"r,g,b,label\n1,2,3,\"" + b"x" * 20_000 + b'"\n', r"\(line 2\)"),
        (b"r,g,b,label\r" + b"1,2,3,red\r" * 3 + b"x" * 10_001, r"\(line 5\)"),
        (b"r,g,b,label\n" + b"\n" * 100_001, r"too many rows: 100,002 \(the limit is 100,000\)"),
    ],
    ids=["header-50k-fields", "one-long-row", "600k-columns", "long-quoted-field",
         "old-mac-line-ends", "too-many-lines"],
)  # fmt: skip
def test_hostile_csv_shapes_get_one_message(raw: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_bytes(raw, "hostile.csv")


@settings(max_examples=30, deadline=None)
@given(extra=st.integers(min_value=limits.MAX_COLUMNS - 4 + 1, max_value=2000))
def test_a_header_with_too_many_columns_is_refused(extra: int) -> None:
    header = ",".join(["r", "g", "b", "label", *(str(i % 10) for i in range(extra))])
    with pytest.raises(DataError, match=rf"has {extra + 4:,} columns in its header \(at most 64\)"):
        parse_bytes(f"{header}\n1,2,3,red\n".encode(), "wide.csv")


def test_a_header_at_the_column_limit_is_read() -> None:
    header = ",".join(["r", "g", "b", "label", *(f"c{i}" for i in range(limits.MAX_COLUMNS - 4))])
    assert len(parse_bytes(f"{header}\n1,2,3,red\n".encode(), "wide.csv")) == 1


def test_a_csv_at_the_row_limit_is_read() -> None:
    raw = b"r,g,b,label\n" + b"1,2,3,red\n" * limits.MAX_ROWS
    assert len(parse_bytes(raw, "full.csv")) == limits.MAX_ROWS


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" + b"{}," * 100_002 + b"{}]", r"too many rows: 100,003 \(the limit is 100,000\)"),
        (b'{"entries": [' + b"1," * 1_600_000 + b"1]}", r"holds too many values: 1,600,001"),
        (b"[" * 65 + b"]" * 65, r"nested too deeply \(65 levels"),
        (b'{"x": "' + b'{[,\\"' * 200_000 + b'", "entries": []}', r"holds no entries"),
    ],
    ids=["too-many-objects", "too-many-values", "too-deep", "brackets-inside-a-string"],
)
def test_hostile_json_shapes_get_one_message(raw: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_bytes(raw, "hostile.json")


def test_json_at_the_row_limit_is_read() -> None:
    raw = dumps({"entries": [entry(uid="a")] * limits.MAX_ROWS})
    ds = parse_bytes(raw, "full.json")
    assert len(ds) == limits.MAX_ROWS and ds.contributor[-1] == "a"


def test_a_source_over_the_byte_limit_is_refused_before_parsing() -> None:
    with pytest.raises(DataError, match=r"^big\.json is too big: 16 MB \(the limit is 16 MB\)$"):
        parse_bytes(b" " * (limits.MAX_BYTES + 1), "big.json")


# ---------------------------------------------------------------------------- invalid text

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)


@settings(max_examples=60, deadline=None)
@given(before=st.text(max_size=5), lone=SURROGATES, after=st.text(max_size=5))
def test_a_uid_with_a_lone_surrogate_skips_its_row(before: str, lone: str, after: str) -> None:
    uid = before + lone + after
    raw = json.dumps([entry(uid=uid), entry(1, 2, 3, uid="ok")]).encode()  # "\udxxx" escapes
    ds = parse_bytes(raw, "s.json")
    assert ds.contributor.tolist() == ["ok"]
    assert ds.skipped == {"invalid text": 1}
    exported = to_coding_train_json(ds)  # the export encodes: it would fail on a surrogate
    assert json.loads(exported)["entries"][0]["uid"] == "ok"
    import pyarrow as pa

    pa.array(ds.contributor.tolist())  # what the page's tables do


def test_a_label_with_a_lone_surrogate_is_an_unknown_label() -> None:
    raw = b'[{"r": 1, "g": 2, "b": 3, "label": "red\\ud800"}, '
    raw += b'{"r": 1, "g": 2, "b": 3, "label": "red"}]'
    ds = parse_bytes(raw, "s.json")
    assert len(ds) == 1 and ds.skipped == {"unknown label": 1}
