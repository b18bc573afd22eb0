"""``Share with the class``: a finished or stopped run goes to the class board (``/class``).

The run is stored in the votes' database (``colorclf.store.runs``) under the name the student
types here or on the labelling page (one name per session), else the session's anonymous id.
Only the epoch curve travels, never the batch history. The name is shown as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import streamlit as st

from colorclf.app.label_page import contributor, remember_name, show_flash
from colorclf.app.runtime import db_problem, get_page_store
from colorclf.app.state import Flash, student_state, training_state
from colorclf.core.errors import ColorclfError
from colorclf.core.runs import Run, RunStatus
from colorclf.store import MAX_NAME_LENGTH, RunBoard, ShareRefused, shared_run_from_epochs

SHARE_NAME_KEY = "share_name"  # the name field's widget key
SHARE_RUN_KEY = "share_run"  # the run box's widget key
SHAREABLE = (RunStatus.STOPPED, RunStatus.COMPLETE)
SHARE_LABEL = "Share with the class"


def shareable(runs: Sequence[Run]) -> list[Run]:
    """Runs that finished (or were stopped) with at least one epoch."""
    return [run for run in runs if run.status in SHAREABLE and run.epoch_rows()]


def _on_share(runs: Sequence[Run]) -> None:
    state = training_state()
    number = st.session_state.get(SHARE_RUN_KEY)
    run = next((r for r in shareable(runs) if r.number == number), None)
    if run is None:
        state.share_flash = Flash("error", "Choose a finished or stopped run to share.")
        return
    if run.number in state.shared_numbers:
        state.share_flash = Flash("warning", f"{run.name} is already on the class board.")
        return
    who = contributor(SHARE_NAME_KEY)
    try:
        board = RunBoard(get_page_store())
        board.share(shared_run_from_epochs(who, run.hyperparams, run.data_source, run.epoch_rows()))
    except ShareRefused as err:
        state.share_flash = Flash("warning", f"Not shared: {err}.")
        return
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        state.share_flash = Flash("error", f"Not shared ({db_problem(err)}).")
        return
    state.shared_numbers.add(run.number)
    state.share_flash = Flash(
        "success", f"{run.name} is on the class board (page Class board).", who
    )


def share_panel(runs: Sequence[Run]) -> None:
    """The Runs tab's ``Share with the class`` section."""
    ss = st.session_state
    st.subheader("Share with the class")
    done = shareable(runs)
    if not done:
        st.caption("When a run finishes (or you stop it), share it with the class board here.")
        return
    saved_name = student_state().saved_name
    if SHARE_NAME_KEY not in ss and saved_name:
        ss[SHARE_NAME_KEY] = saved_name
    names = {run.number: run.name for run in done}
    if ss.get(SHARE_RUN_KEY) not in names:
        ss[SHARE_RUN_KEY] = done[-1].number
    left, right = st.columns(2)
    left.selectbox("Run to share", list(names), format_func=names.__getitem__, key=SHARE_RUN_KEY)
    right.text_input(
        "Your name (optional)",
        key=SHARE_NAME_KEY,
        on_change=remember_name,
        args=(SHARE_NAME_KEY,),
        max_chars=MAX_NAME_LENGTH,
        placeholder="leave empty to stay anonymous",
        help="The class board shows it next to your run.",
    )
    st.text(f"Sharing as: {contributor(SHARE_NAME_KEY)}")
    st.button(SHARE_LABEL, key="share_button", on_click=_on_share, args=(list(runs),))
    state = training_state()
    message, state.share_flash = state.share_flash, None
    show_flash(message, escape=False)
    if message is not None and message.who is not None:
        st.text(f"Shared as: {message.who}")
