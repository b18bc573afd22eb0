"""Test tooling shared by the page benchmarks (``bench/``): not a benchmark itself.

- start / stop a real ``streamlit run streamlit_app.py`` on 127.0.0.1 (a free port, its own
  vote database in a temporary directory, logs in a temporary file);
- read a process's resident memory (``VmRSS`` in ``/proc/<pid>/status``; no psutil);
- launch the system Chromium through Playwright (never a downloaded browser);
- small statistics and the final PASS/FAIL table.

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import (  # the browser tests' helpers; the benchmarks add to them
    APP_IDLE as APP_IDLE,
)
from tests.conftest import (
    CHROMIUM_ARGS,
    chromium_path,
    free_port,
    streamlit_command,
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STATUS_RE = re.compile(rb"Run [0-9]+: [^*\n]{0,80}")
CLIENT_COMPLETE_RE = re.compile(rb"Training complete in ([0-9.]+) s")
QUEUE_RE = re.compile(rb"place (\d+) in the queue")
FAILED_RE = re.compile(rb"Training failed[^\x00-\x1f]{0,200}")
SWATCH_RE = re.compile(rb"background: rgb\((\d+),(\d+),(\d+)\)")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


# ----- the server --------------------------------------------------------------------------
@dataclass
class Server:
    """A running ``streamlit run``: its process, base URL and the moment it was launched."""

    proc: subprocess.Popen
    url: str
    launched_at: float  # time.perf_counter() just before Popen
    workdir: Path
    log_path: Path
    healthy_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/_stcore/stream"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def log_text(self) -> str:
        """The server's log without terminal colour codes."""
        try:
            return ANSI_RE.sub("", self.log_path.read_text(errors="replace"))
        except OSError:
            return ""

    def errors_in_log(self) -> list[str]:
        """Tracebacks in the server log, each summarised by its last line (the exception)."""
        lines = self.log_text().splitlines()
        found = []
        for index, line in enumerate(lines):
            if "Traceback" in line or " ERROR " in line:
                tail = [
                    s.strip(" │|")
                    for s in lines[index + 1 : index + 80]
                    if re.match(r"^\s*[A-Za-z_.]+(Error|Exception|Exit)\b", s.strip(" │|"))
                ]
                found.append(tail[0].strip() if tail else line.strip())
        return found

    def keep_log(self, destination: Path) -> Path:
        """Copy the log out of the temporary directory (before ``stop_server`` removes it)."""
        shutil.copyfile(self.log_path, destination)
        return destination


def launch_server(
    env_extra: dict[str, str] | None = None, script: str = "streamlit_app.py"
) -> Server:
    """Start ``streamlit run <script>`` (default: the app) on a free 127.0.0.1 port, from
    the repository root (so ``.streamlit/config.toml`` applies); not yet healthy."""
    workdir = Path(tempfile.mkdtemp(prefix="colorclf-bench-"))
    log_path = workdir / "streamlit.log"
    port = free_port()
    env = {
        **os.environ,
        "COLORCLF_DB_URL": f"sqlite:///{workdir / 'votes.sqlite'}",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        **(env_extra or {}),
    }
    log = log_path.open("wb")
    launched_at = time.perf_counter()
    proc = subprocess.Popen(
        # Other people edit files in this checkout while benchmarks run: without the file
        # watcher off the server would re-import edited modules mid-run (and spend CPU on it).
        streamlit_command(script, port, "--server.fileWatcherType", "none"),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return Server(proc, f"http://{HOST}:{port}", launched_at, workdir, log_path)


def wait_healthy(server: Server, timeout: float = 60.0, poll: float = 0.05) -> float:
    """Wait for ``/_stcore/health``; returns seconds since launch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"streamlit exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    server.healthy_at = time.perf_counter()
                    return server.healthy_at - server.launched_at
        except OSError:
            time.sleep(poll)
    stop_server(server)
    raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f} s")


def start_server(
    env_extra: dict[str, str] | None = None, script: str = "streamlit_app.py"
) -> Server:
    server = launch_server(env_extra, script)
    wait_healthy(server)
    return server


def stop_server(server: Server) -> None:
    """Stop the server we started (by its own pid) and remove its temporary directory."""
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)
    shutil.rmtree(server.workdir, ignore_errors=True)


# ----- a Streamlit client without a browser ---------------------------------------
class Proto:
    """Streamlit's protobuf classes, imported once in the main thread (importing them from
    several threads at once deadlocks in ``streamlit/__init__``)."""

    BackMsg: Any = None
    ForwardMsg: Any = None
    WidgetState: Any = None

    @classmethod
    def load(cls) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        cls.BackMsg, cls.ForwardMsg, cls.WidgetState = BackMsg, ForwardMsg, WidgetState


ASK_COMPONENT = "colorclf_ask"  # the training page's sliders (colorclf/app/ask.py)


@dataclass
class Session:
    """One student: a websocket session that behaves like Streamlit's frontend."""

    name: str
    ws_url: str
    moves_slider: bool = False
    poll_interval: float | None = None  # override the fragments' run_every (None: as asked)
    query_string: str = ""  # the page's link parameters, e.g. "pace=full"
    ws: Any = None
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    page_hash: str = ""
    widget_ids: dict[str, str] = field(default_factory=dict)  # label → widget id
    widget_fragments: dict[str, str] = field(default_factory=dict)  # label → fragment id
    values: dict[str, Any] = field(default_factory=dict)  # widget id → WidgetState we set
    timers: dict[str, list[float]] = field(default_factory=dict)  # fragment → [interval, due]
    loaded: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    closed: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pressed_at: float | None = None
    first_row_at: float | None = None  # the first live chart with a row in it, after the press
    complete_at: float | None = None
    reported_s: float | None = None
    max_queue: int = 0
    errors: list[str] = field(default_factory=list)
    last_status: str = ""  # the newest status label the page was sent (why a page never ended)
    frames: int = 0
    bytes: int = 0
    fragment_runs: int = 0
    page_runs: int = 0  # full-app runs the server started for this page
    runs_at_press: tuple[int, int] = (0, 0)  # (page runs, fragment runs) when Train was pressed
    last_frame_at: float | None = None
    longest_silence: float = 0.0  # seconds without a frame while training or queued
    run_ms: list[float] = field(default_factory=list)  # fragment runs: new_session → finished
    _run_started: float | None = None
    auto_reruns_sent: int = 0
    slider_ms: list[float] = field(default_factory=list)
    slider_during_training: int = 0
    _slider_expect: tuple[int, float] | None = None
    _slider_fragment: str = ""
    _slider_by_component: bool = False
    _run_fragments: tuple[str, ...] = ()

    # -- connection --------------------------------------------------------------------------
    def connect(self) -> None:
        import websocket

        self.ws = websocket.create_connection(
            self.ws_url, subprotocols=["streamlit"], timeout=30, enable_multithread=True
        )
        self.ws.settimeout(None)  # an idle page receives nothing for minutes: not an error
        threading.Thread(target=self._reader, name=f"rx-{self.name}", daemon=True).start()
        self.rerun()

    def close(self) -> None:
        self.closed.set()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.close()

    def _send(self, back_msg: Any) -> None:
        data = back_msg.SerializeToString()
        with self.send_lock:
            if not self.closed.is_set():
                self.ws.send_binary(data)

    def rerun(
        self,
        widgets: list[Any] | None = None,
        fragment_id: str = "",
        *,
        auto: bool = False,
    ) -> None:
        msg = Proto.BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_hash
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.widget_states.SetInParent()
        # Like the frontend, every rerun carries the values this client has set (Streamlit
        # coalesces queued reruns and keeps only the newest request's values) plus triggers.
        with self.lock:
            values = dict(self.values)
        for widget in widgets or []:
            values[widget.id] = widget
        state.widget_states.widgets.extend(values.values())
        self._send(msg)

    # -- what a student does -------------------------------------------------------------
    def press(self, label: str) -> bool:
        widget_id = self.widget_ids.get(label)
        if widget_id is None:
            return False
        self.rerun([Proto.WidgetState(id=widget_id, trigger_value=True)])
        return True

    def move_slider(self, label: str, value: int) -> bool:
        """Move a Streamlit slider, or, on the training page, rest its sliders' component
        (``colorclf/app/ask.py``) on ``value`` for Red, as the browser tells the server."""
        widget_id = self.widget_ids.get(label) or self.widget_ids.get(ASK_COMPONENT)
        if widget_id is None:
            return False
        state = Proto.WidgetState(id=widget_id)
        if label in self.widget_ids:
            state.double_array_value.data.append(float(value))
        else:
            state.json_value = json.dumps({"rgb": [value, 0, 0]})
            label = ASK_COMPONENT
        with self.lock:
            self.values[widget_id] = state
            self._slider_expect = (value, time.perf_counter())
            self._slider_fragment = self.widget_fragments.get(label, "")
            self._slider_by_component = label == ASK_COMPONENT
        self.rerun([], self._slider_fragment)
        return True

    def active(self) -> bool:
        """Pressed Train and not yet complete (the page should be polling)."""
        return self.pressed_at is not None and self.complete_at is None

    def slider_pending(self) -> bool:
        with self.lock:
            return self._slider_expect is not None

    # -- the frontend's timers -------------------------------------------------------------
    def due_auto_reruns(self, now: float) -> list[str]:
        due = []
        with self.lock:
            for fragment_id, timer in self.timers.items():
                if now >= timer[1]:
                    timer[1] += timer[0]
                    if timer[1] < now:  # fell behind (a busy client): no burst, like a browser
                        timer[1] = now + timer[0]
                    due.append(fragment_id)
        return due

    # -- what the server sends -------------------------------------------------------------
    def _reader(self) -> None:
        while not self.closed.is_set():
            try:
                data = self.ws.recv()
            except Exception as error:
                if not self.closed.is_set():
                    self.errors.append(f"websocket: {type(error).__name__}: {error}")
                    self.closed.set()
                return
            if not isinstance(data, bytes):
                continue
            now = time.perf_counter()
            if self.last_frame_at is not None and self.active():
                self.longest_silence = max(self.longest_silence, now - self.last_frame_at)
            self.last_frame_at = now
            self.frames += 1
            self.bytes += len(data)
            msg = Proto.ForwardMsg()
            msg.ParseFromString(data)
            self._handle(msg, data)

    def _handle(self, msg: Any, data: bytes) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            if msg.new_session.page_script_hash:
                self.page_hash = msg.new_session.page_script_hash
            if not msg.metadata.run.fragment_ids:  # a full-app run clears the timers
                self.page_runs += 1
                with self.lock:
                    self.timers.clear()
            else:
                self.fragment_runs += 1
                self._run_started = time.perf_counter()
            self._run_fragments = tuple(msg.metadata.run.fragment_ids)
        elif kind == "auto_rerun":
            interval = self.poll_interval or msg.auto_rerun.interval
            fragment_id = msg.auto_rerun.fragment_id
            with self.lock:
                timer = self.timers.get(fragment_id)
                if timer is None or timer[0] != interval:
                    self.timers[fragment_id] = [interval, time.perf_counter() + interval]
        elif kind == "stop_auto_rerun":
            with self.lock:
                for fragment_id in msg.stop_auto_rerun.fragment_ids:
                    self.timers.pop(fragment_id, None)
        elif kind == "script_finished":
            with self.lock:  # the sliders' component answers in the browser: the server's
                expect = self._slider_expect  # part ends with the fragment run it started
                fragments = self._run_fragments
                if expect and self._slider_by_component and self._slider_fragment in fragments:
                    self.slider_ms.append((time.perf_counter() - expect[1]) * 1000)
                    self._slider_expect = None
            if self._run_started is not None:
                self.run_ms.append((time.perf_counter() - self._run_started) * 1000)
                self._run_started = None
            if "Train" in self.widget_ids:
                self.loaded.set()
        elif kind == "delta":
            self._handle_delta(msg, data)

    def _handle_delta(self, msg: Any, data: bytes) -> None:
        delta = msg.delta
        if delta.WhichOneof("type") == "new_element":
            element = delta.new_element
            element_type = element.WhichOneof("type")
            if element_type in ("button", "slider"):
                widget = getattr(element, element_type)
                self.widget_ids[widget.label] = widget.id
                self.widget_fragments[widget.label] = delta.fragment_id
            elif (
                element_type == "bidi_component"
                and element.bidi_component.component_name == ASK_COMPONENT
            ):
                self.widget_ids[ASK_COMPONENT] = element.bidi_component.id
                self.widget_fragments[ASK_COMPONENT] = delta.fragment_id
            elif (
                element_type == "vega_lite_chart"
                and self.pressed_at is not None
                and self.first_row_at is None
                and chart_rows(element.vega_lite_chart) > 0
            ):
                self.first_row_at = time.perf_counter()
            elif element_type == "exception":
                self.errors.append(
                    f"stException: {element.exception.type}: {element.exception.message[:200]}"
                )
            elif element_type == "alert" and element.alert.format == 1:  # Alert.ERROR
                self.errors.append(f"st.error: {element.alert.body[:200]}")
            elif element_type == "markdown" and self._slider_expect is not None:
                match = SWATCH_RE.search(data)
                if match:
                    with self.lock:
                        expect = self._slider_expect
                        if expect and int(match.group(1)) == expect[0]:
                            self.slider_ms.append((time.perf_counter() - expect[1]) * 1000)
                            self._slider_expect = None
        if b": Training" in data or b": Waiting" in data or b": Stopp" in data:
            match = STATUS_RE.search(data)
            if match:
                self.last_status = match.group(0).decode(errors="replace")
        if b"queue" in data:
            for match in QUEUE_RE.finditer(data):
                self.max_queue = max(self.max_queue, int(match.group(1)))
        if b"Training failed" in data:
            failed = FAILED_RE.search(data)
            error = failed.group(0).decode(errors="replace") if failed else "Training failed"
            if error not in self.errors:
                self.errors.append(error)
        if self.complete_at is None and b"Training complete in" in data:
            match = CLIENT_COMPLETE_RE.search(data)
            if match and self.pressed_at is not None:
                self.reported_s = float(match.group(1))
                self.complete_at = time.perf_counter()
                self.done.set()


def chart_rows(chart: Any) -> int:
    """Rows in a chart element's data (Arrow IPC), inline or as named datasets."""
    import pyarrow as pa

    tables = [chart.data.data] if chart.data.data else []
    tables += [named.data.data for named in chart.datasets if named.data.data]
    total = 0
    for raw in tables:
        with contextlib.suppress(Exception):
            total += pa.ipc.open_stream(raw).read_all().num_rows
    return total


class Scheduler(threading.Thread):
    """The frontends' ``setInterval`` timers for all sessions, in one thread."""

    def __init__(self, sessions: list[Session]) -> None:
        super().__init__(name="auto-rerun", daemon=True)
        self.sessions = sessions
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.perf_counter()
            for session in list(self.sessions):
                if session.closed.is_set():
                    continue
                for fragment_id in session.due_auto_reruns(now):
                    try:
                        session.rerun(fragment_id=fragment_id, auto=True)
                        session.auto_reruns_sent += 1
                    except Exception as error:
                        session.errors.append(f"send: {error}")
                        session.closed.set()
            time.sleep(0.005)


def pss_mb(pid: int) -> float:
    """Proportional set size of ``pid`` in MB (``Pss`` in ``/proc/<pid>/smaps_rollup``: each
    page shared with other processes counted as its share); nan if gone or unreadable."""
    return _proc_mb(f"/proc/{pid}/smaps_rollup", "Pss:")


class RssSampler(threading.Thread):
    """Peak resident memory of a process (``peak``) and of it with all its descendants, the
    trainer processes of a server, sampled every ``every`` seconds: as the sum of their
    resident sizes (``tree_peak``), which counts a page that two of them share (a library
    both load) twice, and as the sum of their proportional sizes (``tree_pss_peak``), which
    counts it once, split between them (the page cache of a library this bench also loads is
    split with it too)."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(name="rss", daemon=True)
        self.pid = pid
        self.every = every
        self.peak = 0.0
        self.tree_peak = 0.0
        self.tree_pss_peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            rss = vm_rss_mb(self.pid)
            if rss == rss:
                self.peak = max(self.peak, rss)
                tree = [self.pid, *descendants(self.pid)]
                rss_sum = sum(value for pid in tree if (value := vm_rss_mb(pid)) == value)
                pss_sum = sum(value for pid in tree if (value := pss_mb(pid)) == value)
                self.tree_peak = max(self.tree_peak, rss_sum)
                self.tree_pss_peak = max(self.tree_pss_peak, pss_sum)
            time.sleep(self.every)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children …), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def train_headless(
    server: Server, *, poll_interval: float | None = None, timeout: float = 300.0
) -> dict[str, Any]:
    """One new session presses Train and waits for "Training complete" (no browser).

    ``poll_interval`` replaces the live panel's ``run_every`` (None: the page's own 0.1 s).
    """
    Proto.load()
    session = Session("headless", server.ws_url, poll_interval=poll_interval)
    scheduler = Scheduler([session])
    scheduler.start()
    try:
        session.connect()
        if not session.loaded.wait(timeout):
            raise TimeoutError("the page did not load")
        session.pressed_at = time.perf_counter()
        session.press("Train")
        session.done.wait(timeout)
    finally:
        scheduler.stop.set()
        session.close()
    return {
        "reported_s": session.reported_s if session.reported_s is not None else math.nan,
        "wall_s": (session.complete_at - session.pressed_at)
        if session.complete_at and session.pressed_at
        else math.nan,
        "fragment_runs": session.fragment_runs,
        "fragment_run_ms": median(session.run_ms),
        "auto_reruns_sent": session.auto_reruns_sent,
        "errors": session.errors,
    }


# ----- memory ------------------------------------------------------------------------------
def vm_rss_mb(pid: int | None = None) -> float:
    """Resident set size of ``pid`` (default: this process) in MB, from /proc; nan if gone."""
    return _proc_mb(f"/proc/{pid if pid is not None else 'self'}/status", "VmRSS:")


def _proc_mb(path: str, field: str) -> float:
    """The ``field`` line of a /proc file (a size in kB) in MB; nan if gone or unreadable."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return math.nan


# ----- the browser -------------------------------------------------------------------------
def system_chromium() -> str:
    path = chromium_path()
    if path is None:
        raise SystemExit("no chromium found (apt-get install chromium, or set $CHROMIUM)")
    return path


def launch_chromium(playwright: Any) -> Any:
    """The system Chromium, headless; never a browser downloaded by Playwright."""
    return playwright.chromium.launch(executable_path=system_chromium(), args=CHROMIUM_ARGS)


# ----- statistics and reporting ----------------------------------------------------------
def median(values: Sequence[float]) -> float:
    clean = [v for v in values if v == v]
    return statistics.median(clean) if clean else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100)."""
    clean = sorted(v for v in values if v == v)
    if not clean:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(clean)))
    return clean[rank - 1]


def fmt(value: float, digits: int = 2) -> str:
    if value != value:
        return "n/a"
    return f"{value:.{digits}f}"


def verdict(value: float, target: float, *, higher_is_better: bool = False) -> str:
    if value != value:
        return "n/a"
    ok = value >= target if higher_is_better else value <= target
    return "PASS" if ok else "FAIL"


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    table = [list(header), *[list(r) for r in rows]]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in table[1:]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


class Deadline:
    """A hard bound on a benchmark's running time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.left() <= 0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
