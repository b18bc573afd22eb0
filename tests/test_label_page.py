"""The labelling page through Streamlit's AppTest, on a temporary SQLite vote database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from colorclf.app import label_page
from colorclf.app.state import STUDENT_KEY
from colorclf.core.labels import LABELS
from colorclf.store import VoteStore
from tests.conftest import rendered

TIMEOUT = 30
HOSTILE = "<script>alert(1)</script>"


def _page() -> None:
    from colorclf.app.label_page import render

    render()


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """The password throttles are the server's (module-wide): each test starts clean."""
    label_page.SESSION_THROTTLE.reset()
    label_page.SERVER_THROTTLE.reset()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'votes.sqlite'}"
    monkeypatch.setenv("COLORCLF_DB_URL", url)
    monkeypatch.delenv("COLORCLF_TEACHER_PASSWORD", raising=False)
    return url


@pytest.fixture
def votes(db_url: str) -> VoteStore:
    """The page's database, read and written directly (no rate limit)."""
    store = VoteStore(sa.create_engine(db_url), min_interval=0, max_per_minute=0)
    yield store
    store.engine.dispose()


def _app() -> AppTest:
    at = AppTest.from_function(_page, default_timeout=TIMEOUT)
    # Isolate from any developer's .streamlit/secrets.toml (AppTest uses given secrets only).
    at.secrets["unrelated"] = "x"
    return at.run()


def _swatch_rgb(at: AppTest) -> tuple[int, ...]:
    for element in at.markdown:
        match = re.search(r'class="colorclf-swatch".*data-rgb="(\d+),(\d+),(\d+)"', element.value)
        if match:
            return tuple(int(v) for v in match.groups())
    raise AssertionError("no colour swatch on the page")


def _metric(at: AppTest, label: str) -> int:
    return int(next(m for m in at.metric if m.label == label).value)


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_nine_buttons_named_exactly_as_the_labels(votes: VoteStore) -> None:
    at = _app()
    assert not at.exception
    names = [b.label for b in at.button if b.key and b.key.startswith("label_vote_")]
    assert names == list(LABELS)
    for label in LABELS:
        assert at.button(key=label_page.vote_key(label)).label == label
    assert _metric(at, "Class votes") == 0
    anon = at.session_state[STUDENT_KEY].anon_id
    assert re.fullmatch(r"anon-[0-9a-f]{8}", anon)
    assert f"Voting as: {anon}" in _texts(at)


def test_a_click_stores_the_vote_and_shows_the_next_colour(votes: VoteStore) -> None:
    at = _app()
    first = _swatch_rgb(at)
    at.button(key=label_page.vote_key("purple-ish")).click().run()
    assert not at.exception
    second = _swatch_rgb(at)
    assert second != first
    anon = at.session_state[STUDENT_KEY].anon_id
    frame = votes.all_votes()
    assert frame.values.tolist() == [[*first, "purple-ish", anon]]
    assert _metric(at, "Your votes") == 1
    assert _metric(at, "Class votes") == 1
    assert not at.warning

    votes.add_vote(1, 2, 3, "red-ish", "someone else")
    # Far enough apart for the rate limit: the vote above is not this contributor's.
    at.session_state[label_page.NAME_KEY] = "Ada"
    at.run()
    at.button(key=label_page.vote_key("grey-ish")).click().run()
    assert votes.all_votes().values.tolist()[-1] == [*second, "grey-ish", "Ada"]
    assert _metric(at, "Your votes") == 1
    assert _metric(at, "Class votes") == 3


def test_a_typed_name_with_html_is_shown_as_text_and_stored_verbatim(
    votes: VoteStore,
) -> None:
    at = _app()
    at.text_input(key=label_page.NAME_KEY).input(f"  {HOSTILE}  ").run()
    assert f"Voting as: {HOSTILE}" in _texts(at)
    assert all("<script" not in m.value for m in at.markdown)
    for element in (*at.caption, *at.info, *at.success, *at.warning, *at.error):
        assert "<script" not in element.value
    at.button(key=label_page.vote_key("red-ish")).click().run()
    assert votes.count_by_contributor() == {HOSTILE: 1}

    at.text_input(key=label_page.NAME_KEY).input("'); DROP TABLE votes;--").run()
    at.button(key=label_page.vote_key("blue-ish")).click().run()
    assert votes.count_by_contributor() == {HOSTILE: 1, "'); DROP TABLE votes;--": 1}


def test_a_blank_name_falls_back_to_the_anonymous_id(votes: VoteStore) -> None:
    at = _app()
    at.text_input(key=label_page.NAME_KEY).input("    ").run()
    anon = at.session_state[STUDENT_KEY].anon_id
    assert f"Voting as: {anon}" in _texts(at)


def test_mashing_shows_a_warning_and_keeps_the_colour(votes: VoteStore) -> None:
    for _ in range(120):  # a full minute's worth already
        votes.add_vote(9, 9, 9, "grey-ish", "masher")
    at = _app()
    at.text_input(key=label_page.NAME_KEY).input("masher").run()
    before = _swatch_rgb(at)
    at.button(key=label_page.vote_key("red-ish")).click().run()
    assert [rendered(w.value) for w in at.warning] == [label_page.RATE_LIMIT_MESSAGE]
    assert _swatch_rgb(at) == before
    assert votes.count("masher") == 120
    at.run()  # the warning is shown once
    assert not at.warning


def test_download_button_is_offered(votes: VoteStore) -> None:
    at = _app()
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [label_page.DOWNLOAD_LABEL]
    assert buttons[0].proto.disabled  # nothing to download yet
    votes.add_vote(1, 2, 3, "red-ish", "ada")
    at.run()
    assert not at.get("download_button")[0].proto.disabled
    assert json.loads(votes.export_json())["entries"][0]["uid"] == "ada"


def _contributor_box(at: AppTest) -> object:
    (box,) = [s for s in at.selectbox if s.label == "Contributor"]
    return box


def _teacher(at: AppTest) -> list[str]:
    expander = next(e for e in at.expander if e.label == "Teacher tools")
    return [getattr(el, "value", "") for el in expander.children.values()]


def test_teacher_tools_are_disabled_without_a_password(votes: VoteStore) -> None:
    at = _app()
    assert any("Teacher tools are disabled" in str(v) for v in _teacher(at))
    assert "COLORCLF_TEACHER_PASSWORD" in at.info[0].value
    assert not [t for t in at.text_input if t.key == label_page.PASSWORD_KEY]
    assert not [b for b in at.button if b.key in ("label_remove", "label_reset")]


def test_teacher_tools_stay_locked_with_a_wrong_password(
    votes: VoteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLORCLF_TEACHER_PASSWORD", "owl-42")
    votes.add_vote(1, 2, 3, "red-ish", "spammer")
    at = _app()
    at.text_input(key=label_page.PASSWORD_KEY).input("owl-41").run()
    assert [e.value for e in at.error] == ["Wrong password."]
    assert not [b for b in at.button if b.key in ("label_remove", "label_reset")]
    assert votes.count() == 1


def test_teacher_removes_one_contributor_then_resets(
    votes: VoteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLORCLF_TEACHER_PASSWORD", "from-env-is-ignored")
    for i in range(5):
        votes.add_vote(i, 0, 0, "red-ish", "spammer")
    for i in range(2):
        votes.add_vote(0, i, 0, "green-ish", "honest")
    at = AppTest.from_function(_page, default_timeout=TIMEOUT)
    at.secrets["teacher_password"] = "owl-42"  # secrets win over the environment
    at.run()
    at.text_input(key=label_page.PASSWORD_KEY).input("from-env-is-ignored").run()
    assert [e.value for e in at.error] == ["Wrong password."]
    at.text_input(key=label_page.PASSWORD_KEY).input("owl-42").run()
    assert not at.error

    box = _contributor_box(at)
    assert box.options == ["spammer (5 votes)", "honest (2 votes)"]
    box.select("spammer").run()
    at.button(key="label_remove").click().run()
    assert not at.exception
    assert votes.count_by_contributor() == {"honest": 2}
    assert [rendered(s.value) for s in at.success] == ["Removed 5 votes of one contributor."]
    assert _contributor_box(at).options == ["honest (2 votes)"]

    at.button(key="label_reset").click().run()
    assert [rendered(e.value) for e in at.error] == [
        "Type RESET (in capitals) to confirm the reset."
    ]
    assert votes.count() == 2
    at.text_input(key=label_page.RESET_CONFIRM_KEY).input("reset").run()
    at.button(key="label_reset").click().run()
    assert votes.count() == 2
    at.text_input(key=label_page.RESET_CONFIRM_KEY).input("RESET").run()
    at.button(key="label_reset").click().run()
    assert votes.count() == 0
    assert [rendered(s.value) for s in at.success] == ["Reset: deleted all 2 votes."]
    assert at.text_input(key=label_page.RESET_CONFIRM_KEY).value == ""
    assert _metric(at, "Class votes") == 0


def test_a_database_that_cannot_be_used_is_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("COLORCLF_DB_URL", f"sqlite:///{blocker / 'votes.sqlite'}")
    at = _app()
    assert not at.exception
    assert at.error and "vote database cannot be used" in rendered(at.error[0].value)


def _label_or_other_page() -> None:
    import streamlit as st

    from colorclf.app.label_page import render

    if st.session_state.get("on_other_page"):
        st.write("the training page")
    else:
        render()


def test_the_typed_name_survives_a_visit_to_another_page(votes: VoteStore) -> None:
    at = AppTest.from_function(_label_or_other_page, default_timeout=TIMEOUT)
    at.secrets["unrelated"] = "x"
    at.run()
    at.text_input(key=label_page.NAME_KEY).input("Grace").run()
    at.session_state["on_other_page"] = True
    at.run()
    assert label_page.NAME_KEY not in at.session_state  # Streamlit dropped the widget state
    at.session_state["on_other_page"] = False
    at.run()
    assert "Voting as: Grace" in _texts(at)
    at.button(key=label_page.vote_key("brown-ish")).click().run()
    assert votes.count_by_contributor() == {"Grace": 1}


def test_hosting_needs_only_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No environment variable: the database URL and the teacher password come from secrets."""
    monkeypatch.delenv("COLORCLF_DB_URL", raising=False)
    monkeypatch.delenv("COLORCLF_TEACHER_PASSWORD", raising=False)
    url = f"sqlite:///{tmp_path / 'hosted.sqlite'}"
    at = AppTest.from_function(_page, default_timeout=TIMEOUT)
    at.secrets["connections"] = {"sql": {"url": url}}
    at.secrets["teacher_password"] = "owl-42"
    at.run()
    at.button(key=label_page.vote_key("orange-ish")).click().run()
    assert not at.exception
    hosted = VoteStore(sa.create_engine(url))
    assert hosted.count() == 1
    at.text_input(key=label_page.PASSWORD_KEY).input("owl-42").run()
    assert _contributor_box(at).options[0].endswith("(1 vote)")
    hosted.engine.dispose()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(votes: VoteStore, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The throttles' clock, a teacher password (owl-42) and one vote to remove."""
    fake = FakeClock()
    monkeypatch.setattr(label_page.SESSION_THROTTLE, "clock", fake)
    monkeypatch.setattr(label_page.SERVER_THROTTLE, "clock", fake)
    monkeypatch.setenv("COLORCLF_TEACHER_PASSWORD", "owl-42")
    votes.add_vote(1, 2, 3, "red-ish", "spammer")
    return fake


def test_wrong_passwords_are_throttled_then_the_right_one_works_after_the_wait(
    clock: FakeClock,
) -> None:
    at = _app()
    box = lambda: at.text_input(key=label_page.PASSWORD_KEY)  # noqa: E731
    for guess in ("a", "b"):
        box().input(guess).run()
        assert [rendered(e.value) for e in at.error] == ["Wrong password."]
    at.run()  # a rerun with the same wrong value is not another guess
    box().input("c").run()
    (third,) = [rendered(e.value) for e in at.error]
    assert third.startswith("Wrong password. Too many wrong passwords: try again in 2 s (at ")
    # While the wait holds, even the right password is not compared.
    box().input("owl-42").run()
    (locked,) = [rendered(e.value) for e in at.error]
    assert locked.startswith("Too many wrong passwords: try again in 2 s")
    assert not [b for b in at.button if b.key == "label_remove"]
    clock.now += 2.5
    at.run()
    assert not at.error and [b for b in at.button if b.key == "label_remove"]


def test_the_delay_grows_and_a_new_session_does_not_escape_the_server_wide_one(
    clock: FakeClock,
) -> None:
    waits = []
    for i in range(20):  # each guess from a fresh session: no session reaches its own limit
        at = _app()
        at.text_input(key=label_page.PASSWORD_KEY).input(f"guess-{i}").run()
        waits.append(label_page.SERVER_THROTTLE.wait("server"))
        clock.now += 0.1
    assert waits[:19] == [0] * 19 and waits[19] == pytest.approx(1.0)
    # The server-wide wait holds for a new session too, even with the right password.
    at = _app()
    at.text_input(key=label_page.PASSWORD_KEY).input("owl-42").run()
    assert rendered(at.error[0].value).startswith("Too many wrong passwords: try again in 1 s")
    clock.now += 1.0
    at.run()
    assert not at.error and [b for b in at.button if b.key == "label_remove"]


# ---------------------------------------------------------------------------- undo, skip, goal


def test_undo_deletes_the_last_vote_from_the_database_and_shows_its_colour_again(
    votes: VoteStore,
) -> None:
    at = _app()
    assert at.button(key="label_undo").label == label_page.UNDO_LABEL
    assert at.button(key="label_undo").disabled  # nothing to undo yet
    votes.add_vote(1, 2, 3, "red-ish", "someone else")
    first = _swatch_rgb(at)
    at.button(key=label_page.vote_key("red-ish")).click().run()
    second = _swatch_rgb(at)
    at.session_state[label_page.NAME_KEY] = "Ada"  # a later vote under another name
    at.run()
    at.button(key=label_page.vote_key("blue-ish")).click().run()
    assert votes.count() == 3

    # The mis-tap (the last vote) leaves the database; the earlier ones stay.
    at.button(key="label_undo").click().run()
    assert not at.exception
    assert votes.all_votes().values.tolist() == [
        [1, 2, 3, "red-ish", "someone else"],
        [*first, "red-ish", at.session_state[STUDENT_KEY].anon_id],
    ]
    assert _swatch_rgb(at) == second  # labelled anew
    r, g, b = second
    assert [rendered(s.value) for s in at.success] == [
        f"Undone: rgb({r}, {g}, {b}) → blue-ish. Pick again."
    ]
    assert _metric(at, "Class votes") == 2
    assert at.button(key="label_undo").disabled  # one undo: the last vote only
    at.button(key=label_page.vote_key("green-ish")).click().run()
    assert votes.all_votes().values.tolist()[-1] == [*second, "green-ish", "Ada"]


def test_undo_of_a_vote_the_teacher_removed_says_so(votes: VoteStore) -> None:
    at = _app()
    at.button(key=label_page.vote_key("red-ish")).click().run()
    votes.reset()
    at.button(key="label_undo").click().run()
    assert not at.exception and votes.count() == 0
    assert "gone already" in rendered(at.warning[0].value)


def test_skip_shows_the_next_colour_without_a_vote(votes: VoteStore) -> None:
    at = _app()
    first = _swatch_rgb(at)
    skip = at.button(key="label_skip")
    assert skip.label == label_page.SKIP_LABEL
    skip.click().run()
    assert not at.exception
    assert _swatch_rgb(at) != first
    assert votes.count() == 0
    assert _metric(at, "Your votes") == 0
    assert at.button(key="label_undo").disabled  # a skip is not a vote to undo


def test_the_class_goal_and_its_progress(votes: VoteStore) -> None:
    for i in range(12):
        votes.add_vote(i, i, i, "grey-ish", f"p{i % 3}")
    at = _app()
    (bar,) = at.get("progress")
    goal = label_page.CLASS_VOTE_GOAL
    assert bar.proto.text == f"The class has 12 of about {goal} votes."
    assert bar.proto.value == round(100 * 12 / goal)
    assert label_page.goal_text(312) == "The class has 312 of about 500 votes."
    assert label_page.goal_text(1) == "The class has 1 of about 500 votes."
    assert label_page.goal_text(1200) == (
        "The class has 1,200 votes: past the goal of about 500, enough to train."
    )


def test_the_class_download_is_named_after_its_votes(
    votes: VoteStore, download_names: list[str]
) -> None:
    names = download_names
    for i in range(3):
        votes.add_vote(i, i, i, "grey-ish", "p")
    _app()
    assert names == ["colorData-class-3-votes.json"]
