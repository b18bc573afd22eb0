"""Ask the model: RGB sliders, an exact-colour field, a swatch, the answer and the nine
probabilities."""

from __future__ import annotations

import streamlit as st

from colorclf.app.follow import follow
from colorclf.app.presenter import presenting
from colorclf.app.state import asked_predictor, asked_token, drawn_state
from colorclf.core.colour import parse_colour
from colorclf.core.errors import ColorclfError
from colorclf.core.predict import Predictor, describe_answer
from colorclf.core.text import plain
from colorclf.views import charts

CHANNELS = (("Red", "red", 255), ("Green", "green", 0), ("Blue", "blue", 0))
EXACT_KEY = "ask-exact"


def ask_panel() -> None:
    """Sliders and the exact-colour field in a fragment: moving one reruns only this. The
    answer is drawn in the fragment too, except while a run trains: then it follows the
    latest weights as a follower of the live panel (``follow.py``)."""
    st.fragment(_ask_controls)()
    if drawn_state() == "training":
        follow("ask", _answer_state, _draw_answer)


def _rgb() -> tuple[int, int, int]:
    state = st.session_state
    return tuple(int(state.get(key, default)) for _, key, default in CHANNELS)  # type: ignore[return-value]


def _answer_state() -> tuple[object, ...]:
    return asked_token(), _rgb()


def _set_exact() -> None:
    """The exact-colour field moves the sliders (a callback: it runs before they are drawn)."""
    state = st.session_state
    text = str(state.get(EXACT_KEY) or "")
    state["_ask_exact_problem"] = None
    if not text.strip():
        return
    try:
        rgb = parse_colour(text)
    except ColorclfError as error:
        state["_ask_exact_problem"] = str(error)
        return
    for (_, key, _), value in zip(CHANNELS, rgb, strict=True):
        state[key] = value


def _forget_exact() -> None:
    """A slider moved: the exact-colour field no longer says what is shown."""
    st.session_state[EXACT_KEY] = ""
    st.session_state["_ask_exact_problem"] = None


def _ask_controls() -> None:
    predictor = asked_predictor()
    training = drawn_state() == "training"
    if predictor is None and not training:
        st.caption("After the first epoch, sliders here ask the model what a colour is called.")
        return
    if presenting():  # the page's width: the sliders left, the answer right
        controls, answer = st.columns(2, gap="large")
    else:
        controls = answer = st.container()
    with controls:
        _colour_controls()
    if not training:
        with answer:
            _draw_answer(predictor)


def _colour_controls() -> None:
    for name, key, default in CHANNELS:
        # The value lives in Session State (the exact-colour field sets it), not in value=.
        st.session_state.setdefault(key, default)
        st.slider(name, 0, 255, key=key, on_change=_forget_exact)
    # The field and the swatch side by side: the answer and the views sit higher.
    field, swatch = st.columns([3, 2], vertical_alignment="bottom")
    field.text_input(
        "Exact colour",
        key=EXACT_KEY,
        on_change=_set_exact,
        max_chars=40,
        placeholder="128, 128, 128 or #808080",
        help="Three numbers 0–255 or a hex code; Enter moves the sliders there.",
    )
    r, g, b = _rgb()
    swatch.markdown(
        f'<div style="background: rgb({r:d},{g:d},{b:d}); height: 40px; '
        'border-radius: 8px; border: 1px solid #8884"></div>',
        unsafe_allow_html=True,
    )
    problem = st.session_state.get("_ask_exact_problem")
    if problem:
        st.error(plain(problem))
    st.caption(f"This colour: {r}, {g}, {b} · #{r:02x}{g:02x}{b:02x}")


def _draw_answer(predictor: Predictor | None = None) -> None:
    """The headline answer (or "Not sure"), the top two with their percentages and the bars
    of all nine (no widgets: the live panel may draw it twice in one of its runs)."""
    predictor = predictor or asked_predictor()
    if predictor is None:  # a run's first epoch is still training
        st.caption("The answer comes with the first epoch's weights.")
        return
    r, g, b = _rgb()
    _, probabilities = predictor.predict_one(r, g, b)
    headline, detail = describe_answer(probabilities)
    large = presenting()
    if large:  # a headline for the back row (presenter mode's CSS sizes its h2)
        st.caption("Prediction")
        st.markdown(f"## {plain(headline)}")
    else:
        st.metric("Prediction", headline)
    st.caption(detail)
    st.markdown(charts.probability_bars_html(probabilities, large=large), unsafe_allow_html=True)
