"""The training page in a real browser: what a student on the same machine waits for.

Drives the system Chromium (Playwright, ``executable_path``; never a downloaded browser)
against a fresh ``streamlit run streamlit_app.py`` on 127.0.0.1, coding-train preset on the
built-in data, and prints five figures, each with its target, then a PASS/FAIL table:

1. Training cost with the page open: (a) bare ``model.fit`` of the same configuration (one
   fit call, batch 32, 10 % validation_data, built-in data) in a helper process of the same
   Python, against (b) the seconds the page reports ("Training complete in X s") while this
   Chromium page watches. a and b alternate; medians and the ratio b/a (target ≤ 1.15).
   Also the wall time click → "Training complete" visible.
2. Chart states per second: an in-page recorder (``add_init_script``) reads the live loss
   chart every 20 ms and counts distinct states between the first data on the chart and
   "Training complete" (target ≥ 10/s). The chart is a canvas: the recorder hashes the
   coordinates of the path calls Vega makes between its top-level ``save()`` and
   ``restore()`` (reading pixels back 50 times a second would slow the page it measures);
   for an SVG chart, the data marks' ``d`` attributes.
3. Server cost and bytes per redraw, in this process: ``LiveChartData.update`` (the ~40
   rows that arrive between two redraws) + ``table()`` + what ``st.vega_lite_chart`` does
   with them (spec preparation, Arrow, the JSON spec, the ForwardMsg, its hash and wire
   bytes) for histories of 100, 1,600, 16,000 and 160,000 batch rows (targets ≤ 5 ms,
   ≤ 10 KB). Plus the real websocket frames the browser received during training (the
   recorder wraps ``window.WebSocket``): median/max size of the frames carrying the chart.
4. Slider latency: after training, focus the ``Red`` slider and press ArrowLeft N times; per
   press, key → the colour swatch shows the new colour, and key → swatch new *and* the app's
   script state back to ``notRunning``: the honest "new prediction on screen". On the floor
   that is a fragment run (the metric arrives with it); the app's sliders answer in the
   browser (``colorclf/app/ask.py``), so their answer is drawn with the swatch, and a script
   run the key press did not start (the sliders rest after 300 ms) still counts while it
   runs. Median and p90 (target median ≤ 1.2× the floor's).
5. Cold start: launch the server process → ``Train`` visible and enabled (target ≤ 4 s), and
   click ``Train`` at once → first chart row visible (target ≤ 1.5 s).

The machine has 2 shared cores, so absolute seconds wander: compare the ratios measured in
one run. The script stops by itself (``--timeout``, default 1500 s) and only talks to
127.0.0.1.

Usage:
    .venv/bin/python bench/bench_page.py --quick        # 1 repeat, 10 key presses (~3 min)
    .venv/bin/python bench/bench_page.py --pace full    # figure 1 as the issue asks: Pace full
    .venv/bin/python bench/bench_page.py                # 3 repeats, 30 key presses
    .venv/bin/python bench/bench_page.py --repeats 5 --epochs 10 --presses 30
    .venv/bin/python bench/bench_page.py --app /tmp/variant.py   # try a change first
"""

from __future__ import annotations

import argparse
import copy
import gc
import itertools
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _rows import BATCHES_PER_EPOCH, synthetic_rows  # noqa: E402

from tools import streamlit_client as srv  # noqa: E402

TARGET_RATIO = 1.15
TARGET_STATES_PER_S = 10.0
TARGET_REDRAW_MS = 5.0
TARGET_REDRAW_KB = 10.0
TARGET_SLIDER_MS = 150.0
TARGET_TRAIN_VISIBLE_S = 4.0
TARGET_FIRST_ROW_S = 1.5
HISTORY_SIZES = (100, 1_600, 16_000, 160_000)
ROWS_PER_REDRAW = 40  # batches that arrive between two redraws (~100 ms of training)

# The in-page recorder: installed before any page script runs. Times are performance.now().
RECORDER_JS = r"""
(() => {
  if (window.__cc) return;
  const T = () => performance.now();
  const cc = window.__cc = {ws: [], sig: [], status: [], clicks: [], lastSig: null,
                            lastStatus: null, polls: 0, slider: null};
  // 1. Every websocket frame the page receives: [time, bytes, carries the loss chart].
  const Native = window.WebSocket;
  const latin1 = new TextDecoder('latin1');
  function Hooked(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener('message', (ev) => {
      const d = ev.data;
      let n = 0, chart = false;
      if (d instanceof ArrayBuffer) {
        n = d.byteLength;
        if (n > 300) chart = latin1.decode(d).includes('val accuracy');
      } else if (d && d.size !== undefined) { n = d.size; }
      else if (typeof d === 'string') { n = d.length; }
      cc.ws.push([T(), n, chart]);
    });
    return ws;
  }
  Hooked.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Hooked[k] = Native[k];
  window.WebSocket = Hooked;
  // 2. Clicks (capture phase: the moment the user acts).
  document.addEventListener('click', (e) => {
    const t = (e.target && e.target.textContent || '').trim().slice(0, 20);
    cc.clicks.push([T(), t]);
  }, true);
  // 3. Every 20 ms: the loss chart's data state and the status label.
  const hashStr = (h, s) => {
    for (let i = 0; i < s.length; i++) h = (Math.imul(h ^ s.charCodeAt(i), 16777619)) >>> 0;
    return h;
  };
  // A canvas chart's state without reading pixels back (a readback 50 times a second
  // slows the very page it measures): Vega draws each frame between a top-level save() and
  // restore(); hash the coordinates of its path calls in between.
  const drawn = new WeakMap();
  const ctx2d = CanvasRenderingContext2D.prototype;
  const wrap = (name, fn) => { const orig = ctx2d[name]; ctx2d[name] = function (...a) {
    fn(this, a); return orig.apply(this, a); }; };
  const rec = (ctx) => {
    let r = drawn.get(ctx.canvas);
    if (!r) { r = {depth: 0, cur: 0, done: 0, points: 0, curPoints: 0}; drawn.set(ctx.canvas, r); }
    return r;
  };
  wrap('save', (ctx) => { const r = rec(ctx);
    if (r.depth++ === 0) { r.cur = 2166136261; r.curPoints = 0; } });
  wrap('restore', (ctx) => { const r = rec(ctx);
    if (r.depth > 0 && --r.depth === 0) { r.done = r.cur; r.points = r.curPoints; } });
  for (const name of ['moveTo', 'lineTo', 'arc', 'rect', 'bezierCurveTo', 'fillText']) {
    wrap(name, (ctx, a) => { const r = drawn.get(ctx.canvas); if (!r || r.depth === 0) return;
      r.curPoints++;
      for (const v of a) r.cur = (Math.imul(r.cur ^ (typeof v === 'number'
        ? Math.round(v * 100) : hashStr(0, String(v))), 16777619)) >>> 0; });
  }
  const lossChart = () => document.querySelector(
    '[data-testid="stMain"] [data-testid="stColumn"] [data-testid="stVegaLiteChart"]');
  cc.signature = () => {
    const el = lossChart();
    if (!el) return null;
    const svg = el.querySelector('svg');
    if (svg) {
      const paths = svg.querySelectorAll(
        'g.role-mark.mark-line path, g.role-mark.mark-symbol path');
      let h = 2166136261, data = false;
      for (const p of paths) {
        const d = p.getAttribute('d') || '';
        if (d.length > 2) data = true;
        h = hashStr(h, d);
      }
      return ['svg' + paths.length + ':' + h, data];
    }
    const canvas = el.querySelector('canvas');
    if (canvas && canvas.width && canvas.height) {
      const r = drawn.get(canvas);
      return r ? ['canvas:' + r.done, r.points > 0] : ['canvas:none', false];
    }
    return ['empty', false];
  };
  const statusText = () => {
    // The status element: a bordered container keyed "training-status"; its first
    // paragraph is the label.
    const label = document.querySelector('[data-testid="stMain"] .st-key-training-status p');
    return label ? label.textContent.trim() : null;
  };
  setInterval(() => {
    cc.polls++;
    const s = cc.signature();
    const key = s ? s[0] : null;
    if (key !== cc.lastSig) { cc.lastSig = key; cc.sig.push([T(), key, s ? s[1] : false]); }
    const st = statusText();
    if (st !== cc.lastStatus) { cc.lastStatus = st; cc.status.push([T(), st]); }
  }, 20);
})();
"""

# Slider latency: a MutationObserver notes when the swatch shows the expected colour and when
# the app is idle again after it.
SLIDER_JS = r"""
(() => {
  const cc = window.__cc;
  const sl = cc.slider = {expect: null, tKey: null, tSwatch: null, results: [], anyState: false};
  const swatch = () => {  // the app's sliders component, or the floor's Markdown swatch
    const el = document.querySelector(
      '.colorclf-ask-swatch, [data-testid="stMarkdownContainer"] div[style*="background: rgb"]');
    const m = el && el.getAttribute('style').match(/rgb\([^)]*\)/);
    return m ? m[0] : null;
  };
  const idle = () => document.querySelector('[data-testid="stApp"]')
    .getAttribute('data-test-script-state') === 'notRunning';
  const metric = () => {
    const el = document.querySelector('.colorclf-ask-headline, [data-testid="stMetricValue"]');
    return el ? el.textContent : null;
  };
  const check = () => {
    if (sl.expect === null || sl.tKey === null) return;
    const now = performance.now();
    if (sl.tSwatch === null && swatch() === sl.expect) sl.tSwatch = now;
    if (sl.tSwatch !== null && (sl.anyState || idle())) {
      // The first websocket frame after the key: the server has started the fragment run.
      const first = cc.ws.find((w) => w[0] > sl.tKey);
      const frames = cc.ws.filter((w) => w[0] > sl.tKey && w[0] <= now);
      const last = frames.length ? frames[frames.length - 1][0] : NaN;
      sl.results.push({swatch: sl.tSwatch - sl.tKey, idle: now - sl.tKey, metric: metric(),
                       firstFrame: first ? first[0] - sl.tKey : NaN,
                       lastFrame: last - sl.tKey});
      sl.expect = null; sl.tKey = null; sl.tSwatch = null;
    }
  };
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, attributes: true, characterData: true});
  document.addEventListener('keydown', () => {
    if (sl.expect !== null && sl.tKey === null) sl.tKey = performance.now();
  }, true);
  sl.swatch = swatch;
})();
"""

COMPLETE_RE = re.compile(r"Training complete in ([0-9.]+) s")
TRAIN_ENABLED_JS = """() => {
  const b = Array.from(document.querySelectorAll('[data-testid="stButton"] button'))
    .find((b) => b.textContent.trim() === 'Train');
  return Boolean(b && !b.disabled);
}"""


# ----- 1a. bare model.fit in a helper process ------------------------------------------------
def fit_worker() -> None:
    """``--fit-worker``: per line "fit N" or "train N", answer with the seconds (JSON).

    fit: bare ``model.fit`` (one call, N epochs); train: ``colorclf.train.loop.train`` with a
    list as the sink (what the page's job does, without Streamlit), its own clock.
    """
    from colorclf.core.dataset import stratified_split
    from colorclf.core.hyperparams import PRESETS
    from colorclf.data.builtin import builtin_dataset
    from colorclf.train.loop import train
    from colorclf.train.model import build_model

    hp = PRESETS["coding-train"]
    split = stratified_split(builtin_dataset(), hp.val_split, hp.seed)
    warm = build_model(hp.replace(epochs=1))  # import and initialise TensorFlow once
    warm.fit(split.x_train[:64], split.y_train[:64], epochs=1, batch_size=32, verbose=0)
    del warm
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        mode, epochs_text = line.split()
        params = hp.replace(epochs=int(epochs_text))
        model = build_model(params)
        if mode == "train":
            rows: list[dict[str, Any]] = []
            seconds = train(model, split, params, rows.append).progress.seconds
        else:
            start = time.perf_counter()
            model.fit(
                split.x_train,
                split.y_train,
                batch_size=params.batch_size,
                epochs=params.epochs,
                shuffle=True,
                validation_data=(split.x_val, split.y_val),
                verbose=0,
            )
            seconds = time.perf_counter() - start
        del model
        gc.collect()
        print(json.dumps({"seconds": seconds}), flush=True)


class FitWorker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--fit-worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=HERE.parent,
        )

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fit worker exited")
        return json.loads(line)

    def wait_ready(self) -> None:
        self._answer()

    def fit(self, epochs: int, mode: str = "fit") -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{mode} {epochs}\n")
        self.proc.stdin.flush()
        return float(self._answer()["seconds"])

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)


# ----- 3. server cost per redraw ---------------------------------------------------------
def marshal_chart(frame: Any, spec: dict[str, Any]) -> tuple[int, int]:
    """What ``st.vega_lite_chart(frame, spec, width="stretch")`` does with the data, up to
    the bytes on the websocket; returns (wire bytes, Arrow bytes)."""
    try:
        from streamlit.elements.vega_charts import (
            _marshall_chart_data,
            _prepare_vega_lite_spec,
            _stabilize_vega_json_spec,
        )
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart
        from streamlit.runtime.forward_msg_cache import populate_hash_if_needed
    except ImportError:  # Streamlit moved its internals: the documented public pieces
        from streamlit import dataframe_util

        arrow = dataframe_util.convert_anything_to_arrow_bytes(frame)
        text = json.dumps(spec)
        return len(arrow) + len(text), len(arrow)
    prepared = _prepare_vega_lite_spec(spec, True)
    proto = VegaLiteChart()
    _marshall_chart_data(proto, prepared, frame)
    proto.spec = _stabilize_vega_json_spec(json.dumps(prepared))
    proto.theme = "streamlit"
    msg = ForwardMsg()
    msg.delta.new_element.vega_lite_chart.CopyFrom(proto)
    populate_hash_if_needed(msg)
    return len(msg.SerializeToString()), len(proto.data.data)


def server_cost(repeats: int) -> list[dict[str, float]]:
    from colorclf.views import chart_data, charts

    spec = charts.loss_chart_spec()
    results = []
    for size in HISTORY_SIZES:
        rows = synthetic_rows(size)
        base = chart_data.LiveChartData(BATCHES_PER_EPOCH)
        base.update(rows[: max(0, len(rows) - ROWS_PER_REDRAW)])
        update_ms, marshal_ms, wire, arrow = [], [], 0, 0
        for _ in range(repeats):
            data = copy.deepcopy(base)
            start = time.perf_counter()
            data.update(rows)
            table = data.table()
            middle = time.perf_counter()
            wire, arrow = marshal_chart(table, spec)
            end = time.perf_counter()
            update_ms.append((middle - start) * 1000)
            marshal_ms.append((end - middle) * 1000)
        cold = []
        for _ in range(max(1, repeats // 5)):
            start = time.perf_counter()
            fresh = chart_data.LiveChartData(BATCHES_PER_EPOCH)
            fresh.update(rows)
            marshal_chart(fresh.table(), spec)
            cold.append((time.perf_counter() - start) * 1000)
        results.append(
            {
                "batches": size,
                "frame_rows": len(table),
                "update_ms": srv.median(update_ms),
                "marshal_ms": srv.median(marshal_ms),
                "total_ms": srv.median([a + b for a, b in zip(update_ms, marshal_ms, strict=True)]),
                "wire_kb": wire / 1024,
                "arrow_kb": arrow / 1024,
                "cold_ms": srv.median(cold),
            }
        )
    return results


# ----- the browser -------------------------------------------------------------------------
def now_ms(page: Any) -> float:
    return float(page.evaluate("performance.now()"))


def take_records(page: Any) -> dict[str, Any]:
    """The recorder's data so far (and empty its lists, to keep later fetches small)."""
    return page.evaluate(
        """() => { const cc = window.__cc;
                   const out = {ws: cc.ws, sig: cc.sig, status: cc.status, clicks: cc.clicks,
                                polls: cc.polls, now: performance.now()};
                   cc.ws = []; cc.sig = []; cc.status = []; cc.clicks = []; return out; }"""
    )


def app_button(page: Any, label: str) -> Any:
    """The page's ``st.button`` whose whole text is ``label``."""
    return page.locator('[data-testid="stButton"] button').filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
    )


def train_button(page: Any) -> Any:
    return app_button(page, "Train")


def wait_status(page: Any, pattern: str, timeout_s: float) -> None:
    page.wait_for_function(
        """(p) => { const s = window.__cc.lastStatus;
                   return s !== null && new RegExp(p).test(s); }""",
        arg=pattern,
        polling=50,
        timeout=max(1.0, timeout_s) * 1000,
    )


def set_epochs(page: Any, epochs: int) -> None:
    field = page.get_by_label("Epochs", exact=True)
    field.fill(str(epochs))
    field.press("Enter")
    time.sleep(0.3)
    page.wait_for_selector(srv.APP_IDLE, timeout=60_000)


def analyse_training(records: dict[str, Any], run_number: int) -> dict[str, float]:
    """From one run's records: click time, first data on the chart, states/s, frames."""
    clicks = [t for t, label in records["clicks"] if label == "Train"]
    t_click = clicks[-1] if clicks else math.nan
    complete = [
        (t, s)
        for t, s in records["status"]
        if s and f"Run {run_number}:" in s and COMPLETE_RE.search(s) and t >= t_click
    ]
    t_complete, text = complete[0] if complete else (math.nan, "")
    match = COMPLETE_RE.search(text)
    reported = float(match.group(1)) if match else math.nan
    data_states = [(t, key) for t, key, has_data in records["sig"] if has_data and t >= t_click]
    t_first = data_states[0][0] if data_states else math.nan
    during = [(t, key) for t, key in data_states if t <= t_complete]
    distinct = len({key for _, key in during})
    span = (during[-1][0] - during[0][0]) / 1000 if len(during) > 1 else math.nan
    gaps = [(b[0] - a[0]) for a, b in itertools.pairwise(during)]
    chart_frames = [n for t, n, chart in records["ws"] if chart and t_click <= t <= t_complete]
    all_bytes = sum(n for t, n, _ in records["ws"] if t_click <= t <= t_complete)
    seconds = (t_complete - t_click) / 1000
    return {
        "reported_s": reported,
        "wall_s": seconds,
        "first_row_s": (t_first - t_click) / 1000,
        "states": len(during),
        "distinct_states": distinct,
        "states_per_s": (len(during) - 1) / span
        if span and span == span and span > 0
        else math.nan,
        "median_gap_ms": srv.median(gaps),
        "chart_frames": len(chart_frames),
        "chart_frames_per_s": len(chart_frames) / seconds if seconds > 0 else math.nan,
        "chart_frame_kb_median": srv.median(chart_frames) / 1024 if chart_frames else math.nan,
        "chart_frame_kb_max": max(chart_frames) / 1024 if chart_frames else math.nan,
        "ws_kb_per_s": all_bytes / 1024 / seconds if seconds > 0 else math.nan,
    }


def run_training_in_page(
    page: Any, run_number: int, deadline: srv.Deadline, *, cold: bool = False
) -> dict[str, float]:
    take_records(page)  # forget what happened before this run
    button = train_button(page)
    button.wait_for(state="visible", timeout=max(1.0, deadline.left()) * 1000)
    page.wait_for_function(
        TRAIN_ENABLED_JS,
        polling=20,
        timeout=max(1.0, deadline.left()) * 1000,
    )
    button.click()
    wait_status(page, rf"Run {run_number}:.*Training complete in", deadline.left())
    time.sleep(0.3)
    records = take_records(page)
    result = analyse_training(records, run_number)
    if cold:
        result["polls"] = records["polls"]
    return result


def press_red(
    page: Any,
    recorder: str,
    red: int,
    green_blue: tuple[int, int],
    presses: int,
    deadline: srv.Deadline,
) -> int:
    """Press ArrowLeft (ArrowRight at 0) on the focused Red slider ``presses`` times, each
    after telling the in-page ``recorder`` (a JS object with ``expect`` and ``results``) the
    colour to wait for, and each time wait until it has one more result; returns Red's value.
    """
    g, b = green_blue
    for i in range(presses):
        if deadline.left() < 20:
            break
        key = "ArrowLeft" if red > 0 else "ArrowRight"
        red += -1 if key == "ArrowLeft" else 1
        page.evaluate(f"(e) => {{ {recorder}.expect = e; }}", f"rgb({red}, {g}, {b})")
        page.keyboard.press(key)
        page.wait_for_function(
            f"(n) => {recorder}.results.length >= n", arg=i + 1, polling=20, timeout=15_000
        )
        time.sleep(0.05)
    return red


def slider_latency(
    page: Any, presses: int, deadline: srv.Deadline, *, training: bool = False
) -> dict[str, Any]:
    if not training:
        page.wait_for_selector(srv.APP_IDLE, timeout=60_000)
    # The app's sliders are range inputs in its component (colorclf/app/ask.py); the floor's
    # are Streamlit sliders.
    slider = (
        page.locator('.colorclf-ask input[aria-label="Red"]')
        .or_(page.locator('[data-testid="stSlider"]').filter(has_text="Red").get_by_role("slider"))
        .first
    )
    slider.wait_for(state="visible", timeout=60_000)
    page.evaluate(SLIDER_JS)
    page.evaluate("(t) => { window.__cc.slider.anyState = t; }", training)
    slider.focus()
    value = int(slider.get_attribute("aria-valuenow") or slider.input_value() or 255)
    green_blue = page.evaluate("() => window.__cc.slider.swatch()")
    match = re.match(r"rgb\((\d+), (\d+), (\d+)\)", green_blue or "")
    g, b = (int(match.group(2)), int(match.group(3))) if match else (0, 0)
    press_red(page, "window.__cc.slider", value, (g, b), presses, deadline)
    results = page.evaluate("() => window.__cc.slider.results")
    labels = [r["metric"] for r in results]
    return {
        "presses": len(results),
        "swatch_ms": [r["swatch"] for r in results],
        "idle_ms": [r["idle"] for r in results],
        "first_frame_ms": [r["firstFrame"] for r in results if r["firstFrame"] is not None],
        "last_frame_ms": [r["lastFrame"] for r in results if r["lastFrame"] is not None],
        "labels": sorted(set(filter(None, labels))),
    }


def slider_latency_while_training(
    page: Any, presses: int, deadline: srv.Deadline
) -> dict[str, Any]:
    """The same key presses while a long run trains (from its second epoch, once the sliders
    answer with its weights), then Stop. The page never goes idle meanwhile, so a press counts
    once the swatch shows it: the app's sliders draw their answer in the same step."""
    set_epochs(page, 200)
    train_button(page).click()
    page.get_by_text(re.compile(r"Epoch 2/200 · loss")).first.wait_for(timeout=120_000)
    try:
        return slider_latency(page, presses, deadline, training=True)
    finally:
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Stopped at epoch").first.wait_for(timeout=120_000)
        page.wait_for_selector(srv.APP_IDLE, timeout=60_000)


def busy_core() -> subprocess.Popen:
    """One core kept busy, as a training keeps it (for the busy-core floor)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def floor_cold_start(page: Any, seconds: float) -> tuple[Any, float]:
    """Launch the floor page's server; returns it and launch → Train visible."""
    server = srv.launch_server({"FLOOR_SECONDS": f"{seconds:.1f}"}, script="bench/floor_app.py")
    srv.wait_healthy(server, timeout=120)
    page.goto(server.url)
    train_button(page).wait_for(state="visible", timeout=120_000)
    page.wait_for_function(TRAIN_ENABLED_JS, polling=20, timeout=120_000)
    return server, time.perf_counter() - server.launched_at


def browser_part(args: argparse.Namespace, deadline: srv.Deadline) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"a": [], "b": [], "b_tab": [], "c": [], "d": [], "e": []}
    out.update(floor_idle=[], floor_busy=[], cold_starts=[])
    with sync_playwright() as playwright:
        browser = srv.launch_chromium(playwright)
        contexts: list[Any] = []

        def new_page() -> Any:
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.add_init_script(RECORDER_JS)
            contexts.append(context)
            fresh = context.new_page()
            fresh.goto("about:blank")
            return fresh

        server = None
        floor = None
        worker = None
        try:
            # 5. cold starts, each a pair: the floor's (a fresh server and browser context),
            # then the page's: process launch → Train visible and enabled, and a click at
            # once → first chart row. A single cold start wanders by half a second on this
            # machine, so the figures are medians over the pairs. The last pair's servers and
            # pages stay for the rest.
            for start in range(1, args.cold_starts + 1):
                if start > 1:
                    stop_server_quietly(server)
                    stop_server_quietly(floor)
                    while contexts:
                        contexts.pop().close()
                floor_page = new_page()
                srv.log(f"cold start {start}: launching the bare floor page")
                floor, floor_visible = floor_cold_start(floor_page, 8.0)
                page = new_page()
                srv.log(f"cold start {start}: launching streamlit")
                server = srv.launch_server(script=args.app)
                healthy = srv.wait_healthy(server, timeout=min(120, deadline.left()))
                goto_at = time.perf_counter()
                page.goto(f"{server.url}/?pace={args.pace}")
                train_button(page).wait_for(state="visible", timeout=120_000)
                page.wait_for_function(TRAIN_ENABLED_JS, polling=20, timeout=120_000)
                visible = time.perf_counter() - server.launched_at
                page_load = time.perf_counter() - goto_at
                if args.epochs != 10:
                    set_epochs(page, args.epochs)
                if args.tab:  # e.g. "Network": measure the page with that view open
                    open_tab(page, args.tab)
                cold = run_training_in_page(page, 1, deadline, cold=True)
                out["cold"] = cold
                out["cold_starts"].append(
                    {
                        "floor_train_visible_s": floor_visible,
                        "train_visible_s": visible,
                        "healthy_s": healthy,
                        "page_load_s": page_load,
                        "first_row_s": cold["first_row_s"],
                    }
                )
                srv.log(
                    f"cold start {start}: Train visible {visible:.2f} s after launch "
                    f"(floor {floor_visible:.2f} s); first row {cold['first_row_s']:.2f} s"
                )
            out["server_pid"] = server.pid
            for key in ("floor_train_visible_s", "train_visible_s", "healthy_s", "page_load_s"):
                out[key] = srv.median([pair[key] for pair in out["cold_starts"]])
            out["visible_minus_floor_s"] = srv.median(
                [p["train_visible_s"] - p["floor_train_visible_s"] for p in out["cold_starts"]]
            )
            out["first_row_s"] = srv.median([pair["first_row_s"] for pair in out["cold_starts"]])
            out["rss_after_cold_mb"] = srv.vm_rss_mb(server.pid)

            # 1. a/b alternation.
            worker = FitWorker()
            worker.wait_ready()
            run = 1
            for repeat in range(args.repeats):
                if deadline.left() < 90:
                    srv.log("deadline: stopping the repeats early")
                    break
                seconds = worker.fit(args.epochs)
                out["a"].append(seconds)
                srv.log(f"repeat {repeat + 1}: a bare fit {seconds:.2f} s")
                run += 1
                page.wait_for_selector(srv.APP_IDLE, timeout=60_000)
                result = run_training_in_page(page, run, deadline)
                out["b"].append(result)
                srv.log(
                    f"repeat {repeat + 1}: b page {result['reported_s']:.2f} s "
                    f"(wall {result['wall_s']:.2f} s, {result['states_per_s']:.1f} states/s)"
                )
                if args.compare_tab:  # the same run again with that view open
                    run += 1
                    open_tab(page, args.compare_tab)
                    result = run_training_in_page(page, run, deadline)
                    open_tab(page, "Decision map")
                    out["b_tab"].append(result)
                    srv.log(
                        f"repeat {repeat + 1}: b with {args.compare_tab} open "
                        f"{result['reported_s']:.2f} s ({result['states_per_s']:.1f} states/s)"
                    )
                for key, busy in (("floor_idle", False), ("floor_busy", True)):
                    hog = busy_core() if busy else None
                    try:
                        floor_run = len(out["floor_idle"]) + len(out["floor_busy"]) + 1
                        floor_result = run_training_in_page(floor_page, floor_run, deadline)
                    finally:
                        if hog is not None:
                            hog.kill()
                            hog.wait()
                    out[key].append(floor_result)
                    srv.log(
                        f"repeat {repeat + 1}: {key} {floor_result['states_per_s']:.1f} states/s"
                    )
                if not args.breakdown:
                    continue
                seconds = worker.fit(args.epochs, "train")
                out["c"].append(seconds)
                srv.log(f"repeat {repeat + 1}: c train() alone {seconds:.2f} s")
                for key, interval in (("d", None), ("e", 1.0)):
                    result = srv.train_headless(
                        server, poll_interval=interval, timeout=min(300, deadline.left())
                    )
                    out[key].append(result)
                    srv.log(
                        f"repeat {repeat + 1}: {key} headless client polling "
                        f"{'0.1' if interval is None else interval} s: "
                        f"{result['reported_s']:.2f} s"
                    )
            worker.close()
            worker = None

            # 4. slider latency, after training and while a run trains.
            if deadline.left() > 30:
                out["slider"] = slider_latency(page, args.presses, deadline)
            # (A run at full pace is over before a slider could be moved during it.)
            if deadline.left() > 90 and args.pace == "live":
                out["slider_training"] = slider_latency_while_training(page, args.presses, deadline)
            if deadline.left() > 30:
                out["floor_slider"] = slider_latency(floor_page, args.presses, deadline)
            out["rss_end_mb"] = srv.vm_rss_mb(server.pid)
            out["server_errors"] = server.errors_in_log()
        finally:
            if worker is not None:
                worker.close()
            for context in contexts:
                context.close()
            browser.close()
            if server is not None:
                stop_server_quietly(server)
            if floor is not None:
                stop_server_quietly(floor)
    return out


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    page.wait_for_selector(srv.APP_IDLE, timeout=60_000)


def stop_server_quietly(server: srv.Server) -> None:
    try:
        srv.stop_server(server)
    except Exception as error:  # never leave the benchmark hanging on clean-up
        srv.log(f"could not stop the server cleanly: {error}")


# ----- report ------------------------------------------------------------------------------
def report(args: argparse.Namespace, cost: list[dict[str, float]], page: dict[str, Any]) -> None:
    f = srv.fmt
    print()
    print("== 3. Server cost per redraw (this process; ~40 new rows per redraw) ==")
    srv.print_table(
        [
            [
                f"{r['batches']:,}",
                str(r["frame_rows"]),
                f(r["update_ms"]),
                f(r["marshal_ms"]),
                f(r["total_ms"]),
                f(r["wire_kb"], 1),
                f(r["arrow_kb"], 1),
                f(r["cold_ms"], 1),
            ]
            for r in cost
        ],
        [
            "batch rows",
            "frame rows",
            "update+frame ms",
            "marshal ms",
            "total ms",
            "wire KB",
            "arrow KB",
            "cold (all rows) ms",
        ],
    )
    a = page.get("a", [])
    b = page.get("b", [])
    print()
    print("== 1. Training cost with the page open (interleaved a, b) ==")
    for i, seconds in enumerate(a):
        row = b[i] if i < len(b) else {}
        print(
            f"  repeat {i + 1}: a bare fit {f(seconds)} s   "
            f"b page {f(row.get('reported_s', math.nan))} s"
            f"   (wall click→complete {f(row.get('wall_s', math.nan))} s)"
        )
    med_a = srv.median(a)
    med_b = srv.median([r["reported_s"] for r in b])
    med_wall = srv.median([r["wall_s"] for r in b])
    ratio = med_b / med_a if med_a and med_a == med_a else math.nan
    wall_ratio = med_wall / med_a if med_a and med_a == med_a else math.nan
    print(f"  median a {f(med_a)} s, b {f(med_b)} s, wall {f(med_wall)} s")
    print(f"  ratio b/a {f(ratio)} (target ≤ {TARGET_RATIO}); wall/a {f(wall_ratio)}")
    if page.get("c"):
        med_c = srv.median(page["c"])
        med_d = srv.median([r["reported_s"] for r in page["d"]])
        med_e = srv.median([r["reported_s"] for r in page["e"]])
        print("  where the time goes (medians, ratio to a):")
        for label, value in (
            ("a  bare model.fit, helper process", med_a),
            ("c  colorclf.train.loop.train(), helper process, no Streamlit", med_c),
            ("e  server, headless client polling 1 Hz (no browser)", med_e),
            ("d  server, headless client polling 10 Hz like the page (no browser)", med_d),
            ("b  server + this Chromium page watching (the target)", med_b),
        ):
            print(f"    {label:<70} {f(value)} s  ×{f(value / med_a)}")
    cold = page.get("cold", {})
    if cold:
        print(f"  (cold first run, not in the medians: page reported {f(cold['reported_s'])} s)")

    print()
    print("== 2. Chart states per second in the browser (between first data and complete) ==")
    for i, row in enumerate(b):
        print(
            f"  repeat {i + 1}: {row['states']} states ({row['distinct_states']} distinct), "
            f"{f(row['states_per_s'], 1)}/s, median gap {f(row['median_gap_ms'], 0)} ms; "
            f"chart frames {row['chart_frames']} ({f(row['chart_frames_per_s'], 1)}/s), "
            f"median {f(row['chart_frame_kb_median'], 1)} KB, "
            f"max {f(row['chart_frame_kb_max'], 1)} KB; websocket {f(row['ws_kb_per_s'], 1)} KB/s"
        )
    if page.get("d"):
        runs = [r["fragment_runs"] / r["wall_s"] for r in page["d"] if r["wall_s"] > 0]
        print(
            f"  server side (headless client asking 10×/s, no browser): "
            f"{f(srv.median(runs), 1)} fragment runs/s, each "
            f"{f(srv.median([r['fragment_run_ms'] for r in page['d']]), 0)} ms "
            f"(new_session → script_finished; one run redraws for up to "
            f"colorclf.app.live.LIVE_RUN_SECONDS while the run trains)"
        )
    print(
        f"  warm runs: click → first chart row median "
        f"{f(srv.median([r['first_row_s'] for r in b]))} s"
    )
    states = srv.median([r["states_per_s"] for r in b])
    frame_median = srv.median([r["chart_frame_kb_median"] for r in b])
    frame_max = max((r["chart_frame_kb_max"] for r in b), default=math.nan)

    print()
    print("== 4. Slider latency (Red, ArrowLeft; key → new colour, key → new colour + idle) ==")
    slider = page.get("slider") or {}
    idle = slider.get("idle_ms", [])
    swatch = slider.get("swatch_ms", [])
    if slider:
        print(
            f"  {slider['presses']} presses: swatch median {f(srv.median(swatch), 0)} ms, "
            f"p90 {f(srv.percentile(swatch, 90), 0)} ms; "
            f"swatch+idle median {f(srv.median(idle), 0)} ms, "
            f"p90 {f(srv.percentile(idle, 90), 0)} ms; labels seen {slider['labels']}"
        )
        print(
            f"  where it goes (medians): key → first websocket frame of the answer "
            f"{f(srv.median(slider['first_frame_ms']), 0)} ms (browser sends, server queues "
            f"and starts the fragment), → last frame "
            f"{f(srv.median(slider['last_frame_ms']), 0)} ms (server ran it), "
            f"→ on screen and idle {f(srv.median(idle), 0)} ms (browser renders)"
        )
    print()
    print("== 5. Cold start ==")
    print(
        f"  launch → healthy {f(page.get('healthy_s', math.nan))} s, "
        f"→ Train visible {f(page.get('train_visible_s', math.nan))} s "
        f"(of which the browser loading the page {f(page.get('page_load_s', math.nan))} s); "
        f"click → first chart row {f(page.get('first_row_s', math.nan))} s "
        f"(medians of {len(page.get('cold_starts', []))} cold starts)"
    )
    for i, pair in enumerate(page.get("cold_starts", []), 1):
        print(
            f"    cold start {i}: floor {f(pair['floor_train_visible_s'])} s, page "
            f"{f(pair['train_visible_s'])} s, first row {f(pair['first_row_s'])} s"
        )
    print(
        f"  server RSS after the cold run {f(page.get('rss_after_cold_mb', math.nan), 0)} MB, "
        f"at the end {f(page.get('rss_end_mb', math.nan), 0)} MB"
    )
    if page.get("server_errors"):
        print("  server log errors:", *page["server_errors"][:5], sep="\n    ")

    worst_ms = max((r["total_ms"] for r in cost), default=math.nan)
    worst_kb = max((r["wire_kb"] for r in cost), default=math.nan)
    print()
    print("== Summary: absolute figures (the targets this page had before the floors) ==")
    srv.print_table(
        [
            [
                "1 training b/a (page / bare fit)",
                f(ratio),
                f"≤ {TARGET_RATIO}",
                srv.verdict(ratio, TARGET_RATIO),
            ],
            [
                "2 chart states/s in the browser",
                f(states, 1),
                f"≥ {TARGET_STATES_PER_S:.0f}",
                srv.verdict(states, TARGET_STATES_PER_S, higher_is_better=True),
            ],
            [
                "3 server ms per redraw (worst history)",
                f(worst_ms),
                f"≤ {TARGET_REDRAW_MS:.0f}",
                srv.verdict(worst_ms, TARGET_REDRAW_MS),
            ],
            [
                "3 KB per redraw (worst history)",
                f(worst_kb, 1),
                f"≤ {TARGET_REDRAW_KB:.0f}",
                srv.verdict(worst_kb, TARGET_REDRAW_KB),
            ],
            [
                "3 real chart frames KB (median / max)",
                f"{f(frame_median, 1)} / {f(frame_max, 1)}",
                f"≤ {TARGET_REDRAW_KB:.0f}",
                srv.verdict(frame_max, TARGET_REDRAW_KB),
            ],
            [
                "4 slider key → prediction ms (median)",
                f(srv.median(idle), 0),
                f"≤ {TARGET_SLIDER_MS:.0f}",
                srv.verdict(srv.median(idle), TARGET_SLIDER_MS),
            ],
            ["4 slider p90 ms", f(srv.percentile(idle, 90), 0), "(info)", ""],
            [
                "5 launch → Train visible s",
                f(page.get("train_visible_s", math.nan)),
                f"≤ {TARGET_TRAIN_VISIBLE_S:.0f}",
                srv.verdict(page.get("train_visible_s", math.nan), TARGET_TRAIN_VISIBLE_S),
            ],
            [
                "5 click → first chart row s",
                f(cold.get("first_row_s", math.nan)),
                f"≤ {TARGET_FIRST_ROW_S}",
                srv.verdict(cold.get("first_row_s", math.nan), TARGET_FIRST_ROW_S),
            ],
        ],
        ["figure", "value", "target", "verdict"],
    )
    floor_report(args, page)
    if page.get("b_tab"):
        tab_report(args, page)
    load = os.getloadavg()
    print(
        f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
        f"({os.cpu_count()} cores)"
    )


def floor_report(args: argparse.Namespace, page: dict[str, Any]) -> None:
    """The page against the bare floor page measured in the same run (the targets)."""
    f = srv.fmt
    states = srv.median([r["states_per_s"] for r in page.get("b", [])])
    floor_idle = srv.median([r["states_per_s"] for r in page.get("floor_idle", [])])
    floor_busy = srv.median([r["states_per_s"] for r in page.get("floor_busy", [])])
    per_epoch = min((r["distinct_states"] for r in page.get("b", [])), default=0)
    slider = srv.median(page.get("slider", {}).get("idle_ms", []))
    floor_slider = srv.median(page.get("floor_slider", {}).get("idle_ms", []))
    slider_training = srv.median(page.get("slider_training", {}).get("idle_ms", []))
    visible = page.get("train_visible_s", math.nan)
    floor_visible = page.get("floor_train_visible_s", math.nan)
    visible_gap = page.get("visible_minus_floor_s", math.nan)
    first_row = page.get("first_row_s", math.nan)
    starts = len(page.get("cold_starts", []))
    slowest_first_row = max(
        (pair["first_row_s"] for pair in page.get("cold_starts", [])), default=math.nan
    )
    med_a = srv.median(page.get("a", []))
    med_b = srv.median([r["reported_s"] for r in page.get("b", [])])

    def ratio(x: float, y: float) -> float:
        return x / y if y and y == y else math.nan

    print()
    print("== Against the floor (a bare page measured in this run; bench/floor_app.py) ==")
    print(f"  floor chart states/s: idle {f(floor_idle, 1)}, one core busy {f(floor_busy, 1)}")
    srv.print_table(
        [
            [
                "chart states/s ÷ busy-core floor",
                f"{f(states, 1)} ÷ {f(floor_busy, 1)} = {f(ratio(states, floor_busy))}",
                "≥ 0.8",
                srv.verdict(ratio(states, floor_busy), 0.8, higher_is_better=True),
            ],
            [
                "distinct chart states in a run (≥ epochs)",
                str(per_epoch),
                f"≥ {args.epochs}",
                srv.verdict(per_epoch, args.epochs, higher_is_better=True),
            ],
            [
                "training with the page ÷ bare fit",
                f"{f(med_b)} ÷ {f(med_a)} = {f(ratio(med_b, med_a))}",
                f"≤ {TARGET_RATIO}",
                srv.verdict(ratio(med_b, med_a), TARGET_RATIO),
            ],
            [
                "slider key → prediction ÷ floor",
                f"{f(slider, 0)} ÷ {f(floor_slider, 0)} ms = {f(ratio(slider, floor_slider))}",
                "≤ 1.2",
                srv.verdict(ratio(slider, floor_slider), 1.2),
            ],
            [
                "slider key → prediction while training ÷ floor",
                f"{f(slider_training, 0)} ÷ {f(floor_slider, 0)} ms = "
                f"{f(ratio(slider_training, floor_slider))}",
                "≤ 1.2",
                srv.verdict(ratio(slider_training, floor_slider), 1.2),
            ],
            [
                f"launch → Train visible − floor (median of {starts})",
                f"{f(visible)} − {f(floor_visible)}: {f(visible_gap)} s",
                "≤ 1.0 s",
                srv.verdict(visible_gap, 1.0),
            ],
            [
                f"first click → first chart row (median of {starts})",
                f"{f(first_row)} s (slowest {f(slowest_first_row)} s)",
                f"≤ {TARGET_FIRST_ROW_S} s",
                srv.verdict(first_row, TARGET_FIRST_ROW_S),
            ],
        ],
        ["figure (page vs floor)", "value", "target", "verdict"],
    )


def tab_report(args: argparse.Namespace, page: dict[str, Any]) -> None:
    """The same training with ``--compare-tab`` open, interleaved with the default view."""
    f = srv.fmt
    med_a = srv.median(page["a"])
    print()
    print(f"== The {args.compare_tab} view open vs closed (interleaved a, closed, open) ==")
    rows, seconds_by_view = [], {}
    for label, runs in (("closed", page["b"]), ("open", page["b_tab"])):
        seconds = seconds_by_view[label] = srv.median([r["reported_s"] for r in runs])
        rows.append(
            [
                label,
                " ".join(f(r["reported_s"]) for r in runs),
                f(seconds),
                f(seconds / med_a if med_a else math.nan),
                f(srv.median([r["states_per_s"] for r in runs]), 1),
                str(min(r["distinct_states"] for r in runs)),
            ]
        )
    srv.print_table(
        rows,
        ["view", "page s per repeat", "median s", "÷ bare fit", "states/s", "min states"],
    )
    closed, opened = seconds_by_view["closed"], seconds_by_view["open"]
    print(f"  open ÷ closed training seconds: {f(opened / closed if closed else math.nan)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=None, help="a/b pairs (default 3)")
    parser.add_argument("--presses", type=int, default=None, help="slider key presses (30)")
    parser.add_argument(
        "--cold-starts", type=int, default=None, help="floor/page cold-start pairs (3)"
    )
    parser.add_argument("--quick", action="store_true", help="1 repeat, 10 presses")
    parser.add_argument(
        "--pace",
        choices=("live", "full"),
        default="live",
        help="the page's Pace (its link): live for the chart's states/s, full for figure 1's "
        "training cost against the bare fit",
    )
    parser.add_argument(
        "--no-breakdown",
        dest="breakdown",
        action="store_false",
        help="skip c/d/e (train() alone, headless clients polling at 10 Hz and 1 Hz)",
    )
    parser.add_argument("--timeout", type=float, default=1500, help="hard cap, seconds")
    parser.add_argument("--tab", default=None, help="open this view tab first (e.g. Network)")
    parser.add_argument(
        "--compare-tab",
        default=None,
        help="each repeat also trains with this view open (e.g. Network) and reports both",
    )
    parser.add_argument(
        "--app",
        default="streamlit_app.py",
        help="the Streamlit script to serve (default: the app; another path to try a change)",
    )
    parser.add_argument("--fit-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_worker:
        fit_worker()
        return
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.presses = args.presses or (10 if args.quick else 30)
    args.cold_starts = args.cold_starts or (1 if args.quick else 3)
    deadline = srv.Deadline(args.timeout)
    started = time.perf_counter()
    srv.log("3. server cost per redraw (in this process)")
    cost = server_cost(repeats=10 if args.quick else 30)
    srv.log("browser part")
    page = browser_part(args, deadline)
    report(args, cost, page)
    print(f"bench_page finished in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
