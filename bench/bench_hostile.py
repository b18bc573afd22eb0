"""Hostile data files: how long each takes to be answered and how much memory it costs.

Each case is written to a temporary folder, then parsed in a fresh Python process (as the page
parses an upload); the child prints the wall time of ``parse_bytes`` and its peak RSS
(``VmHWM`` in /proc/self/status, which starts afresh at exec, unlike ``ru_maxrss``, which
keeps the parent's peak) before and after parsing, so the figure is what parsing adds.

    .venv/bin/python bench/bench_hostile.py            # every case
    .venv/bin/python bench/bench_hostile.py csv-header  # the cases whose name contains this
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CHILD = r"""
import sys, time
from colorclf.data.parse import parse_bytes
from colorclf.core.errors import DataError
path, name = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
def hwm():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
before = hwm()
start = time.perf_counter()
try:
    ds = parse_bytes(raw, name)
    outcome = f"{len(ds):,} rows, skipped {ds.skipped}"
except DataError as err:
    outcome = "DataError: " + str(err)[:110]
elapsed = time.perf_counter() - start
after = hwm()
added = (after - before) / 1024
print(f"{elapsed:7.2f} s  peak {after / 1024:6.0f} MB  (+{added:5.0f} MB)  {outcome}")
"""


def _entries(n: int, pad: int = 0) -> bytes:
    note = "x" * pad
    items = [
        {"r": i % 256, "g": (i * 7) % 256, "b": (i * 13) % 256, "label": "red-ish",
         "uid": f"u{i % 500}", **({"note": note} if pad else {})}
        for i in range(n)
    ]  # fmt: skip
    return json.dumps({"entries": items}).encode()


def _names(n: int) -> str:
    return ",".join(f"c{i}" for i in range(n))


def _csv_rows(n: int) -> bytes:
    lines = ["r,g,b,label,uid"] + [
        f"{i % 256},{(i * 7) % 256},3,blue-ish,u{i % 500}" for i in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "csv-header-50k-fields-100KB": ("h.csv", lambda: b"," * 50_000 + b"r,g,b,label\n1,2,3,red\n"),
    "csv-header-200k-columns-1.9MB": (
        "c.csv",
        lambda: f"r,g,b,label,{_names(200_000)}\n1,2,3,red\n".encode(),
    ),
    "csv-600k-columns-6MB": (
        "c.csv",
        lambda: b"r,g,b,label\n" + b"1,2,3,red," + b"12345678," * 660_000 + b"\n",
    ),
    "csv-header-2000-columns-in-a-long-line": (
        "c.csv",
        lambda: f"{_names(2000)},r,g,b,label\n1,2,3,red\n".encode(),
    ),
    "csv-15M-blank-lines": ("b.csv", lambda: b"r,g,b,label\n" + b"\n" * 15_000_000),
    "csv-100k-valid-rows-at-the-limit": ("v.csv", lambda: _csv_rows(100_000)),
    "csv-100k-rows-of-10k-chars": (
        "w.csv",
        lambda: b"r,g,b,label\n" + (b"1,2,3,red," + b"1," * 4990 + b"\n") * 1500,
    ),
    "csv-one-15MB-quoted-field": (
        "q.csv",
        lambda: b'r,g,b,label\n1,2,3,"' + b"a" * 15_000_000 + b'"\n',
    ),
    "csv-15MB-quoted-field-over-lines": (
        "q.csv",
        lambda: b'r,g,b,label\n1,2,3,"' + (b"a" * 9000 + b"\n") * 1600 + b'"\n',
    ),
    "json-valid-100k-entries-at-the-limit": ("v.json", lambda: _entries(100_000)),
    "json-valid-16MB-padded-entries": ("p.json", lambda: _entries(99_000, pad=90)),
    "json-valid-50MB": ("p.json", lambda: _entries(100_000, pad=480)),
    "json-2M-objects": ("o.json", lambda: b"[" + b"{}," * 2_000_000 + b"{}]"),
    "json-7M-numbers": ("n.json", lambda: b"[" + b"1," * 7_000_000 + b"1]"),
    "json-one-15MB-string": (
        "s.json",
        lambda: b'{"entries": [], "x": "' + b"a" * 15_000_000 + b'"}',
    ),
    "json-deep-nesting": ("d.json", lambda: b"[" * 100_000 + b"]" * 100_000),
    "json-5000-digit-number": (
        "i.json",
        lambda: (
            b'[{"r": ' + b"9" * 5000 + b', "g": 1, "b": 1, "label": "red"}, '
            b'{"r": 1, "g": 1, "b": 1, "label": "red"}]'
        ),
    ),
}


def main(argv: list[str]) -> None:
    chosen = [name for name in CASES if not argv or any(a in name for a in argv)]
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        for case in chosen:
            file_name, make = CASES[case]
            path = Path(folder) / file_name
            data = make()
            path.write_bytes(data)
            del data
            result = subprocess.run(
                [sys.executable, "-c", CHILD, str(path), file_name],
                capture_output=True, text=True, cwd=root, check=False,
            )  # fmt: skip
            size = path.stat().st_size / 1e6
            print(f"{case:42s} {size:6.1f} MB  {(result.stdout or result.stderr).strip()[-220:]}")
            path.unlink()


if __name__ == "__main__":
    main(sys.argv[1:])
