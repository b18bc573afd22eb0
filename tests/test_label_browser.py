"""The labelling page in the system Chromium: several students vote at once, none is lost.

The main test starts its own ``streamlit run streamlit_app.py`` on a temporary SQLite file
so that it can read back exactly what the server stored; a short one goes through the shared
``streamlit_server`` fixture. Both open the page at ``/label``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from colorclf.app.label_page import RATE_LIMIT_MESSAGE
from colorclf.core.labels import LABELS
from colorclf.store import VoteStore
from tests.conftest import start_streamlit, stop_streamlit, wait_idle

pytestmark = pytest.mark.browser

TIMEOUT_MS = 120_000  # generous: CI machines may be busy
ROUNDS = 6
# Later than the server's 0.15 s rate limit: a student never clicks sooner after the page
# showed their previous vote.
PAUSE_S = 0.3
TEACHER_PASSWORD = "owl-42 in the browser"
NAMES = ["<script>alert(1)</script>", "'); DROP TABLE votes;--", None, None]


@pytest.fixture(scope="module")
def label_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Our own server, so the test knows its database: yields (base URL, database URL)."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('label-db') / 'votes.sqlite'}"
    proc, url = start_streamlit(
        {"COLORCLF_DB_URL": db_url, "COLORCLF_TEACHER_PASSWORD": TEACHER_PASSWORD}
    )
    try:
        yield url, db_url
    finally:
        stop_streamlit(proc)


@pytest.fixture
def read_votes(label_server: tuple[str, str]) -> Iterator[VoteStore]:
    engine = sa.create_engine(label_server[1])
    yield VoteStore(engine, min_interval=0, max_per_minute=0)
    engine.dispose()


def _open_label_page(page: object, base_url: str) -> None:
    page.goto(f"{base_url}/label", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="grey-ish", exact=True).wait_for(timeout=TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)


def _metric(page: object, label: str) -> object:
    return page.locator('[data-testid="stMetric"]', has_text=label).locator(
        '[data-testid="stMetricValue"]'
    )


def _voting_as(page: object) -> str:
    text = page.locator('[data-testid="stText"]', has_text="Voting as:").inner_text()
    return text.removeprefix("Voting as:").strip()


@contextmanager
def _diagnosed(pages: list[object], folder: Path) -> Iterator[None]:
    """On failure, screenshots of every page and their messages go into the report."""
    try:
        yield
    except BaseException:
        notes = []
        for i, page in enumerate(pages):
            shot = folder / f"student-{i}.png"
            try:
                page.screenshot(path=str(shot), full_page=True)
                alerts = page.locator(
                    '[data-testid="stAlert"], [data-testid="stException"]'
                ).all_inner_texts()
                notes.append(f"student {i} at {page.url}: {alerts} ({shot})")
            except Exception as err:  # the page itself may be the problem
                notes.append(f"student {i}: no screenshot ({err})")
        print("\n".join(notes))
        raise


def test_four_students_vote_at_once_and_every_vote_is_counted(
    browser: object, label_server: tuple[str, str], read_votes: VoteStore, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base_url, _ = label_server
    before = read_votes.count()
    dialogs: list[str] = []
    contexts = [
        browser.new_context(viewport={"width": 1100, "height": 900}),
        browser.new_context(viewport={"width": 1100, "height": 900}),
        browser.new_context(viewport={"width": 800, "height": 900}),
        # A phone: touch, 390 px wide.
        browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True),
    ]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            _open_label_page(page, base_url)

        students: list[str] = []
        for page, name in zip(pages, NAMES, strict=True):
            if name is not None:
                box = page.get_by_role("textbox", name="Your name (optional)")
                box.fill(name)
                box.press("Enter")
                expect(page.get_by_text(f"Voting as: {name}", exact=True)).to_be_visible(
                    timeout=TIMEOUT_MS
                )
                wait_idle(page, TIMEOUT_MS)
            students.append(_voting_as(page))
        assert students[:2] == NAMES[:2]
        assert all(s.startswith("anon-") for s in students[2:])
        assert len(set(students)) == 4

        # On the phone all nine buttons fit side by side in three rows, inside the screen.
        phone_boxes = [
            pages[3].get_by_role("button", name=label, exact=True).bounding_box()
            for label in LABELS
        ]
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in phone_boxes)
        assert len({round(b["y"]) for b in phone_boxes}) == 3

        expected: dict[str, list[list[object]]] = {s: [] for s in students}
        ready_at = [0.0] * len(pages)
        with _diagnosed(pages, tmp_path):
            for round_ in range(ROUNDS):
                # Every student clicks, without waiting for the others: the server runs the
                # four sessions' reruns concurrently.
                for s, page in enumerate(pages):
                    time.sleep(max(0.0, ready_at[s] - time.monotonic()))
                    rgb = page.locator(".colorclf-swatch").get_attribute(
                        "data-rgb", timeout=TIMEOUT_MS
                    )
                    label = LABELS[(3 * s + round_) % len(LABELS)]
                    expected[students[s]].append([*map(int, rgb.split(",")), label])
                    button = page.get_by_role("button", name=label, exact=True)
                    if s == 3:
                        button.tap()
                    else:
                        button.click()
                # Then wait until each page shows its vote and its script run has finished.
                for s, page in enumerate(pages):
                    expect(_metric(page, "Your votes")).to_have_text(
                        str(round_ + 1), timeout=TIMEOUT_MS
                    )
                    wait_idle(page, TIMEOUT_MS)
                    ready_at[s] = time.monotonic() + PAUSE_S

        for page in pages:
            assert page.get_by_text(RATE_LIMIT_MESSAGE).count() == 0
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator("script", has_text="alert(1)").count() == 0
        assert dialogs == []

        stored = read_votes.all_votes()
        assert len(stored) == before + 4 * ROUNDS
        for student in students:
            rows = stored[stored["uid"] == student][["r", "g", "b", "label"]]
            assert rows.values.tolist() == expected[student], student

        # A fresh visitor sees the whole class's count.
        latecomer = browser.new_context()
        contexts.append(latecomer)
        page = latecomer.new_page()
        _open_label_page(page, base_url)
        expect(_metric(page, "Class votes")).to_have_text(str(before + 4 * ROUNDS))
    finally:
        for context in contexts:
            context.close()


def test_download_gives_the_class_data_as_coding_train_json(
    browser: object, label_server: tuple[str, str], read_votes: VoteStore, tmp_path: Path
) -> None:
    base_url, _ = label_server
    read_votes.add_vote(250, 200, 10, "yellow-ish", "downloader")
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        _open_label_page(page, base_url)
        everyone = read_votes.count()
        with page.expect_download(timeout=TIMEOUT_MS) as info:
            page.get_by_role("button", name="Download class data (Coding Train JSON)").click()
        download = info.value
        assert download.suggested_filename == f"colorData-class-{everyone}-votes.json"
        target = tmp_path / "colorData.json"
        download.save_as(target)
        document = json.loads(target.read_text(encoding="utf-8"))
        assert document == json.loads(read_votes.export_json())
        assert document["entries"][-1] == {
            "r": 250,
            "g": 200,
            "b": 10,
            "label": "yellow-ish",
            "uid": "downloader",
        }
    finally:
        context.close()


def test_teacher_sees_names_as_text_and_removes_one_contributor(
    browser: object, label_server: tuple[str, str], read_votes: VoteStore
) -> None:
    from playwright.sync_api import expect

    base_url, _ = label_server
    hostile = "<img src=x onerror=alert(1)>"
    for i in range(20):  # the most votes: the first option in the teacher's list
        read_votes.add_vote(i, i, i, "brown-ish", hostile)
    dialogs: list[str] = []
    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        _open_label_page(page, base_url)
        page.get_by_text("Teacher tools", exact=True).click()
        password = page.locator('input[type="password"]')
        password.fill(TEACHER_PASSWORD)
        password.press("Enter")
        box = page.get_by_role("combobox", name="Contributor")
        expect(box).to_have_value(f"{hostile} (20 votes)", timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        assert page.locator("img[src=x]").count() == 0
        page.get_by_role("button", name="Confirm: remove these votes").click()
        expect(page.get_by_text("Removed 20 votes of one contributor.")).to_be_visible(
            timeout=TIMEOUT_MS
        )
        wait_idle(page, TIMEOUT_MS)
        assert read_votes.count(hostile) == 0
        assert dialogs == []
    finally:
        context.close()


def test_on_a_phone_undo_takes_the_vote_back_and_skip_stores_nothing(
    browser: object, label_server: tuple[str, str], read_votes: VoteStore, tmp_path: Path
) -> None:
    """At 390×844: the skip and undo buttons sit side by side under the labels, within the
    screen's width; Undo deletes the vote from the database; the goal and its bar show."""
    from playwright.sync_api import expect

    base_url, _ = label_server
    width, height = 390, 844
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        _open_label_page(page, base_url)
        me = _voting_as(page)
        skip = page.get_by_role("button", name="Not sure: skip")
        undo = page.get_by_role("button", name="Undo last vote")
        expect(undo).to_be_disabled()
        boxes = [skip.bounding_box(), undo.bounding_box()]
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= width for b in boxes)
        assert round(boxes[0]["y"]) == round(boxes[1]["y"])
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        first = page.locator(".colorclf-swatch").get_attribute("data-rgb")
        skip.tap()
        expect(page.locator(".colorclf-swatch")).not_to_have_attribute("data-rgb", first)
        wait_idle(page, TIMEOUT_MS)
        assert read_votes.count(me) == 0

        shown = page.locator(".colorclf-swatch").get_attribute("data-rgb")
        page.get_by_role("button", name="pink-ish", exact=True).tap()
        expect(_metric(page, "Your votes")).to_have_text("1", timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        assert read_votes.count(me) == 1
        undo.tap()
        expect(page.get_by_text("Undone: rgb(")).to_be_visible(timeout=TIMEOUT_MS)
        expect(_metric(page, "Your votes")).to_have_text("0", timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        assert read_votes.count(me) == 0
        assert page.locator(".colorclf-swatch").get_attribute("data-rgb") == shown
        goal = page.locator('[data-testid="stProgress"]')
        expect(goal).to_contain_text("of about 500 votes")
        page.screenshot(path=str(tmp_path / "label-phone.png"))
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_label_page_is_served_at_slash_label(browser: object, streamlit_server: str) -> None:
    """The shared server (the app as `make run` starts it) has the page at /label."""
    from playwright.sync_api import expect

    context = browser.new_context()
    try:
        page = context.new_page()
        _open_label_page(page, streamlit_server)
        buttons = page.locator('[data-testid="stButton"] button')
        names = [text.strip() for text in buttons.all_inner_texts()]
        assert [n for n in names if n in LABELS] == list(LABELS)
        class_votes = int(_metric(page, "Class votes").inner_text())
        page.get_by_role("button", name="red-ish", exact=True).click()
        expect(_metric(page, "Your votes")).to_have_text("1", timeout=TIMEOUT_MS)
        expect(_metric(page, "Class votes")).to_have_text(str(class_votes + 1), timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
