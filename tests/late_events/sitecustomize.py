"""Test aid for ``tests/test_connection.py``: a Streamlit server started with this folder on
``PYTHONPATH`` hands its script runners' messages to the event loop ``LATE_SECONDS`` late.

That widens a race a busy server runs into about once in 400 run ends: a live-panel timer
tick that arrives just after a page run's script runner stopped starts a new runner, and
Streamlit then drops the old runner's messages not yet sent (the page run's end is lost).
It reaches into Streamlit's private ``AppSession._call_soon_on_event_loop``; if that name
vanishes, the server exits at once, so the test fails instead of passing without the delay.
"""

import os
import sys

LATE_SECONDS = 0.1

if sys.orig_argv[1:3] == ["-m", "streamlit"]:
    try:
        from streamlit.runtime.app_session import AppSession

        on_time = AppSession._call_soon_on_event_loop

        def _late(self, callback):
            on_time(self, lambda: self._event_loop.call_later(LATE_SECONDS, callback))

        AppSession._call_soon_on_event_loop = _late
    except Exception as error:  # the test must not run without the delay
        sys.stderr.write(f"late_events: cannot delay Streamlit's events: {error!r}\n")
        os._exit(2)
