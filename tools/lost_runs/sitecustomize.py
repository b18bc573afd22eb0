"""Fault injection for the lost-page-run defect: put this folder on PYTHONPATH of a
``streamlit run`` and its event loop is held up, as on a loaded server, so that Streamlit's
race shows within one test run instead of once in a few dozen.

The race: when a fragment's timer request reaches a session whose script runner has just
finished, Streamlit starts a new runner and drops every message the old one had queued but
not yet sent, a whole page run among them. Streamlit's own comment in
``AppSession.request_rerun`` describes it. Here 30 % of the fragment requests that arrive
while a run is in progress wait ``COLORCLF_HOLD_EVENT_LOOP`` seconds first (about what the
event loop was seen to wait under six training sessions on two cores), and every dropped
script-run event is written to ``COLORCLF_LOST_LOG/lost-<pid>.txt``.

    COLORCLF_HOLD_EVENT_LOOP=0.1 COLORCLF_LOST_LOG=/tmp/lost PYTHONPATH=tools/lost_runs \\
        CHROMIUM=/usr/bin/chromium .venv/bin/python tools/repeat_tests.py 2 \\
        tests/test_connection.py::test_six_sessions_train_twelve_times_at_once

Private Streamlit names, in a bench only: nothing in the app or the tests imports this.
"""

import os
import random
import sys
import threading
import time

if "streamlit" in " ".join(sys.argv) and os.environ.get("COLORCLF_HOLD_EVENT_LOOP"):
    HOLD = float(os.environ["COLORCLF_HOLD_EVENT_LOOP"])
    LOG_DIR = os.environ.get("COLORCLF_LOST_LOG")

    def _patch() -> None:
        from streamlit.runtime import app_session

        session_class = app_session.AppSession
        request_rerun = session_class.request_rerun
        handle = session_class._handle_scriptrunner_event_on_event_loop
        log = None
        if LOG_DIR:
            log = open(os.path.join(LOG_DIR, f"lost-{os.getpid()}.txt"), "a", buffering=1)  # noqa: SIM115

        def held_request_rerun(self, client_state=None):
            runner = self._scriptrunner
            running = runner is not None and runner._requests._state.name != "STOP"
            fragment = client_state is not None and client_state.fragment_id
            if fragment and running and random.random() < 0.3:
                time.sleep(HOLD)
            return request_rerun(self, client_state)

        def logged_handle(self, sender, event, *args, **kwargs):
            lost = log is not None and sender is not self._scriptrunner
            if lost and event.name != "ENQUEUE_FORWARD_MSG":
                log.write(f"{self.id[:8]} {event.name}\n")
            return handle(self, sender, event, *args, **kwargs)

        session_class.request_rerun = held_request_rerun
        session_class._handle_scriptrunner_event_on_event_loop = logged_handle

    def _when_imported() -> None:
        for _ in range(4000):
            module = sys.modules.get("streamlit.runtime.app_session")
            if module is not None and hasattr(module, "AppSession"):
                time.sleep(0.2)  # let the module finish importing
                _patch()
                return
            time.sleep(0.05)

    threading.Thread(target=_when_imported, daemon=True).start()
