"""The labelling page: the class labels random colours and so builds its own data set.

``render()`` is a page for ``st.navigation`` (no ``st.set_page_config`` here). Every vote
goes through ``VoteStore`` on the engine of ``st.connection("sql", ...)``, so hosting only
needs secrets (``[connections.sql] url``, ``teacher_password``).

Nothing a student types is ever rendered as Markdown or HTML: names appear through
``st.text`` or as widget options, and every message that may carry a name or a database's
words goes through ``colorclf.core.text.plain`` (as on the training page).
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
import streamlit as st

from colorclf.app.restart import (
    colour_from_link,
    keep_colour_in_link,
    keep_student_in_link,
    student_from_link,
)
from colorclf.app.runtime import db_problem, get_page_store
from colorclf.app.state import (
    Flash,
    LastVote,
    label_state,
    student_state,
)
from colorclf.app.teacher_auth import (  # noqa: F401 (SERVER_THROTTLE, SESSION_THROTTLE: tests)
    PASSWORD_KEY,
    SERVER_THROTTLE,
    SESSION_THROTTLE,
    TEACHER_PASSWORD_ENV,
    Confirm,
    refusal,
    teacher_delete,
    teacher_password,
    unlocked,
)
from colorclf.core.errors import ColorclfError
from colorclf.core.labels import LABELS
from colorclf.core.text import count, plain
from colorclf.store import (
    MAX_NAME_LENGTH,
    VoteStore,
    clean_contributor,
    normalise_name,
)

# Widget keys, all prefixed so they never collide with the training page's (the page's own
# data is ``label_state()``).
NAME_KEY = "label_name"
REMOVE_KEY = "label_remove_uid"  # + the removal generation: a new selectbox after each one
RESET_CONFIRM_KEY = "label_reset_confirm"
DOWNLOAD_LABEL = "Download class data (Coding Train JSON)"
RATE_LIMIT_MESSAGE = "Slow down! Take a real look at each colour before you vote."
UNDO_LABEL = "Undo last vote"
SKIP_LABEL = "Not sure: skip"
# About this many votes make a class data set worth training on: ~55 per label, and a
# validation set of 50 at the default 10 % split (colorclf.core.dataset.data_warning).
CLASS_VOTE_GOAL = 500


def vote_key(label: str) -> str:
    """The stable widget key of a label's button."""
    return f"label_vote_{label}"


# ---------------------------------------------------------------------------- state


def _init_session() -> None:
    student = student_state()
    if student.anon_id is None:
        # A new session may be a student's after a server restart: the link keeps who they were.
        linked_id, linked_name = student_from_link()
        student.anon_id = linked_id or _new_anon_id()
        if linked_name and student.saved_name is None:
            student.saved_name = linked_name
    page = label_state()
    if page.rgb is None:
        # After a restart the link says which colour the student was looking at.
        linked = colour_from_link()
        if linked is None:
            page.next_colour()
        else:
            page.rgb = linked
    if NAME_KEY not in st.session_state and student.saved_name is not None:
        st.session_state[NAME_KEY] = student.saved_name


def _new_anon_id() -> str:
    return f"anon-{secrets.token_hex(4)}"


def contributor(name_key: str = NAME_KEY) -> str:
    """The name typed in ``name_key`` (stripped, at most 40 characters), else this session's
    anonymous id (the same on every page of the session)."""
    typed = st.session_state.get(name_key) or ""
    try:
        return clean_contributor(normalise_name(str(typed))[:MAX_NAME_LENGTH].strip())
    except ColorclfError:
        student = student_state()
        if student.anon_id is None:
            student.anon_id = _new_anon_id()
        return student.anon_id


def remember_name(name_key: str = NAME_KEY) -> None:
    """A name field's on_change: the name typed outlives the field (on any page)."""
    student_state().saved_name = st.session_state.get(name_key) or ""


# ---------------------------------------------------------------------------- callbacks


def _on_vote(label: str) -> None:
    _init_session()  # a click can arrive in a brand-new session (after a server restart)
    page = label_state()
    page.voted_by_callback = True  # the click was handled here, not by the button's return value
    r, g, b = page.rgb or page.next_colour()
    try:
        stored = get_page_store().cast_vote(r, g, b, label, contributor())
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        page.flash = Flash("error", f"The vote was not stored ({db_problem(err)}).")
        return
    if stored is None:
        page.flash = Flash("warning", RATE_LIMIT_MESSAGE)
        return
    # Who voted is kept with the vote: a name typed later cannot undo it, and Undo deletes
    # this very vote by its id.
    page.last_vote = LastVote((r, g, b), label, stored, contributor())
    page.next_colour()


def _on_undo() -> None:
    """Delete this session's last vote (by its id, only if it is still this contributor's)
    and show its colour again, to be labelled anew."""
    page = label_state()
    last, page.last_vote = page.last_vote, None
    if last is None:
        return
    try:
        undone = get_page_store().undo_vote(last.vote_id, last.voter)
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        page.last_vote = last  # still there: the student may try again
        page.flash = Flash("error", f"The vote was not undone ({db_problem(err)}).")
        return
    if not undone:
        page.flash = Flash("warning", "That vote is gone already (your teacher removed it).")
        return
    r, g, b = page.rgb = last.rgb
    page.flash = Flash("success", f"Undone: rgb({r}, {g}, {b}) → {last.label}. Pick again.")


def _on_skip() -> None:
    """The next colour, with no vote stored."""
    _init_session()
    label_state().next_colour()


def _remove_key() -> str:
    """The contributor selectbox's key; it changes after a removal so the browser shows
    a fresh list instead of the removed name."""
    return f"{REMOVE_KEY}_{label_state().remove_generation}"


def _on_remove() -> None:
    uid = st.session_state.get(_remove_key())
    if not isinstance(uid, str):
        return
    page = label_state()
    removed = teacher_delete(
        lambda: get_page_store().remove_contributor(uid),
        lambda n: f"Removed {_votes(n)} of one contributor.",
        page=page,
        failed="Nothing removed",
    )
    if removed is not None:
        page.remove_generation += 1


def _on_reset() -> None:
    teacher_delete(
        lambda: get_page_store().reset(),
        lambda n: f"Reset: deleted {'the only vote' if n == 1 else f'all {n:,} votes'}.",
        page=label_state(),
        confirm=Confirm(RESET_CONFIRM_KEY, "RESET", "the reset"),
    )


# ---------------------------------------------------------------------------- drawing


def show_flash(message: Flash | None, *, escape: bool = True) -> None:
    """A callback's message; ``escape`` shows it as plain text (it may carry a name or a
    database's words), else as the Markdown the app wrote."""
    if message is not None:
        text = plain(message.text) if escape else message.text
        {"error": st.error, "warning": st.warning, "success": st.success}[message.kind](text)


def _swatch(rgb: tuple[int, int, int], height: int, label: str) -> str:
    r, g, b = (int(v) for v in rgb)  # only integers reach the HTML, never user text
    return (
        f'<div class="colorclf-swatch" role="img" aria-label="{label}" '
        f'data-rgb="{r},{g},{b}" style="background-color: rgb({r}, {g}, {b}); '
        f"height: {height}px; width: 100%; border-radius: 0.75rem; "
        f"border: 1px solid rgba(128, 128, 128, 0.35); "
        f'margin-bottom: 0.5rem;"></div>'
    )


def render() -> None:
    """The labelling page: a swatch, nine label buttons, counts, download, teacher tools."""
    _init_session()
    ss, page = st.session_state, label_state()
    st.title("Label colours")
    st.caption(
        "Which name fits this colour best? Each click is one vote in the class's own "
        "data set; the Train page can learn from it (data: class votes)."
    )
    st.text_input(
        "Your name (optional)",
        key=NAME_KEY,
        on_change=remember_name,
        max_chars=MAX_NAME_LENGTH,
        placeholder="leave empty to stay anonymous",
        help="Your teacher sees it next to your votes. Leave it empty to stay anonymous.",
    )
    me = contributor()
    keep_student_in_link(student_state().anon_id or me, str(ss.get(NAME_KEY) or ""))
    st.text(f"Voting as: {me}")

    try:
        store = get_page_store()
        mine, everyone = store.count(me), store.count()
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        st.error(plain(f"The vote database cannot be used ({db_problem(err)}). Ask your teacher."))
        return

    message, page.flash = page.flash, None
    show_flash(message)
    shown = page.rgb or page.next_colour()
    keep_colour_in_link(shown)
    st.markdown(_swatch(shown, 160, "the colour to label"), unsafe_allow_html=True)
    # Three buttons a row, row by row (red, green, blue first); on a phone the grid keeps
    # three a row down to ~330 px of width, then wraps to two, never into one long column.
    # A click that reaches a session before its buttons were drawn (the first page run after
    # a server restart) has no callback to call: Streamlit only returns it as True.
    handled, page.voted_by_callback = page.voted_by_callback, False
    with st.grid(3, min_column_width=100, key="label_buttons"):
        for label in LABELS:
            clicked = st.button(
                label, key=vote_key(label), on_click=_on_vote, args=(label,), width="stretch"
            )
            if clicked and not handled:
                _on_vote(label)
                page.voted_by_callback = False
                st.rerun()  # draw the next colour and the counts with this vote

    last = page.last_vote
    skip_column, undo_column = st.columns(2, wrap=False)
    skip_column.button(
        SKIP_LABEL,
        key="label_skip",
        on_click=_on_skip,
        width="stretch",
        help="Show another colour without voting (a careful vote beats a guess).",
    )
    undo_column.button(
        UNDO_LABEL,
        key="label_undo",
        on_click=_on_undo,
        width="stretch",
        disabled=last is None,
        help="Delete your last vote and show its colour again.",
    )
    if last is not None:
        (r, g, b), label = last.rgb, last.label
        st.caption(f"Saved: rgb({r}, {g}, {b}) → {label}")
    left, right = st.columns(2, wrap=False)
    left.metric("Your votes", mine)
    right.metric("Class votes", everyone)
    st.progress(min(everyone / CLASS_VOTE_GOAL, 1.0), text=goal_text(everyone))
    st.download_button(
        DOWNLOAD_LABEL,
        data=store.export_json,  # built only when someone clicks
        file_name=f"colorData-class-{everyone}-votes.json",
        mime="application/json",
        on_click="ignore",
        key="label_download",
        disabled=everyone == 0,
    )
    with st.expander("Teacher tools"):
        _teacher_tools(store)


def _votes(n: int) -> str:
    return count(n, "vote")


def goal_text(everyone: int, goal: int = CLASS_VOTE_GOAL) -> str:
    """The progress bar's text: "The class has 312 of about 500 votes"."""
    if everyone >= goal:
        return (
            f"The class has {_votes(everyone)}: past the goal of about {goal:,}, enough to train."
        )
    return f"The class has {everyone:,} of about {goal:,} votes."


def _teacher_tools(store: VoteStore) -> None:
    if teacher_password() is None:
        st.info(
            "Teacher tools are disabled: no teacher password is set. To enable them, add "
            '`teacher_password = "…"` to `.streamlit/secrets.toml` (or to the app\'s '
            "secrets when hosted), or set the environment variable "
            f"`{TEACHER_PASSWORD_ENV}`, then reload the page."
        )
        return
    st.text_input("Teacher password", type="password", key=PASSWORD_KEY)
    if not st.session_state.get(PASSWORD_KEY):
        st.caption("Enter the teacher password to remove votes or reset the collection.")
        return
    if not unlocked():
        st.error(refusal())
        return
    page = label_state()
    message, page.teacher_flash = page.teacher_flash, None
    show_flash(message)
    counts = store.count_by_contributor()
    st.subheader("Remove one contributor's votes")
    if counts:
        st.selectbox(
            "Contributor",
            list(counts),
            key=_remove_key(),
            format_func=lambda uid: f"{uid} ({_votes(counts.get(uid, 0))})",
        )
        st.button("Confirm: remove these votes", key="label_remove", on_click=_on_remove)
    else:
        st.caption("No votes yet.")
    st.subheader("Reset the collection")
    st.text_input("Type RESET to confirm", key=RESET_CONFIRM_KEY)
    st.button(
        "Reset the collection",
        key="label_reset",
        on_click=_on_reset,
        type="primary",
        disabled=not counts,
    )
