"""The training page through AppTest, as a teacher prepares a lesson (issue 14): what trains is
what the page says, the words on the page, small data sets, and the downloads' names."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.conftest import rendered
from tests.test_app import new_app, set_epochs, wait_for_job


def data_summary(at: AppTest) -> str:
    """The data summary above Train ("5,600 colours from 148 contributors · …"), as shown
    (bold marks and Markdown escapes removed)."""
    (text,) = [
        re.sub(r"\\(.)", r"\1", c.value.replace("**", ""))
        for c in at.caption
        if re.match(r"\*\*[\d,]+\*\* colours? from", c.value)
    ]
    return text


def dropped_caption(at: AppTest) -> str:
    (text,) = [c.value for c in at.caption if re.match(r"[\d,]+ rows? dropped", c.value)]
    return rendered(text)


def test_train_trains_on_exactly_what_the_explorer_and_the_summary_say():
    at = new_app()
    set_epochs(at, 1)
    at.multiselect(key="explorer-drop").select("synthetic-007").run()
    shown = dropped_caption(at)
    match = re.fullmatch(r"(\d+) rows? dropped: \1 from contributor synthetic-007", shown)
    assert match, shown
    dropped = int(match.group(1))
    kept = 5600 - dropped
    assert data_summary(at).startswith(f"{kept:,} colours from 147 contributors · ")
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state["job"]
    assert len(job.dataset) == kept
    assert "synthetic-007" not in set(job.dataset.contributor.tolist())
    assert job.run.data_source in data_summary(at)

    at.button(key="explorer-reset").click().run()
    assert dropped_caption(at) == "0 rows dropped."
    assert at.multiselect(key="explorer-drop").value == []
    assert data_summary(at).startswith("5,600 colours from 148 contributors · ")
    at.button(key="train").click().run()
    wait_for_job(at)
    job = at.session_state["job"]
    assert len(job.dataset) == 5600
    assert "cleaned" not in job.run.data_source
