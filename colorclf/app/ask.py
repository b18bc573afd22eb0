"""Ask the model: RGB sliders, a swatch, the answer and the nine probabilities, drawn in
the browser by a component (``ask_widget/``), and an exact-colour field.

The network is small, so the browser runs it, as the original TF.js sketch did: a key
press or a drag redraws the answer at once, and the server hears the colour only when
the sliders rest. A Streamlit slider started a fragment run per key press, which cost
2.4× a bare page's key → answer (``bench/bench_page.py``) and, during a run, ended the
live panel's long fragment run each time. The server-side predictor stays the reference
(``core/predict.py``); the browser test checks the two agree.

Beside the answer, what people said for colours near the asked one (``views/crowd.py``):
the browser looks the colour up in a table of votes per RGB cube of the data the model
learned from. The table is built once per data set (``st.cache_data``, by content) and sent
once per session and data set; later draws of the sliders carry only its id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from colorclf.app.follow import follow
from colorclf.app.presenter import presenting
from colorclf.app.state import (
    AskedModel,
    asked_predictor,
    asked_token,
    current_job,
    drawn_state,
    training_state,
)
from colorclf.core.colour import parse_colour
from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import ColorclfError
from colorclf.core.labels import LABEL_COLORS, LABELS
from colorclf.core.runs import RunStatus
from colorclf.core.text import plain
from colorclf.views.answer import SURE_MARGIN, SURE_PROBABILITY, packed_layers
from colorclf.views.ceiling import fingerprint
from colorclf.views.crowd import crowd_table

EXACT_KEY = "ask-exact"  # the exact-colour field's widget key
ASK_KEY = "ask-colour"  # the sliders component's widget key
WAITING = "The answer comes with the first epoch's weights."

_WIDGET = Path(__file__).parent / "ask_widget"
_ask = st.components.v2.component(
    "colorclf_ask",
    html=(_WIDGET / "ask.html").read_text(encoding="utf-8"),
    css=(_WIDGET / "ask.css").read_text(encoding="utf-8"),
    js=(_WIDGET / "ask.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # the page's font and colours
)
_weights = st.components.v2.component(
    "colorclf_ask_weights", js=(_WIDGET / "weights.js").read_text(encoding="utf-8")
)


def ask_panel(dataset: ColorDataset | None = None) -> None:
    """The sliders and the exact-colour field in a fragment: moving them reruns only this
    (and only when they rest). While a run trains, the live panel sends each epoch's
    weights to them as a follower (``follow.py``). ``dataset`` is the page's data: the
    crowd beside the answer comes from it when no run trained on other data."""
    st.fragment(_ask_controls)(dataset)
    if drawn_state() == RunStatus.TRAINING:
        follow("ask", asked_token, _send_weights)


def rgb() -> tuple[int, int, int]:
    """The colour asked, as the server last heard it."""
    return training_state().ask.rgb


def asked_model() -> dict[str, Any]:
    """The asked model's weights for the browser, with a serial that grows whenever the
    model changes (the sliders keep the newest they were sent) and this session's mark (a
    reconnected page's serials start again)."""
    ask = training_state().ask
    predictor = asked_predictor()
    sent = ask.model
    if sent is None or sent.predictor is not predictor:  # the reference keeps the id unique
        payload = {
            "session": ask.mark,
            "serial": sent.payload["serial"] + 1 if sent else 1,
            "layers": packed_layers(predictor) if predictor is not None else None,
        }
        ask.model = sent = AskedModel(predictor, payload)
    return sent.payload


def crowd_dataset(page_dataset: ColorDataset | None) -> ColorDataset | None:
    """The data the asked model learned from: the run's (an uploaded model's is unknown, so
    the page's data stands in for it)."""
    job = current_job()
    if job is not None and training_state().uploaded_predictor is None:
        return job.dataset
    return page_dataset


@st.cache_data(max_entries=16, show_spinner=False)
def _crowd_table(dataset_id: str, _dataset: ColorDataset) -> dict[str, Any]:
    return {**crowd_table(_dataset), "id": dataset_id}


def crowd_payload(dataset: ColorDataset | None) -> dict[str, Any] | None:
    """The crowd table for the browser the first time this session draws the sliders for
    ``dataset``; afterwards only its id (the browser keeps the table)."""
    if dataset is None:
        return None
    dataset_id = fingerprint(dataset)
    ask = training_state().ask
    if ask.crowd_sent == dataset_id:
        return {"id": dataset_id}
    ask.crowd_sent = dataset_id
    return _crowd_table(dataset_id, dataset)


def _crowd_missing() -> None:
    """The browser never got the table (a lost page run's messages): send it again."""
    training_state().ask.crowd_sent = None


def _send_weights() -> None:
    """A follower's picture: nothing to see, the newest weights for the sliders."""
    ask = training_state().ask
    ask.sends += 1  # a new element each time it is drawn
    _weights(data={**asked_model(), "send": ask.sends})


def _set_exact() -> None:
    """The exact-colour field moves the sliders (a new ``rgb_serial`` tells the browser)."""
    ask = training_state().ask
    text = str(st.session_state.get(EXACT_KEY) or "")
    ask.exact_problem = None
    if not text.strip():
        return
    try:
        ask.rgb = parse_colour(text)
    except ColorclfError as error:
        ask.exact_problem = str(error)
        return
    ask.rgb_serial += 1


def heard_rgb(value: object) -> tuple[int, int, int] | None:
    """The colour in what the browser sent: three whole numbers 0–255, or None (a crafted
    message is ignored, never an error)."""
    if isinstance(value, Mapping):
        value = value.get("rgb")
    if not isinstance(value, list | tuple) or len(value) != 3:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
        return None
    return int(value[0]), int(value[1]), int(value[2])


def _sliders_rested() -> None:
    """The sliders rested on a colour: the server keeps it, and the exact-colour field no
    longer says what is shown."""
    ask = training_state().ask
    values = heard_rgb(st.session_state.get(ASK_KEY))
    if values is None or values == ask.rgb:
        return
    ask.rgb = values
    st.session_state[EXACT_KEY] = ""
    ask.exact_problem = None


def ask_widget(
    key: str,
    model: dict[str, Any],
    colour: tuple[int, int, int],
    *,
    rgb_serial: int = 0,
    large: bool = False,
    on_rest: Callable[[], None] = lambda: None,
    crowd: dict[str, Any] | None = None,
) -> None:
    """The sliders, the swatch and the answer of ``model`` (``asked_model()``'s form),
    set to ``colour`` when first drawn or when ``rgb_serial`` changes; ``on_rest`` runs
    when the sliders rest on a new colour (``st.session_state[key]`` holds it). ``crowd``
    is ``crowd_payload``'s: the votes near the colour are shown beside the answer."""
    _ask(
        key=key,
        data={
            "model": model,
            "rgb": list(colour),
            "rgb_serial": rgb_serial,
            "labels": list(LABELS),
            "colors": [LABEL_COLORS[label] for label in LABELS],
            "sure": {"probability": SURE_PROBABILITY, "margin": SURE_MARGIN},
            "large": large,
            "waiting": WAITING,
            "crowd": crowd,
        },
        default={"rgb": list(colour)},
        on_rgb_change=on_rest,
        on_crowd_missing_change=_crowd_missing,
    )


def _ask_controls(dataset: ColorDataset | None) -> None:
    if asked_predictor() is None and drawn_state() != RunStatus.TRAINING:
        st.caption("After the first epoch, sliders here ask the model what a colour is called.")
        return
    ask_widget(
        ASK_KEY,
        asked_model(),
        rgb(),
        rgb_serial=training_state().ask.rgb_serial,
        large=presenting(),
        on_rest=_sliders_rested,
        crowd=crowd_payload(crowd_dataset(dataset)),
    )
    st.text_input(
        "Exact colour",
        key=EXACT_KEY,
        on_change=_set_exact,
        max_chars=40,
        placeholder="128, 128, 128 or #808080",
        help="Three numbers 0–255 or a hex code; Enter moves the sliders there.",
    )
    problem = training_state().ask.exact_problem
    if problem:
        st.error(plain(problem))
