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
from collections.abc import Callable

import numpy as np
import sqlalchemy as sa
import streamlit as st

from colorclf.app.restart import keep_student_in_link, student_from_link
from colorclf.app.runtime import page_secrets
from colorclf.app.teacher_auth import (  # noqa: F401 (SERVER_THROTTLE, SESSION_THROTTLE: tests)
    PASSWORD_KEY,
    SERVER_THROTTLE,
    SESSION_THROTTLE,
    TEACHER_PASSWORD_ENV,
    refusal,
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
    database_problem,
    database_url,
    normalise_name,
    store_for_engine,
)

# Session-state keys, all prefixed so they never collide with the training page's.
RNG_KEY = "label_rng"
RGB_KEY = "label_rgb"
ANON_KEY = "label_anon_id"
NAME_KEY = "label_name"
SAVED_NAME_KEY = "label_name_saved"  # survives a visit to another page; widget state does not
LAST_KEY = "label_last_vote"
VOTED_KEY = "label_voted_by_callback"
FLASH_KEY = "label_flash"
TEACHER_FLASH_KEY = "label_teacher_flash"
REMOVE_KEY = "label_remove_uid"
REMOVE_GENERATION_KEY = "label_remove_generation"  # a new selectbox after each removal
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
    ss = st.session_state
    if RNG_KEY not in ss:
        ss[RNG_KEY] = np.random.default_rng()
    if ANON_KEY not in ss:
        # A new session may be a student's after a server restart: the link keeps who they were.
        linked_id, linked_name = student_from_link()
        ss[ANON_KEY] = linked_id or f"anon-{secrets.token_hex(4)}"
        if linked_name and SAVED_NAME_KEY not in ss:
            ss[SAVED_NAME_KEY] = linked_name
    if RGB_KEY not in ss:
        ss[RGB_KEY] = _random_rgb(ss[RNG_KEY])
    if NAME_KEY not in ss and SAVED_NAME_KEY in ss:
        ss[NAME_KEY] = ss[SAVED_NAME_KEY]


def _random_rgb(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(0, 256, size=3))
    return r, g, b


def contributor(name_key: str = NAME_KEY) -> str:
    """The name typed in ``name_key`` (stripped, at most 40 characters), else this session's
    anonymous id (the same on every page of the session)."""
    typed = st.session_state.get(name_key) or ""
    try:
        return clean_contributor(normalise_name(str(typed))[:MAX_NAME_LENGTH].strip())
    except ColorclfError:
        return st.session_state.setdefault(ANON_KEY, f"anon-{secrets.token_hex(4)}")


def _remember_name() -> None:
    st.session_state[SAVED_NAME_KEY] = st.session_state.get(NAME_KEY) or ""


def get_page_store() -> VoteStore:
    """The VoteStore on ``st.connection("sql")``'s engine (one per database, shared).

    The URL follows ``database_url()`` (env, then secrets, then SQLite in data/), so this
    page, the training page and the command line all use the same database. Engine
    settings may come from secrets: ``[connections.sql.create_engine_kwargs]``.
    """
    conn = st.connection("sql", type="sql", url=database_url(page_secrets()), pool_pre_ping=True)
    return store_for_engine(conn.engine)


def db_problem(err: Exception) -> str:
    """What is wrong and what to do, without SQL, parameters or anything a student typed."""
    return database_problem(err, database_url(page_secrets()))


# ---------------------------------------------------------------------------- callbacks


def _on_vote(label: str) -> None:
    _init_session()  # a click can arrive in a brand-new session (after a server restart)
    ss = st.session_state
    ss[VOTED_KEY] = True  # the click was handled here, not by the button's return value
    r, g, b = ss[RGB_KEY]
    try:
        stored = get_page_store().cast_vote(r, g, b, label, contributor())
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        ss[FLASH_KEY] = ("error", f"The vote was not stored ({db_problem(err)}).")
        return
    if stored is None:
        ss[FLASH_KEY] = ("warning", RATE_LIMIT_MESSAGE)
        return
    # Who voted is kept with the vote: a name typed later cannot undo it, and Undo deletes
    # this very vote by its id.
    ss[LAST_KEY] = ((r, g, b), label, stored, contributor())
    ss[RGB_KEY] = _random_rgb(ss[RNG_KEY])


def _on_undo() -> None:
    """Delete this session's last vote (by its id, only if it is still this contributor's)
    and show its colour again, to be labelled anew."""
    ss = st.session_state
    last = ss.pop(LAST_KEY, None)
    if not last or len(last) < 4:
        return
    rgb, label, vote_id, voter = last
    try:
        undone = get_page_store().undo_vote(vote_id, voter)
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        ss[LAST_KEY] = last  # still there: the student may try again
        ss[FLASH_KEY] = ("error", f"The vote was not undone ({db_problem(err)}).")
        return
    if not undone:
        ss[FLASH_KEY] = ("warning", "That vote is gone already (your teacher removed it).")
        return
    r, g, b = rgb
    ss[RGB_KEY] = tuple(rgb)
    ss[FLASH_KEY] = ("success", f"Undone: rgb({r}, {g}, {b}) → {label}. Pick again.")


def _on_skip() -> None:
    """The next colour, with no vote stored."""
    _init_session()
    st.session_state[RGB_KEY] = _random_rgb(st.session_state[RNG_KEY])


def _remove_key() -> str:
    """The contributor selectbox's key; it changes after a removal so the browser shows
    a fresh list instead of the removed name."""
    return f"{REMOVE_KEY}_{st.session_state.get(REMOVE_GENERATION_KEY, 0)}"


def teacher_delete(
    action: Callable[[], int],
    done: Callable[[int], str],
    *,
    flash_key: str,
    password_key: str = PASSWORD_KEY,
    confirm: tuple[str, str, str] | None = None,
    failed: str = "Nothing deleted",
) -> int | None:
    """A teacher tool's deletion, for a button's callback: only with the right password in
    ``password_key`` and, with ``confirm`` = (key, word, what), the word typed in that key.
    The outcome (``done(count)``) or the reason goes to ``flash_key``; returns the count,
    None when nothing was deleted."""
    ss = st.session_state
    if not unlocked(password_key):
        return None
    if confirm is not None and ss.get(confirm[0]) != confirm[1]:
        ss[flash_key] = ("error", f"Type {confirm[1]} (in capitals) to confirm {confirm[2]}.")
        return None
    try:
        removed = action()
    except sa.exc.SQLAlchemyError as err:
        ss[flash_key] = ("error", f"{failed} ({db_problem(err)}).")
        return None
    if confirm is not None:
        ss[confirm[0]] = ""
    ss[flash_key] = ("success", done(removed))
    return removed


def _on_remove() -> None:
    ss = st.session_state
    uid = ss.get(_remove_key())
    if not isinstance(uid, str):
        return
    removed = teacher_delete(
        lambda: get_page_store().remove_contributor(uid),
        lambda n: f"Removed {_votes(n)} of one contributor.",
        flash_key=TEACHER_FLASH_KEY,
        failed="Nothing removed",
    )
    if removed is not None:
        ss[REMOVE_GENERATION_KEY] = ss.get(REMOVE_GENERATION_KEY, 0) + 1


def _on_reset() -> None:
    teacher_delete(
        lambda: get_page_store().reset(),
        lambda n: f"Reset: deleted {'the only vote' if n == 1 else f'all {n:,} votes'}.",
        flash_key=TEACHER_FLASH_KEY,
        confirm=(RESET_CONFIRM_KEY, "RESET", "the reset"),
    )


# ---------------------------------------------------------------------------- drawing


def _flash(key: str) -> None:
    message = st.session_state.pop(key, None)
    if message:
        kind, text = message
        {"error": st.error, "warning": st.warning, "success": st.success}[kind](plain(text))


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
    ss = st.session_state
    st.title("Label colours")
    st.caption(
        "Which name fits this colour best? Each click is one vote in the class's own "
        "data set; the Train page can learn from it (data: class votes)."
    )
    st.text_input(
        "Your name (optional)",
        key=NAME_KEY,
        on_change=_remember_name,
        max_chars=MAX_NAME_LENGTH,
        placeholder="leave empty to stay anonymous",
        help="Your teacher sees it next to your votes. Leave it empty to stay anonymous.",
    )
    me = contributor()
    keep_student_in_link(ss[ANON_KEY], str(ss.get(NAME_KEY) or ""))
    st.text(f"Voting as: {me}")

    try:
        store = get_page_store()
        mine, everyone = store.count(me), store.count()
    except (ColorclfError, sa.exc.SQLAlchemyError) as err:
        st.error(plain(f"The vote database cannot be used ({db_problem(err)}). Ask your teacher."))
        return

    _flash(FLASH_KEY)
    st.markdown(_swatch(ss[RGB_KEY], 160, "the colour to label"), unsafe_allow_html=True)
    # Three buttons a row, row by row (red, green, blue first); on a phone the grid keeps
    # three a row down to ~330 px of width, then wraps to two, never into one long column.
    # A click that reaches a session before its buttons were drawn (the first page run after
    # a server restart) has no callback to call: Streamlit only returns it as True.
    handled = ss.pop(VOTED_KEY, False)
    with st.grid(3, min_column_width=100, key="label_buttons"):
        for label in LABELS:
            clicked = st.button(
                label, key=vote_key(label), on_click=_on_vote, args=(label,), width="stretch"
            )
            if clicked and not handled:
                _on_vote(label)
                ss.pop(VOTED_KEY, None)
                st.rerun()  # draw the next colour and the counts with this vote

    last = ss.get(LAST_KEY)
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
        disabled=not last,
        help="Delete your last vote and show its colour again.",
    )
    if last:
        (r, g, b), label = last[:2]
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
    _flash(TEACHER_FLASH_KEY)
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
