"""The one place the page reaches into Streamlit's private names, kept here alone.

It is checked by ``tests/test_streamlit_private.py`` against the pinned Streamlit, so a
release that renames them fails a test instead of quietly changing the page:

- ``another_run_waits``: whether the page or another fragment waits while the live panel's
  long fragment run draws. No public API tells. Streamlit cuts the run short by itself for
  a page run (Stop, a tab), but a request for another fragment (the exact-colour field, a
  view's widgets) waits until the run ends (``live.LIVE_RUN_SECONDS``), and often one run
  more, when the panel's own timer was queued first. ``bench/bench_private.py`` measures
  what it buys against the same page without it: exact colour during a training → answer
  on screen, 226 ms median against 6,195 ms (max 300 against 7,923 ms); Stop, the control,
  270 ms in both (8 trials each, 2026-12-06). If the names vanish it answers False and the
  page behaves as that bench's "without it".

(Streamlit also calls ``keras.backend.clear_session()`` after every script run once Keras is
imported; the web server never imports Keras, uploaded model files are opened in a trainer
process, so nothing here needs to replace that clean-up any more.)
"""

from __future__ import annotations

from typing import Any


def another_run_waits(ctx: Any = None) -> bool:
    """True when the page or another fragment waits while this fragment run draws: a full
    run (the rest of the page comes after the live panel), other fragments queued in this
    very run (a slider and our own timer can arrive together), or a new request pending.
    ``ctx``: the script run's context (default: this thread's)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

        if ctx is None:
            ctx = get_script_run_ctx()

        own = ThreadState.get().fragment_id
        this_run = ctx.fragment_ids_this_run or []
        if not this_run or any(fragment != own for fragment in this_run):
            return True
        requests = ctx.script_requests
        if requests._state.name != "RERUN":
            return False
        queue = list(requests._rerun_data.fragment_id_queue)
    except Exception:  # private names: never let them break the page
        return False
    # No queue: the whole page waits. Our own timer queues this fragment again and again;
    # that alone does not count.
    return not queue or any(fragment != own for fragment in queue)
