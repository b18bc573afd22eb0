"""The crowd beside the model: the table of votes per RGB cube (``views/crowd.py``) and what
the page sends the sliders (AppTest). The browser's side: ``test_crowd_browser.py``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from colorclf.app.state import TRAINING_KEY, TrainingPageState
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS
from colorclf.core.predict import Predictor
from colorclf.data.sources import SourceKind, SourceSpec, load_source
from colorclf.store.votes import VoteStore
from colorclf.views.ceiling import crowd_agreement, fingerprint
from colorclf.views.crowd import (
    MIN_VOTES,
    TOO_FEW,
    crowd_table,
    crowd_votes,
    describe_crowd,
    disagreement,
    percent,
)

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
TIMEOUT = 60


def dataset_of(votes: list[tuple[tuple[int, int, int], str]]) -> ColorDataset:
    return ColorDataset(
        [rgb for rgb, _ in votes],
        [LABELS.index(label) for _, label in votes],
        [f"u{i}" for i in range(len(votes))],
    )


def by_name(votes: list[int]) -> dict[str, int]:
    return {LABELS[i]: n for i, n in enumerate(votes) if n}


def test_a_cube_counts_the_votes_inside_it_and_nothing_else() -> None:
    data = dataset_of(
        [((200, 100, 0), "orange-ish")] * 3
        + [((223, 127, 31), "brown-ish")] * 2  # the cube's far corner
        + [((192, 96, 0), "red-ish")]  # its near corner
        + [((224, 100, 0), "red-ish"), ((200, 128, 0), "orange-ish"), ((200, 100, 32), "red-ish")]
    )
    table = crowd_table(data)
    assert table["cell"] == 32 and table["side"] == 8
    assert len(table["counts"]) == 8**3 * 9 and sum(table["counts"]) == len(data)
    votes = crowd_votes(table, (205, 110, 20))
    assert by_name(votes) == {"orange-ish": 3, "brown-ish": 2, "red-ish": 1}
    assert by_name(crowd_votes(table, (224, 96, 0))) == {"red-ish": 1}
    assert describe_crowd(votes) == (
        "6 votes for colours like this: orange-ish 50 %, brown-ish 33 %, red-ish 17 %"
    )
    assert disagreement("red-ish", votes) == "The model says red-ish, most people said orange-ish."
    assert disagreement("orange-ish", votes) is None


def test_the_table_uses_the_ceiling_cubes() -> None:
    """With the ceiling's own 8-level cubes, the table's cubes are the ceiling's groups."""
    data = load_source("builtin")
    table = crowd_table(data, cell=8)
    counts = np.asarray(table["counts"]).reshape(-1, 9)
    sizes = counts.sum(axis=1)
    agreement = crowd_agreement(data, cell=8)
    assert (sizes >= 2).sum() == agreement.groups
    assert sizes[sizes >= 2].sum() == agreement.shared_colours


def test_few_votes_say_too_few_and_never_disagree() -> None:
    votes = [0] * 9
    votes[LABELS.index("grey-ish")] = MIN_VOTES - 1
    assert describe_crowd(votes) == TOO_FEW == "Too few votes near this colour"
    assert disagreement("red-ish", votes) is None
    assert describe_crowd([0] * 9) == TOO_FEW


def test_shares_round_halves_up_and_list_the_top_three_ties_in_label_order() -> None:
    assert [percent(1, 8), percent(5, 8), percent(1, 3), percent(2, 3)] == [13, 63, 33, 67]
    votes = [0] * 9
    for label, n in (("purple-ish", 2), ("pink-ish", 2), ("grey-ish", 2), ("blue-ish", 1)):
        votes[LABELS.index(label)] = n
    assert describe_crowd(votes) == (
        "7 votes for colours like this: pink-ish 29 %, purple-ish 29 %, grey-ish 29 %"
    )
    # A tie at the top that includes the model's answer is no disagreement.
    assert disagreement("purple-ish", votes) is None
    assert disagreement("blue-ish", votes) == "The model says blue-ish, most people said pink-ish."


# ---------------------------------------------------------------------------- the page


def a_predictor() -> Predictor:
    rng = np.random.default_rng(0)
    return Predictor(
        (
            (rng.normal(size=(3, 8)), rng.normal(size=8), "relu"),
            (rng.normal(size=(8, 9)), rng.normal(size=9), "softmax"),
        )
    )


def page_with_a_model() -> AppTest:
    """The training page asking an uploaded model (so the sliders show without a run)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["unrelated"] = "x"  # no developer's secrets.toml
    at.session_state[TRAINING_KEY] = TrainingPageState(uploaded_predictor=a_predictor())
    at.run()
    assert not at.exception, at.exception
    return at


def sent_crowd(at: AppTest) -> dict | None:
    (widget,) = [e for e in at.get("bidi_component") if e.proto.component_name == "colorclf_ask"]
    return json.loads(widget.proto.json)["crowd"]


def assert_table_of(sent: dict, dataset: ColorDataset) -> None:
    assert sent["id"] == fingerprint(dataset)
    assert sent["counts"] == crowd_table(dataset)["counts"]
    assert "32 levels a side" in sent["neighbourhood"] and sent["min_votes"] == MIN_VOTES


def test_the_page_sends_the_table_once_per_data_set() -> None:
    at = page_with_a_model()
    builtin = load_source("builtin")
    assert_table_of(sent_crowd(at), builtin)
    # Later draws (a page run, the sliders resting) carry only the id.
    at.run()
    assert sent_crowd(at) == {"id": fingerprint(builtin)}
    at.session_state["ask-colour"] = {"rgb": [1, 2, 3]}
    at.run()
    assert sent_crowd(at) == {"id": fingerprint(builtin)}
    # The browser said it never got it (a lost page run): it comes again.
    at.session_state[TRAINING_KEY].ask.crowd_sent = None
    at.run()
    assert_table_of(sent_crowd(at), builtin)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'votes.sqlite'}"
    monkeypatch.setenv("COLORCLF_DB_URL", url)
    return url


def test_class_votes_get_their_own_table(db_url: str) -> None:
    store = VoteStore(sa.create_engine(db_url), min_interval=0, max_per_minute=0)
    try:
        for i in range(12):
            assert store.add_vote(250, 130 + i, 10, "orange-ish", f"s{i % 4}")
        assert store.add_vote(250, 140, 10, "yellow-ish", "s9")
    finally:
        store.engine.dispose()
    at = page_with_a_model()
    at.radio(key="source").set_value(SourceKind.VOTES).run()
    assert not at.exception, at.exception
    votes = load_source(SourceSpec(SourceKind.VOTES, db_url))
    sent = sent_crowd(at)
    assert_table_of(sent, votes)
    assert by_name(crowd_votes(sent, (255, 128, 0))) == {"orange-ish": 12, "yellow-ish": 1}
    at.radio(key="source").set_value(SourceKind.BUILTIN).run()
    assert_table_of(sent_crowd(at), load_source("builtin"))
