"""The teacher password of the labelling page and the class board: where it is configured,
and the throttles that make guessing it slow (one per session, one for the whole server)."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import sqlalchemy as sa
import streamlit as st

from colorclf.app.runtime import db_problem
from colorclf.app.state import BoardState, Flash, Judged, LabelPageState, teacher_state
from colorclf.core.throttle import Throttle

TEACHER_PASSWORD_ENV = "COLORCLF_TEACHER_PASSWORD"
PASSWORD_KEY = "label_teacher_password"  # the labelling page's password field's widget key


def teacher_password() -> str | None:
    """``st.secrets["teacher_password"]``, else ``$COLORCLF_TEACHER_PASSWORD``; None if unset."""
    value: Any = None
    try:
        if st.secrets.load_if_toml_exists():
            value = st.secrets.get("teacher_password")
    except Exception:
        value = None
    if not (isinstance(value, str) and value):
        value = os.environ.get(TEACHER_PASSWORD_ENV) or None
    return value


# Wrong teacher passwords: after 3 in one session, 2 s, 4 s, 8 s … (at most 5 minutes) before
# the next try; after 20 on the whole server (many sessions), 1 s, 2 s … (at most a minute),
# short so that a guesser cannot keep the teacher out for long.
SESSION_THROTTLE = Throttle(free=3, base=2.0, cap=300.0)
SERVER_THROTTLE = Throttle(free=20, base=1.0, cap=60.0)
_SERVER_KEY = "server"


def _session_key() -> str:
    return teacher_state().throttle_id


def password_wait() -> float:
    """Seconds before this session may try another teacher password (0: now)."""
    return max(SESSION_THROTTLE.wait(_session_key()), SERVER_THROTTLE.wait(_SERVER_KEY))


def wait_message(seconds: float) -> str:
    """ "Too many wrong passwords: try again in 8 s (at 09:41:07 UTC)."."""
    at = time.strftime("%H:%M:%S", time.gmtime(time.time() + seconds))
    return f"Too many wrong passwords: try again in {max(1, round(seconds))} s (at {at} UTC)."


def unlocked(password_key: str = PASSWORD_KEY) -> bool:
    """The teacher password typed in ``password_key`` is the configured one (constant-time
    comparison). A new wrong value counts once towards the throttles; while they hold,
    nothing is compared at all."""
    expected = teacher_password()
    typed = str(st.session_state.get(password_key) or "")
    if not (expected and typed):
        return False
    judged = teacher_state().judged.get(password_key)
    if judged is not None and judged.typed == typed:
        right = hmac.compare_digest(typed.encode("utf-8"), str(expected).encode("utf-8"))
        if judged.right == right:
            return right  # this value was judged already (a rerun, a button's callback)
    if password_wait() > 0:
        return False
    right = hmac.compare_digest(typed.encode("utf-8"), str(expected).encode("utf-8"))
    teacher_state().judged[password_key] = Judged(typed, right)
    if right:
        SESSION_THROTTLE.succeeded(_session_key())
        SERVER_THROTTLE.succeeded(_SERVER_KEY)
    else:
        SESSION_THROTTLE.failed(_session_key())
        SERVER_THROTTLE.failed(_SERVER_KEY)
    return right


def refusal(password_key: str = PASSWORD_KEY) -> str:
    """What to say when ``unlocked(password_key)`` is False: wrong, or wait until when."""
    wait = password_wait()
    judged = teacher_state().judged.get(password_key)
    if wait > 0 and not (judged and judged.typed == st.session_state.get(password_key)):
        return wait_message(wait)  # this value was not even compared
    if wait > 0:
        return f"Wrong password. {wait_message(wait)}"
    return "Wrong password."


class Confirm(NamedTuple):
    """A deletion that waits for a word typed in a field."""

    key: str  # the field's widget key
    word: str  # what must be typed, in capitals
    what: str  # the deletion, as "Type RESET to confirm …" names it


def teacher_delete(
    action: Callable[[], int],
    done: Callable[[int], str],
    *,
    page: LabelPageState | BoardState,
    password_key: str = PASSWORD_KEY,
    confirm: Confirm | None = None,
    failed: str = "Nothing deleted",
) -> int | None:
    """A teacher tool's deletion, for a button's callback: only with the right password in
    ``password_key`` and, with ``confirm``, the word typed in its field. The outcome
    (``done(count)``) or the reason goes to ``page.teacher_flash``; returns the count, None
    when nothing was deleted."""
    ss = st.session_state
    if not unlocked(password_key):
        return None
    if confirm is not None and ss.get(confirm.key) != confirm.word:
        page.teacher_flash = Flash(
            "error", f"Type {confirm.word} (in capitals) to confirm {confirm.what}."
        )
        return None
    try:
        removed = action()
    except sa.exc.SQLAlchemyError as err:
        page.teacher_flash = Flash("error", f"{failed} ({db_problem(err)}).")
        return None
    if confirm is not None:
        ss[confirm.key] = ""
    page.teacher_flash = Flash("success", done(removed))
    return removed
