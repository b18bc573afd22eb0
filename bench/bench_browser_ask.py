"""Design probe for issue 10's slider target: key press → answer on screen, for the floor's
Streamlit sliders (``floor_app.py``: a fragment run per key) against sliders answered in the
browser by an ``st.components.v2`` component (``browser_ask_app.py``), in one run, rounds
interleaved, optionally with a busy core (as a training keeps one).

    .venv/bin/python bench/bench_browser_ask.py --rounds 3 --presses 20 [--busy]

The floor is measured as ``bench_page.py`` measures it (key → the swatch shows the colour
and the app is idle again); the component page: key → its swatch shows the colour with the
answer and bars drawn (no script run follows a key press).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import _server as srv  # noqa: E402
from bench_page import RECORDER_JS, busy_core, press_red, slider_latency  # noqa: E402

PROBE_JS = r"""
(() => {
  const pr = window.__probe = {expect: null, tKey: null, results: []};
  const swatch = () => { const el = document.querySelector('.ask .swatch');
                         return el ? el.style.background : null; };
  const check = () => {
    if (pr.expect === null || pr.tKey === null) return;
    const answer = document.querySelector('.ask .answer');
    if (swatch() === pr.expect && answer && answer.textContent) {
      pr.results.push(performance.now() - pr.tKey); pr.expect = null; pr.tKey = null;
    }
  };
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, attributes: true, characterData: true});
  document.addEventListener('keydown', () => {
    if (pr.expect !== null && pr.tKey === null) pr.tKey = performance.now();
  }, true);
})();
"""


def component_latency(page: Any, presses: int) -> list[float]:
    red = page.locator(".ask input").first
    red.wait_for(state="visible", timeout=60_000)
    page.evaluate(PROBE_JS)
    red.focus()
    value = int(red.input_value())
    value = press_red(page, "window.__probe", value, (0, 0), presses, srv.Deadline(600))
    # The server hears the resting colour (one script run, after the presses).
    page.get_by_text(f"The server heard: ({value}, 0, 0)").wait_for(timeout=15_000)
    return page.evaluate("() => window.__probe.results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    floor = srv.launch_server(script="bench/floor_app.py")
    probe = srv.launch_server(script="bench/browser_ask_app.py")
    busy = busy_core() if args.busy else None
    floor_ms: list[float] = []
    probe_ms: list[float] = []
    try:
        srv.wait_healthy(floor, timeout=120)
        srv.wait_healthy(probe, timeout=120)
        with sync_playwright() as playwright:
            browser = srv.launch_chromium(playwright)
            for round_number in range(1, args.rounds + 1):
                for name in ("floor", "probe"):
                    context = browser.new_context(viewport={"width": 1366, "height": 768})
                    context.add_init_script(RECORDER_JS)
                    page = context.new_page()
                    page.goto((floor if name == "floor" else probe).url)
                    if name == "floor":
                        deadline = srv.Deadline(600)
                        floor_ms += slider_latency(page, args.presses, deadline)["idle_ms"]
                    else:
                        probe_ms += component_latency(page, args.presses)
                    context.close()
                srv.log(
                    f"round {round_number}: floor median {srv.median(floor_ms):.0f} ms, "
                    f"browser-side median {srv.median(probe_ms):.0f} ms so far"
                )
            browser.close()
    finally:
        if busy is not None:
            busy.kill()
        srv.stop_server(floor)
        srv.stop_server(probe)
    ratio = srv.median(probe_ms) / srv.median(floor_ms)
    srv.print_table(
        [
            ["floor: Streamlit sliders, key → idle (median)", f"{srv.median(floor_ms):.0f} ms", ""],
            ["floor p90", f"{srv.percentile(floor_ms, 90):.0f} ms", ""],
            ["browser-side answer, key → drawn (median)", f"{srv.median(probe_ms):.0f} ms", ""],
            ["browser-side p90", f"{srv.percentile(probe_ms, 90):.0f} ms", ""],
            ["browser-side ÷ floor", srv.fmt(ratio), srv.verdict(ratio, 1.2)],
        ],
        ["figure" + (" (one core busy)" if args.busy else ""), "value", "≤ 1.2×"],
    )


if __name__ == "__main__":
    main()
