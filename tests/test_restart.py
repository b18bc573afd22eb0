"""A server restart (``kill -9``, then the same command on the same database): the pages
keep in their link what a new session needs, so a student's next click counts, their name
and vote count come back, and the training page says what was lost."""

from __future__ import annotations

import os
import re
import signal
import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from colorclf.app import restart
from colorclf.store import VoteStore
from tests.conftest import start_streamlit, stop_streamlit, wait_idle
from tests.test_app import link_app

TIMEOUT_MS = 120_000


def test_a_training_page_open_before_a_restart_says_what_survived():
    before = link_app(server="0123abcd")  # another server process's boot id
    assert [info.value for info in before.info][:1] == [restart.RESTART_NOTICE]
    assert before.query_params["server"] == restart.BOOT_ID  # the link names this server now


def test_a_fresh_or_reloaded_training_page_says_nothing_of_a_restart():
    for query in ({}, {"server": restart.BOOT_ID}):
        at = link_app(**query)
        assert restart.RESTART_NOTICE not in [info.value for info in at.info]


STATE = "document.querySelector('[data-testid=stApp]').getAttribute('data-test-connection-state')"


def _kill(proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


LOOK_S = 0.3  # a student's look at a colour before voting


def _your_votes(page) -> object:
    return page.locator('[data-testid="stMetric"]', has_text="Your votes").locator(
        '[data-testid="stMetricValue"]'
    )


@pytest.mark.browser
def test_after_a_kill_and_restart_the_next_click_counts_and_the_student_comes_back(
    browser, tmp_path
):
    from playwright.sync_api import expect

    database = f"sqlite:///{tmp_path / 'votes.sqlite'}"
    env = {"COLORCLF_DB_URL": database}
    proc, url = start_streamlit(env)
    port = urlsplit(url).port
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{url}/label")
        page.get_by_role("button", name="grey-ish", exact=True).wait_for(timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        box = page.get_by_role("textbox", name="Your name (optional)")
        box.fill("Ada")
        box.press("Enter")
        expect(page.get_by_text("Voting as: Ada", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        for votes in (1, 2):
            # A student looks at the colour before voting: the page refuses votes of one
            # student less than 0.15 s apart ("Slow down!"), as test_label_browser paces too.
            time.sleep(LOOK_S)
            page.get_by_role("button", name="red-ish", exact=True).click()
            expect(_your_votes(page)).to_have_text(str(votes), timeout=TIMEOUT_MS)
        expect(page).to_have_url(re.compile(r"[?&]name=Ada(&|$)"), timeout=TIMEOUT_MS)

        seen = page.locator("[data-rgb]").first.get_attribute("data-rgb")  # on screen
        _kill(proc)
        page.wait_for_function(f"() => {STATE} !== 'CONNECTED'", timeout=TIMEOUT_MS)
        proc, _ = start_streamlit(env, port=port)  # the same command, database and address
        # The browser reconnects by itself, as a new session, and runs the page, which reads
        # the link (the old session's elements stay on screen until then).
        page.wait_for_function(f"() => {STATE} === 'CONNECTED'", timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        expect(page.get_by_text("Voting as: Ada", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        expect(_your_votes(page)).to_have_text("2", timeout=TIMEOUT_MS)
        # The same colour as before the restart, not one the new session drew.
        assert page.locator("[data-rgb]").first.get_attribute("data-rgb") == seen
        time.sleep(LOOK_S)
        page.get_by_role("button", name="blue-ish", exact=True).click()
        expect(_your_votes(page)).to_have_text("3", timeout=TIMEOUT_MS)
        engine = sa.create_engine(database)
        try:
            store = VoteStore(engine)
            assert store.count("Ada") == 3  # the click after the restart counted
            last = store.all_votes().iloc[-1]
            # ... for the colour the student saw
            assert (last["label"], f"{last['r']},{last['g']},{last['b']}") == ("blue-ish", seen)
        finally:
            engine.dispose()
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
        stop_streamlit(proc)
