"""Run the browser and AppTest tests N times in a row and report every failure (flakiness).

    CHROMIUM=/usr/bin/chromium .venv/bin/python tools/repeat_tests.py 20
    .venv/bin/python tools/repeat_tests.py 5 tests/test_app.py   # other test files

Each round is one ``pytest -q`` process over the files (default: the browser tests and the
AppTest pages; not ``test_scaleout.py``, which needs nginx and PostgreSQL and runs in CI).
The script prints one line per round (passed, failed, seconds) and, at the end, the failed
test ids with how many rounds each failed in; a failed round's whole output is kept in the
temporary folder (its path and its error lines are printed). Exit status 1 if any failed.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_FILES = [
    "tests/test_browser.py",
    "tests/test_label_browser.py",
    "tests/test_explorer_browser.py",
    "tests/test_lesson_browser.py",
    "tests/test_upload_browser.py",
    "tests/test_connection.py",
    "tests/test_app.py",
    "tests/test_label_page.py",
    "tests/test_teaching_ui.py",
]
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)
_COUNT = re.compile(r"(\d+) (passed|failed|error|errors|skipped)")


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 20
    files = argv[1:] or DEFAULT_FILES
    root = Path(__file__).resolve().parent.parent
    failures: collections.Counter[str] = collections.Counter()
    for round_number in range(1, rounds + 1):
        start = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", *files],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        failed = _FAILED.findall(result.stdout)
        failures.update(failed)
        if failed or result.returncode:  # keep what pytest said: the message is the clue
            kept = Path(tempfile.gettempdir()) / f"repeat_tests_round{round_number}.log"
            kept.write_text(result.stdout + result.stderr)
            print(f"  round {round_number}'s output: {kept}", flush=True)
            for line in result.stdout.splitlines():
                if line.startswith(("E ", "FAILED", "ERROR")):
                    print(f"    {line[:400]}", flush=True)
        counts = dict((kind, int(n)) for n, kind in _COUNT.findall(result.stdout.splitlines()[-1]))
        print(
            f"round {round_number:2d}/{rounds}: {counts.get('passed', 0)} passed, "
            f"{len(failed)} failed, {time.monotonic() - start:.0f} s",
            flush=True,
        )
    print(f"{sum(failures.values())} failures in {rounds} rounds")
    for test_id, count in failures.most_common():
        print(f"  {count:2d}× {test_id}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
