"""The private Streamlit names ``colorclf/app/streamlit_private.py`` relies on still exist in
the pinned Streamlit: a release that renames one fails here, not silently on the page."""

from __future__ import annotations

import inspect


def test_the_pending_request_names_the_live_panel_reads_exist():
    from streamlit.runtime.scriptrunner_utils import script_requests, script_run_context

    script_run_context.ThreadState.initialize()  # as a script thread's reset() does
    assert hasattr(script_run_context.ThreadState.get(), "fragment_id")
    context_fields = inspect.signature(script_run_context.ScriptRunContext).parameters
    assert "script_requests" in context_fields
    assert (
        "fragment_ids_this_run"
        in inspect.signature(script_run_context.ScriptRunContext.reset).parameters
    )
    requests = script_requests.ScriptRequests()
    assert requests._state.name == "CONTINUE"
    assert hasattr(requests, "_rerun_data")
    assert "fragment_id_queue" in inspect.signature(script_requests.RerunData).parameters


def test_another_run_waits_answers_false_when_the_names_do_not_fit():
    from colorclf.app.streamlit_private import another_run_waits

    class Odd:  # not a ScriptRunContext: the private names are missing
        pass

    assert another_run_waits(Odd()) is False
