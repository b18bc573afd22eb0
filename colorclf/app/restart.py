"""What a page keeps in its link so that a server restart does not silently lose a student.

A restarted server (a crash, ``kill -9``, a redeploy) starts with no sessions: the browser
reconnects as a new session. The link (query parameters) is what survives, so:

- the labelling page keeps the student's anonymous id and name in its link, and reads
  them back in a new session (their votes, in the database, are counted again for that id),
  and the colour on screen, so that the click after a restart labels the colour the student
  saw;
- the training page keeps this server process's boot id in its link; a new session whose
  link names another boot id was open before a restart, and says so.
"""

from __future__ import annotations

import re
import secrets

import streamlit as st

from colorclf.app.state import training_state

# One per server process, the same for every session (it identifies the process, no user).
BOOT_ID = secrets.token_hex(4)
SERVER_PARAM = "server"
STUDENT_PARAM = "student"
NAME_PARAM = "name"
COLOUR_PARAM = "colour"
_ANON_ID = re.compile(r"anon-[0-9a-f]{8}")
_HEX = re.compile(r"[0-9a-f]{6}")
RESTART_NOTICE = (
    "The server restarted: your runs on this page were lost; shared runs and class votes were kept."
)


def note_restart_on_first_run() -> None:
    """On a session's first run: remember whether its link comes from before a restart."""
    state = training_state()
    if state.server_restarted is None:
        seen = st.query_params.get(SERVER_PARAM)
        state.server_restarted = seen is not None and seen != BOOT_ID


def restart_notice(trained: bool) -> None:
    """Say that the server restarted, until this session trains a run of its own."""
    if training_state().server_restarted and not trained:
        st.info(RESTART_NOTICE, icon=":material/restart_alt:")


def with_boot_id(query: dict[str, str]) -> dict[str, str]:
    """The training page's link with this server's boot id added."""
    return {**query, SERVER_PARAM: BOOT_ID}


def student_from_link() -> tuple[str | None, str | None]:
    """The anonymous id (only one of this page's own form) and the name the link holds."""
    student = st.query_params.get(STUDENT_PARAM)
    name = st.query_params.get(NAME_PARAM)
    return (student if student and _ANON_ID.fullmatch(student) else None), (name or None)


def keep_student_in_link(student: str, name: str) -> None:
    """Write the student's anonymous id and name (if any) into the page's link."""
    if st.query_params.get(STUDENT_PARAM) != student:
        st.query_params[STUDENT_PARAM] = student
    linked = st.query_params.get(NAME_PARAM)
    if name and linked != name:
        st.query_params[NAME_PARAM] = name
    elif not name and linked is not None:
        del st.query_params[NAME_PARAM]


def colour_from_link() -> tuple[int, int, int] | None:
    """The colour the link says was on screen (six hex digits), or None."""
    text = (st.query_params.get(COLOUR_PARAM) or "").lower()
    if not _HEX.fullmatch(text):
        return None
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def keep_colour_in_link(rgb: tuple[int, int, int]) -> None:
    """Write the colour on screen into the page's link."""
    text = "".join(f"{int(v):02x}" for v in rgb)
    if st.query_params.get(COLOUR_PARAM) != text:
        st.query_params[COLOUR_PARAM] = text
