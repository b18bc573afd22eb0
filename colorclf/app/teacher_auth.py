"""The teacher password of the labelling page and the class board: where it is configured,
and the throttles that make guessing it slow (one per session, one for the whole server)."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from typing import Any

import streamlit as st

from colorclf.core.throttle import Throttle

TEACHER_PASSWORD_ENV = "COLORCLF_TEACHER_PASSWORD"
PASSWORD_KEY = "label_teacher_password"
JUDGED_KEY = "label_teacher_judged"  # (typed password, right?): each typed value counts once
THROTTLE_ID_KEY = "label_throttle_id"


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
    ss = st.session_state
    if THROTTLE_ID_KEY not in ss:
        ss[THROTTLE_ID_KEY] = secrets.token_hex(8)
    return ss[THROTTLE_ID_KEY]


def password_wait() -> float:
    """Seconds before this session may try another teacher password (0: now)."""
    return max(SESSION_THROTTLE.wait(_session_key()), SERVER_THROTTLE.wait(_SERVER_KEY))


def wait_message(seconds: float) -> str:
    """"Too many wrong passwords: try again in 8 s (at 09:41:07 UTC)."."""
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
    judged_key = f"{JUDGED_KEY}:{password_key}"
    judged = st.session_state.get(judged_key)
    if judged is not None and judged[0] == typed:
        right = hmac.compare_digest(typed.encode("utf-8"), str(expected).encode("utf-8"))
        if judged[1] == right:
            return right  # this value was judged already (a rerun, a button's callback)
    if password_wait() > 0:
        return False
    right = hmac.compare_digest(typed.encode("utf-8"), str(expected).encode("utf-8"))
    st.session_state[judged_key] = (typed, right)
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
    judged = st.session_state.get(f"{JUDGED_KEY}:{password_key}")
    if wait > 0 and not (judged and judged[0] == st.session_state.get(password_key)):
        return wait_message(wait)  # this value was not even compared
    if wait > 0:
        return f"Wrong password. {wait_message(wait)}"
    return "Wrong password."
