"""``Share with the class``: a finished or stopped run goes to the class board (``/class``).

The run is stored in the votes' database (``colorclf.store.runs``) under the name the student
types here or on the labelling page (one name per session), else the session's anonymous id.
Only the epoch curve travels, never the batch history. The name is shown as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import streamlit as st

from colorclf.app.label_page import (
    SAVED_NAME_KEY,
    contributor,
    db_problem,
    get_page_store,
)
from colorclf.core.errors import ColorclfError
from colorclf.core.runs import Run, RunStatus
from colorclf.store import MAX_NAME_LENGTH, RunBoard, ShareRefused, shared_run_from_epochs

SHARE_NAME_KEY = "share_name"
SHARE_RUN_KEY = "share_run"
SHARED_KEY = "share_shared_numbers"  # run numbers this session has shared
FLASH_KEY = "share_flash"
SHAREABLE = (RunStatus.STOPPED, RunStatus.COMPLETE)
SHARE_LABEL = "Share with the class"


def shareable(runs: Sequence[Run]) -> list[Run]:
    """Runs that finished (or were stopped) with at least one epoch."""
    return [run for run in runs if run.status in SHAREABLE and run.epoch_rows()]


def _remember_name() -> None:
    st.session_state[SAVED_NAME_KEY] = st.session_state.get(SHARE_NAME_KEY) or ""


def _on_share(runs: Sequence[Run]) -> None:
    ss = st.session_state
    number = ss.get(SHARE_RUN_KEY)
    run = next((r for r in shareable(runs) if r.number == number), None)
    if run is None:
        ss[FLASH_KEY] = ("error", "Choose a finished or stopped run to share.", None)
        return
    shared: set[int] = ss.setdefault(SHARED_KEY, set())
    if run.number in shared:
        ss[FLASH_KEY] = ("warning", f"{run.name} is already on the class board.", None)
        return
    who = contributor(SHARE_NAME_KEY)
    try:
        board = RunBoard(get_page_store())
        board.share(shared_run_from_epochs(who, run.hyperparams, run.data_source, run.epoch_rows()))
    except ShareRefused as err:
        ss[FLASH_KEY] = ("warning", f"Not shared: {err}.", None)
        return
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        ss[FLASH_KEY] = ("error", f"Not shared ({db_problem(err)}).", None)
        return
    shared.add(run.number)
    ss[FLASH_KEY] = ("success", f"{run.name} is on the class board (page Class board).", who)


def share_panel(runs: Sequence[Run]) -> None:
    """The Runs tab's ``Share with the class`` section."""
    ss = st.session_state
    st.subheader("Share with the class")
    done = shareable(runs)
    if not done:
        st.caption("When a run finishes (or you stop it), share it with the class board here.")
        return
    if SHARE_NAME_KEY not in ss and ss.get(SAVED_NAME_KEY):
        ss[SHARE_NAME_KEY] = ss[SAVED_NAME_KEY]
    names = {run.number: run.name for run in done}
    if ss.get(SHARE_RUN_KEY) not in names:
        ss[SHARE_RUN_KEY] = done[-1].number
    left, right = st.columns(2)
    left.selectbox("Run to share", list(names), format_func=names.__getitem__, key=SHARE_RUN_KEY)
    right.text_input(
        "Your name (optional)",
        key=SHARE_NAME_KEY,
        on_change=_remember_name,
        max_chars=MAX_NAME_LENGTH,
        placeholder="leave empty to stay anonymous",
        help="The class board shows it next to your run.",
    )
    st.text(f"Sharing as: {contributor(SHARE_NAME_KEY)}")
    st.button(SHARE_LABEL, key="share_button", on_click=_on_share, args=(list(runs),))
    message = ss.pop(FLASH_KEY, None)
    if message:
        kind, text, who = message
        {"error": st.error, "warning": st.warning, "success": st.success}[kind](text)
        if who is not None:
            st.text(f"Shared as: {who}")
