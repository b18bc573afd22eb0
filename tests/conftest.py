"""Shared fixtures: a real Streamlit server and the system Chromium driven by Playwright.

The helpers here (the Chromium flags and path, the server's command line, a free port, the
idle selector) serve the benchmarks too: ``tools/streamlit_client.py`` imports them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def streamlit_command(script: str, port: int, *extra: str) -> list[str]:
    """``streamlit run <script>`` headless on 127.0.0.1:<port>, no usage statistics."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        *extra,
    ]


def start_streamlit(
    env_extra: dict[str, str] | None = None,
    script: str = "streamlit_app.py",
    log: Path | None = None,
    port: int | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run`` on ``port`` (default: a free one); returns the process and its
    base URL.

    With ``log``, the server's stderr goes to that file (for checking it after the tests).
    """
    port = port or free_port()
    # A server that crashes in C code (a segfault) then leaves its stack in the log.
    env = {**os.environ, "PYTHONFAULTHANDLER": "1", **(env_extra or {})}
    proc = subprocess.Popen(
        streamlit_command(script, port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb") if log is not None else subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = log.read_text() if log is not None else proc.stderr.read().decode()
            raise RuntimeError(f"streamlit exited: {output[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy within 60 s")


def stop_streamlit(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``streamlit run streamlit_app.py`` with its own vote database; yields the base URL."""
    folder = tmp_path_factory.mktemp("server")
    log = folder / "server.log"
    database = f"sqlite:///{folder / 'votes.sqlite'}"
    proc, url = start_streamlit({"COLORCLF_DB_URL": database}, log=log)
    try:
        yield url
    finally:
        exited = proc.poll()
        stop_streamlit(proc)
    log_tail = log.read_text(errors="replace")[-3000:]
    assert exited is None, f"the server exited on its own ({exited}):\n{log_tail}"
    # An exception in a script run (a fragment's included) never reaches the page's users
    # (showErrorDetails = none), so the server's log is where it must not appear.
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, f"the server logged an exception:\n{text[-3000:]}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """The system Chromium (Debian's package, or $CHROMIUM), never a downloaded one.

    Skips when there is none, unless COLORCLF_REQUIRE_BROWSER is set (as in CI).
    """
    path = chromium_path()
    if path is None:
        if os.environ.get("COLORCLF_REQUIRE_BROWSER"):
            pytest.fail("COLORCLF_REQUIRE_BROWSER is set but no chromium is on PATH")
        pytest.skip("no chromium on PATH (apt-get install chromium, or set $CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# Delivers every message from the server LATENCY ms late, in order, as a slow network
# would, and keeps the page's sockets in ``window.__colorclfSockets`` (to drop one).
SLOW_NETWORK_JS = """(() => {
  window.__colorclfSockets = [];
  // hold(): keep the server's messages (in order) until release(); heard(text): whether a
  // held message holds the text, i.e. the server has got that far in its run.
  const held = [];
  let holding = false;
  const decoder = new TextDecoder("utf-8", { fatal: false });
  window.__colorclfHold = () => { holding = true; };
  window.__colorclfRelease = () => {
    holding = false;
    held.splice(0).forEach(([deliver]) => deliver());
  };
  window.__colorclfHeard = (text) => held.some(([, data]) =>
    (typeof data === "string" ? data : decoder.decode(data)).includes(text));
  const add = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, listener, options) {
    if (!window.__colorclfSockets.includes(this)) window.__colorclfSockets.push(this);
    if (type !== "message") return add.call(this, type, listener, options);
    const late = (event) => {
      const deliver = LATENCY ? () => setTimeout(() => listener.call(this, event), LATENCY)
                              : () => listener.call(this, event);
      if (holding) held.push([deliver, event.data]); else deliver();
    };
    return add.call(this, type, late, options);
  };
})();"""


def slow_network(page: object, latency_ms: int) -> None:
    """Make ``page`` receive the server's messages ``latency_ms`` late (before ``goto``);
    ``window.__colorclfHold()`` / ``__colorclfRelease()`` hold them back and let them go."""
    script = SLOW_NETWORK_JS.replace("LATENCY", str(int(latency_ms)))
    page.add_init_script(script)  # type: ignore[attr-defined]


def connection_state(page: object) -> str | None:
    """Streamlit's connection state as the page shows it (``CONNECTED`` when all is well)."""
    return page.evaluate(  # type: ignore[attr-defined]
        "() => document.querySelector('[data-testid=stApp]')"
        "?.getAttribute('data-test-connection-state')"
    )


def wait_idle(page: object, timeout: float = 60_000) -> None:
    """Wait until Streamlit's script run has finished, as Streamlit's own e2e tests do."""
    page.wait_for_selector(APP_IDLE, timeout=timeout)  # type: ignore[attr-defined]


def rendered(markdown: str) -> str:
    """What a Markdown element shows: the text of its CommonMark rendering (markdown-it),
    and an AssertionError if the rendering holds any element but a paragraph (a link, an
    image, emphasis, code …)."""
    import html
    import re

    from markdown_it import MarkdownIt

    out = MarkdownIt("commonmark").render(markdown).strip()
    tags = set(re.findall(r"</?([a-z0-9]+)", out))
    assert tags <= {"p"}, f"{markdown!r} renders as {out!r}"
    return html.unescape(re.sub(r"</?p>", "", out))


def open_tab(at: AppTest, title: str) -> None:
    """Click a tab of the training page's views, as the browser does: the page runs with it
    open (a closed tab's view is not drawn)."""
    at.session_state["view_tab"] = title
    at.run()


def wait_until(predicate: Callable[[], object], timeout: float = 60.0) -> bool:
    """Poll ``predicate`` (every 20 ms) until it is true or ``timeout`` seconds pass; whether it
    became true. For server-side state that has no page to wait on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def download_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ``file_name`` of every ``st.download_button`` the app draws, in order (the button
    itself is still drawn)."""
    import streamlit as st

    names: list[str] = []
    original = st.download_button

    def recording(*args, **kwargs):
        names.append(kwargs.get("file_name"))
        return original(*args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording)
    return names
