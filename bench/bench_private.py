"""What the one private Streamlit name buys: how long an action during a training waits.

The live panel draws the chart in one long fragment run (up to ``LIVE_RUN_SECONDS``) and ends
it at once when ``colorclf/app/streamlit_private.another_run_waits`` says that another run
waits. Streamlit itself cuts a fragment run short for a *page* run (a click on ``Stop``, a
tab, a setting) at its next ``st.*`` call, but a request for *another fragment* (the ask
panel's exact-colour field, the views' own widgets) waits until the running fragment ends.

This starts the app and the same app with that question always answering "no"
(``bench/no_private_app.py``: what the page does if the private names vanish) side by side,
trains a long run in each (interleaved, one Chromium at 1366×768), and at a varied moment of
each run measures in the page:

- exact colour: Enter in the ``Exact colour`` field → the ask panel says "This colour: r, g, b"
  (a fragment run: what the private name is for);
- Stop: the click → the status says "Stopping…" or "Stopped at…" (a page run: the control,
  which Streamlit serves without it).

Prints median, p90 and max of each, and a PASS/FAIL line: with the private name the exact
colour's median is at most a third of the one without.

    CHROMIUM=/usr/bin/chromium .venv/bin/python bench/bench_private.py            # 8 trials each
    CHROMIUM=/usr/bin/chromium .venv/bin/python bench/bench_private.py --trials 12

Talks only to 127.0.0.1 and stops by itself (``--timeout``, default 900 s).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_page import TRAIN_ENABLED_JS, app_button, set_epochs, train_button  # noqa: E402

from tools import streamlit_client as srv  # noqa: E402

EPOCHS = 200  # long enough that no action comes after the run's end
VARIANTS = {"with the private name": "streamlit_app.py", "without it": "bench/no_private_app.py"}
ACTIONS = ("exact colour", "Stop")
TARGET_SHARE = 1 / 3  # the exact colour with ≤ a third of without: the name earns its place

# Arms a watch: the moment of the next action (capture phase: when the user acts), then the
# first animation frame at which the element matching ``selector`` shows ``pattern``.
WATCH_JS = r"""([event, selector, pattern]) => {
  const w = window.__watch = {acted: null, answered: null};
  const re = new RegExp(pattern);
  const look = () => {
    const el = document.querySelector(selector);
    if (el && re.test(el.textContent)) w.answered = performance.now();
    else requestAnimationFrame(look);
  };
  const on = (e) => {
    if (event === 'keydown' && e.key !== 'Enter') return;
    document.removeEventListener(event, on, true);
    w.acted = performance.now();
    look();
  };
  document.addEventListener(event, on, true);
}"""


def watched(page: Any, event: str, selector: str, pattern: str, act: Any) -> float:
    """Milliseconds from the action ``act()`` performs to ``pattern`` on screen."""
    page.evaluate(WATCH_JS, [event, selector, pattern])
    act()
    page.wait_for_function("() => window.__watch.answered !== null", polling=50, timeout=60_000)
    return float(page.evaluate("() => window.__watch.answered - window.__watch.acted"))


def one_run(page: Any, pause_s: float, rgb: tuple[int, int, int]) -> dict[str, float]:
    """Train, let the run go on ``pause_s`` seconds past its first epoch, ask an exact colour,
    then Stop: milliseconds to each answer."""
    page.wait_for_function(TRAIN_ENABLED_JS, polling=50, timeout=120_000)
    train_button(page).click()
    status = page.locator(".st-key-training-status")
    status.filter(has_text=re.compile(r"Epoch \d+/")).wait_for(timeout=120_000)
    time.sleep(pause_s)
    field = page.get_by_role("textbox", name="Exact colour")
    field.fill(", ".join(map(str, rgb)))
    shown = re.escape(f"This colour: {rgb[0]}, {rgb[1]}, {rgb[2]} ")
    out = {
        "exact colour": watched(
            page, "keydown", ".colorclf-ask", shown, lambda: field.press("Enter")
        )
    }
    time.sleep(0.5)  # the sliders rest, the field empties: the Stop comes in a quiet moment
    out["Stop"] = watched(
        page,
        "click",
        ".st-key-training-status",
        "Stopping after this batch|Stopped at epoch",
        lambda: app_button(page, "Stop").click(),
    )
    status.filter(has_text=re.compile(r"Stopped at epoch")).wait_for(timeout=60_000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8, help="trainings per variant")
    parser.add_argument("--seed", type=int, default=0, help="the pauses and colours")
    parser.add_argument("--timeout", type=float, default=900, help="hard cap, seconds")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    deadline = srv.Deadline(args.timeout)
    # The same moments and colours for both variants, spread over the live run's 4 s cycle.
    rng = random.Random(args.seed)
    trials = [
        (rng.uniform(0.2, 4.2), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        for _ in range(args.trials)
    ]
    results = {name: {action: [] for action in ACTIONS} for name in VARIANTS}
    servers: dict[str, srv.Server] = {}
    with sync_playwright() as playwright:
        browser = srv.launch_chromium(playwright)
        try:
            pages = {}
            for name, script in VARIANTS.items():
                servers[name] = srv.launch_server(script=script)
                srv.wait_healthy(servers[name], timeout=120)
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                pages[name] = context.new_page()
                pages[name].goto(servers[name].url)
                train_button(pages[name]).wait_for(state="visible", timeout=120_000)
                set_epochs(pages[name], EPOCHS)
            for i, (pause, rgb) in enumerate(trials):
                order = list(VARIANTS) if i % 2 == 0 else list(reversed(VARIANTS))
                for name in order:
                    if deadline.left() < 60:
                        raise TimeoutError("deadline")
                    measured = one_run(pages[name], pause, rgb)
                    for action, ms in measured.items():
                        results[name][action].append(ms)
                    said = ", ".join(f"{action} {ms:.0f} ms" for action, ms in measured.items())
                    srv.log(f"trial {i + 1}, {name}: after {pause:.1f} s: {said}")
        except TimeoutError:
            srv.log("deadline: reporting what was measured")
        finally:
            browser.close()
            for server in servers.values():
                srv.stop_server(server)
    report(results)


def report(results: dict[str, dict[str, list[float]]]) -> None:
    print("\n== An action during a training → its answer on screen (ms) ==")
    rows = []
    for action in ACTIONS:
        for name in VARIANTS:
            values = results[name][action]
            worst = max(values) if values else float("nan")
            rows.append(
                [
                    action,
                    name,
                    str(len(values)),
                    srv.fmt(srv.median(values), 0),
                    srv.fmt(srv.percentile(values, 90), 0),
                    srv.fmt(worst, 0),
                ]
            )
    srv.print_table(rows, ["action", "variant", "trials", "median", "p90", "max"])
    with_it, without = (srv.median(results[name]["exact colour"]) for name in VARIANTS)
    share = with_it / without if without else float("nan")
    print(
        f"\nexact colour, with ÷ without (medians): {srv.fmt(with_it, 0)} ÷ "
        f"{srv.fmt(without, 0)} ms = {srv.fmt(share)} (target ≤ {TARGET_SHARE:.2f}): "
        f"{srv.verdict(share, TARGET_SHARE)}"
    )


if __name__ == "__main__":
    main()
