"""The class board (``/class``): every run the class shared, best first, and their validation
curves overlaid, refreshed every few seconds while the page is open.

``render()`` is a page for ``st.navigation``. The runs come from the votes' database
(``colorclf.store.runs``) through the labelling page's ``st.connection``, so every replica
behind a load balancer shows the same board. Names are shown as plain text (table cells,
``st.text``, widget options), never as Markdown or HTML. Projector mode (``?projector=1`` or
the sidebar's toggle) leaves out the controls and draws large text for the back row.
"""

from __future__ import annotations

import sqlalchemy as sa
import streamlit as st

from colorclf.app.label_page import show_flash
from colorclf.app.runtime import db_problem, get_page_store
from colorclf.app.state import board_state
from colorclf.app.teacher_auth import (
    Confirm,
    refusal,
    teacher_delete,
    teacher_password,
    unlocked,
)
from colorclf.core.errors import ColorclfError
from colorclf.core.links import LinkConfig, to_query_string
from colorclf.core.text import count, plain
from colorclf.store import RunBoard, SharedRun
from colorclf.views import board as board_views
from colorclf.views.compare import CURVE_METRICS

REFRESH_SECONDS = 3.0
# Widget keys (the page's own data is ``board_state()``).
PROJECTOR_KEY = "board_projector"
PICK_KEY = "board_pick"
METRIC_KEY = "board_metric"
PASSWORD_KEY = "board_teacher_password"
REMOVE_KEY = "board_remove_id"
CLEAR_CONFIRM_KEY = "board_clear_confirm"
PROJECTOR_ROWS = 10
# Our own constant CSS (no user text): big plain-text lines for the projector.
PROJECTOR_CSS = (
    "<style>[data-testid='stText'] { font-size: 1.9rem; line-height: 1.35; }"
    " h1 { font-size: 3.2rem; }</style>"
)


def _board() -> RunBoard:
    return RunBoard(get_page_store())


def open_link(run: SharedRun) -> str:
    """The training page with ``run``'s settings (and its data when a link can carry it)."""
    query = to_query_string(LinkConfig(hyperparams=run.hyperparams, data=run.data_source))
    base = (st.context.url or ".").rstrip("/")
    return f"{base}/?{query}"


def _percent(value: float | None) -> str:
    return "  n/a " if value is None else f"{value * 100:5.1f} %"


def _table(runs: list[SharedRun]) -> None:
    table = board_views.board_table(runs, link=open_link)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="board_table",
        column_order=[c for c in board_views.TABLE_COLUMNS if c != "id"],
        column_config={
            "open": st.column_config.LinkColumn("Open in Train", display_text="Open in Train"),
            "best val accuracy": st.column_config.NumberColumn(format="percent"),
            "final val accuracy": st.column_config.NumberColumn(format="percent"),
            "best val loss": st.column_config.NumberColumn(format="%.4f"),
            "final val loss": st.column_config.NumberColumn(format="%.4f"),
            "seconds": st.column_config.NumberColumn(format="%.1f"),
        },
    )


def _projector_lines(runs: list[SharedRun]) -> None:
    for rank, run in enumerate(runs[:PROJECTOR_ROWS], start=1):
        hp = run.hyperparams
        st.text(
            f"#{rank:<3} {_percent(run.metrics()['best_val_accuracy'])}  {run.contributor}"
            f"  ·  {hp.optimizer} {hp.learning_rate:g}, {hp.hidden_units} {hp.activation},"
            f" {count(run.epochs, 'epoch')}"
        )


def _chosen(runs: list[SharedRun], projector: bool) -> list[tuple[int, SharedRun]]:
    """(rank, run) pairs to overlay: the picked ones, else the best ``MAX_OVERLAID``."""
    ranked = list(enumerate(runs, start=1))
    if projector:
        return ranked[: board_views.MAX_OVERLAID]
    by_id = {run.id: (rank, run) for rank, run in ranked}
    ss = st.session_state
    ss[PICK_KEY] = [run_id for run_id in ss.get(PICK_KEY, []) if run_id in by_id]
    st.multiselect(
        "Runs to overlay",
        list(by_id),
        format_func=lambda run_id: board_views.run_label(*by_id[run_id]),
        max_selections=board_views.MAX_OVERLAID,
        key=PICK_KEY,
        placeholder=f"the {board_views.MAX_OVERLAID} best",
        help=f"At most {board_views.MAX_OVERLAID}; none picked draws the best ones.",
    )
    picked = [by_id[run_id] for run_id in ss[PICK_KEY]]
    return picked or ranked[: board_views.MAX_OVERLAID]


def _board_body(projector: bool) -> None:
    """The part that refreshes itself: counts, the table (or big lines) and the curves."""
    try:
        store = get_page_store()
        runs = RunBoard(store).runs()
        votes = store.count()
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        st.error(plain(f"The class database cannot be used ({db_problem(err)}). Ask your teacher."))
        return
    left, right = st.columns(2, wrap=False)
    left.metric("Shared runs", len(runs))
    right.metric("Class votes", votes)
    if not runs:
        st.info("No runs shared yet: after a training, open the Runs tab and share it.")
        return
    if projector:
        _projector_lines(runs)
        metric = "Accuracy"
    else:
        _table(runs)
        metric = (
            st.radio("Curve", list(CURVE_METRICS), index=1, horizontal=True, key=METRIC_KEY)
            or "Accuracy"
        )
    curves = board_views.board_curves(_chosen(runs, projector), metric)
    if curves.empty:
        st.caption("The runs drawn have no finite validation values.")
    else:
        spec = board_views.board_curves_spec(metric, large=projector)
        st.vega_lite_chart(curves, spec, width="stretch")


# ---------------------------------------------------------------------------- teacher tools


def _on_remove() -> None:
    run_id = st.session_state.get(REMOVE_KEY)
    if not isinstance(run_id, int):
        return
    removed = teacher_delete(
        lambda: _board().remove(run_id),
        lambda n: "Removed one run." if n else "That run was already gone.",
        page=board_state(),
        password_key=PASSWORD_KEY,
        failed="Nothing removed",
    )
    if removed is not None:
        st.session_state.pop(REMOVE_KEY, None)


def _on_clear() -> None:
    teacher_delete(
        lambda: _board().clear(),
        lambda n: f"Cleared the board: deleted {count(n, 'run')}.",
        page=board_state(),
        password_key=PASSWORD_KEY,
        confirm=Confirm(CLEAR_CONFIRM_KEY, "CLEAR", "clearing the board"),
    )


def _teacher_tools() -> None:
    if teacher_password() is None:
        st.info(
            "Teacher tools are disabled: no teacher password is set (the same one as the "
            "labelling page's; see docs/HOSTING.md)."
        )
        return
    st.text_input("Teacher password", type="password", key=PASSWORD_KEY)
    if not st.session_state.get(PASSWORD_KEY):
        st.caption("Enter the teacher password to remove a run or clear the board.")
        return
    if not unlocked(PASSWORD_KEY):
        st.error(refusal(PASSWORD_KEY))
        return
    page = board_state()
    message, page.teacher_flash = page.teacher_flash, None
    show_flash(message, escape=False)
    try:
        runs = _board().runs()
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        st.error(plain(f"The class database cannot be used ({db_problem(err)})."))
        return
    labels = {run.id: board_views.run_label(rank, run) for rank, run in enumerate(runs, 1)}
    st.subheader("Remove one run")
    if labels:
        if st.session_state.get(REMOVE_KEY) not in labels:
            st.session_state[REMOVE_KEY] = next(iter(labels))
        st.selectbox("Run", list(labels), format_func=labels.__getitem__, key=REMOVE_KEY)
        st.button("Confirm: remove this run", key="board_remove", on_click=_on_remove)
    else:
        st.caption("No runs yet.")
    st.subheader("Clear the board")
    st.text_input("Type CLEAR to confirm", key=CLEAR_CONFIRM_KEY)
    st.button(
        "Clear the board",
        key="board_clear",
        on_click=_on_clear,
        type="primary",
        disabled=not labels,
    )


# ---------------------------------------------------------------------------- page


def _read_projector_link() -> None:
    page = board_state()
    if page.projector_read:
        return
    page.projector_read = True
    raw = st.query_params.get("projector", "")
    st.session_state[PROJECTOR_KEY] = raw.strip().lower() in ("1", "true")


def render() -> None:
    """The class board page."""
    _read_projector_link()
    with st.sidebar:
        projector = st.toggle(
            "Projector mode", key=PROJECTOR_KEY, help="Large text and no controls."
        )
    if projector:
        st.html(PROJECTOR_CSS)
    st.title("Class board")
    if not projector:
        st.caption(
            "Every run the class shared, best validation accuracy first; click a column to "
            f"sort. Refreshes every {REFRESH_SECONDS:g} s. Open in Train opens the training "
            "page with that run's settings."
        )
    st.fragment(_board_body, run_every=REFRESH_SECONDS)(projector)
    if not projector:
        with st.expander("Teacher tools"):
            _teacher_tools()
