"""Where the browser's time goes when a student moves a slider: the training page against the
bare floor page (``floor_app.py``), in one run, in the same system Chromium.

For each page (the floor and the page alternate, ``--repeats`` times): start the server on
127.0.0.1, open the page at 1366×768, train once (2 epochs; the floor's Train redraws its
chart for 2 s), then press ArrowLeft on the ``Red`` slider ``--presses`` times, 250 ms apart,
under the Chrome DevTools CPU profiler. Prints, per page, the main thread's busy time per
press (what the profiler did not count as idle), split by where it went (React, the CSS-in-JS
styling, Streamlit's Markdown element, the browser's own style/layout/paint, the rest), and
the page's size (element containers, DOM nodes); then the ratios page ÷ floor.

The figure this explains is bench_page.py's "slider key → prediction ÷ floor": a fragment run
sends only the fragment's elements, but every run start and end re-renders the whole page in
the browser, so its cost grows with the page's size, not with what changed. That finding
moved the training page's sliders into the browser (``colorclf/app/ask.py``): a key press
there starts no run, so the page's column now shows the browser-side answer's own cost.

    CHROMIUM=/usr/bin/chromium .venv/bin/python bench/profile_slider.py [--repeats 2] [--presses 20]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_page import set_epochs  # noqa: E402

from tools import streamlit_client as srv  # noqa: E402

# Self time by the script file it was spent in; the profiler's own names for native work.
GROUPS = (
    ("React", ("react-dom",)),
    ("styling (emotion, styled-components)", ("emotion", "styled-components")),
    ("Streamlit Markdown", ("StreamlitMarkdown",)),
    ("browser: style, layout, paint, GC", ("(program)", "(garbage collector)")),
)

COUNT_JS = """() => [
  document.querySelectorAll('[data-testid=stElementContainer]').length,
  document.getElementsByTagName('*').length,
]"""


def profile_page(script: str, presses: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    server = srv.launch_server(script=script, env_extra={"FLOOR_SECONDS": "2"})
    try:
        srv.wait_healthy(server, timeout=120)
        with sync_playwright() as playwright:
            browser = srv.launch_chromium(playwright)
            try:
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                page.goto(server.url)
                page.get_by_role("button", name="Train").wait_for(timeout=120_000)
                page.wait_for_selector(srv.APP_IDLE, timeout=60_000)
                set_epochs(page, 2)
                page.get_by_role("button", name="Train").click()
                page.get_by_text("Training complete").first.wait_for(timeout=120_000)
                page.wait_for_selector(srv.APP_IDLE, timeout=60_000)
                slider = page.get_by_role("slider", name="Red")
                slider.wait_for(timeout=60_000)
                elements, nodes = page.evaluate(COUNT_JS)
                slider.focus()
                cdp = page.context.new_cdp_session(page)
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                cdp.send("Profiler.start")
                for _ in range(presses):
                    slider.press("ArrowLeft")
                    page.wait_for_timeout(250)
                profile = cdp.send("Profiler.stop")["profile"]
            finally:
                browser.close()
    finally:
        srv.stop_server(server)
    return {"elements": elements, "nodes": nodes, **split_profile(profile, presses)}


def split_profile(profile: dict[str, Any], presses: int) -> dict[str, float]:
    """Busy milliseconds per press, in total and by ``GROUPS`` (the rest in "other")."""
    frames = {node["id"]: node["callFrame"] for node in profile["nodes"]}
    self_us: collections.Counter[int] = collections.Counter()
    for node, delta in zip(profile["samples"], profile["timeDeltas"], strict=False):
        self_us[node] += delta
    out: dict[str, float] = collections.defaultdict(float)
    for node, micros in self_us.items():
        frame = frames[node]
        where = f"{frame['functionName']} {frame['url']}"
        if frame["functionName"] == "(idle)":
            continue
        group = next((name for name, marks in GROUPS if any(m in where for m in marks)), "other")
        out[group] += micros / 1000 / presses
        out["busy"] += micros / 1000 / presses
    return dict(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "page": []}
    scripts = {"floor": "bench/floor_app.py", "page": "streamlit_app.py"}
    started = time.perf_counter()
    for repeat in range(args.repeats):
        for name in ("floor", "page") if repeat % 2 == 0 else ("page", "floor"):
            result = profile_page(scripts[name], args.presses)
            runs[name].append(result)
            srv.log(f"repeat {repeat + 1}: {name} busy {result['busy']:.0f} ms per press")
    f = srv.fmt
    rows = []
    for part in ("busy", *(name for name, _ in GROUPS), "other"):
        floor = srv.median([r.get(part, 0.0) for r in runs["floor"]])
        page = srv.median([r.get(part, 0.0) for r in runs["page"]])
        rows.append([part, f(floor, 1), f(page, 1), f(page / floor if floor else float("nan"))])
    for part in ("elements", "nodes"):
        floor = srv.median([r[part] for r in runs["floor"]])
        page = srv.median([r[part] for r in runs["page"]])
        rows.append([f"page size: {part}", f(floor, 0), f(page, 0), f(page / floor)])
    print()
    print(
        f"== Browser main thread per slider press ({args.presses} presses, median of "
        f"{args.repeats}) =="
    )
    srv.print_table(rows, ["ms per press", "floor", "page", "page ÷ floor"])
    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f}; finished in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
