"""What turning Streamlit's message cache off costs: bytes from server to browser.

Starts the real page twice, once as configured (``.streamlit/config.toml``: cache off)
and once with Streamlit's default (cache on, messages of 10 KB and more), and counts the
websocket bytes the browser receives for one 2-epoch training and then for each of a
few full reruns after it (changing ``Seed``, as a student changing a setting does).

    .venv/bin/python bench/bench_cache.py [--reruns 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import (
    CHROMIUM_ARGS,
    chromium_path,
    start_streamlit,
    stop_streamlit,
    wait_idle,
)


def measure(env: dict[str, str], reruns: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    proc, url = start_streamlit(env)
    received = [0]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1366, "height": 768})

            def on_socket(socket) -> None:
                socket.on(
                    "framereceived",
                    lambda payload: received.__setitem__(0, received[0] + len(payload)),
                )

            page.on("websocket", on_socket)
            page.goto(url)
            page.get_by_role("button", name="Train").wait_for(timeout=120_000)
            wait_idle(page)
            epochs = page.get_by_role("spinbutton", name="Epochs")
            epochs.fill("2")
            epochs.press("Enter")
            wait_idle(page)
            before = received[0]
            page.get_by_role("button", name="Train").click()
            page.get_by_text("Run 1: Training complete").first.wait_for(timeout=120_000)
            wait_idle(page)
            training = received[0] - before
            per_rerun = []
            seed = page.get_by_role("spinbutton", name="Seed")
            for value in range(1, reruns + 1):
                before = received[0]
                seed.fill(str(value))
                seed.press("Enter")
                page.wait_for_timeout(300)
                wait_idle(page)
                per_rerun.append(received[0] - before)
            browser.close()
    finally:
        stop_streamlit(proc)
    return {"training": training, "rerun": statistics.median(per_rerun)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=6)
    args = parser.parse_args()
    off = measure({}, args.reruns)
    on = measure({"STREAMLIT_GLOBAL_MIN_CACHED_MESSAGE_SIZE": "10000"}, args.reruns)
    print(f"{'':28}{'cache on':>12}{'cache off':>12}{'extra':>10}")
    for key, name in (("training", "one 2-epoch training"), ("rerun", "one full rerun (median)")):
        print(
            f"{name:28}{on[key] / 1024:>10.1f}KB{off[key] / 1024:>10.1f}KB"
            f"{(off[key] - on[key]) / 1024:>8.1f}KB"
        )


if __name__ == "__main__":
    main()
