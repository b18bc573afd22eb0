"""The "Runs" tab: every run of this session in a table, their epoch curves overlaid, each
one's history as CSV, and sharing a finished run with the class."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import streamlit as st

from colorclf.app.share import share_panel
from colorclf.app.state import current_job, training_state
from colorclf.app.tabs.common import keep, kept, widget_key
from colorclf.core.runs import Run
from colorclf.core.text import count, plain
from colorclf.views import ceiling, compare

KEY = "runs"


def _history_csv(run: Run) -> bytes:
    return run.history_frame().to_csv(index=False).encode()


CLOSED_NOTE = "Every run of this session: open this tab to compare them."
COMPARED_AT_FIRST = 3  # the newest runs overlaid when the comparison first shows


def _join_new_runs(key: str, names: list[str]) -> str:
    """Put every run that is new since the last draw into the "Runs to compare" choice
    (before the widget is drawn), keeping what the user took out; returns ``key``."""
    state, known_runs = st.session_state, training_state().known_runs
    kept(key)  # the choice outlives the tab being closed
    known = known_runs.get(key)
    if key not in state or known is None:
        state[key] = names[-COMPARED_AT_FIRST:]
    else:
        chosen = [name for name in state[key] if name in names]
        state[key] = chosen + [name for name in names if name not in known]
    known_runs[key] = list(names)
    return key


def render_run_comparison(
    runs: Sequence[Run],
    *,
    key: str,
    reference: tuple[ceiling.Reference, str] | None = None,
) -> list[Run]:
    """Section "Compare runs": the table of runs, their epoch curves overlaid (the runs chosen in a
    multiselect) and a "Download history CSV" button per chosen run. Returns the chosen runs.

    ``reference`` (the nearest-neighbour vote on a run's split, and that run's name) adds a
    last line to the table and a sentence under it."""
    st.subheader("Compare runs")
    if not runs:
        st.info("Every training becomes a run here, so you can compare settings.")
        return []
    lines = [run.summary() for run in runs]
    if reference is not None and reference[0].accuracy is not None:
        lines.append(ceiling.reference_row(reference[0], runs[-1].data_source))
    # Only the settings that differ among the runs get a column: the table fits a laptop.
    st.dataframe(
        compare.run_table(lines, runs),
        hide_index=True,
        width="stretch",
        key=widget_key(key, "table"),
        column_config={
            name: st.column_config.NumberColumn(format="%.4f")
            for name in ("loss", "accuracy", "val_loss", "val_accuracy")
        }
        | {"seconds": st.column_config.NumberColumn(format="%.1f")},
    )
    st.caption(f"All runs: {plain(compare.shared_settings(runs))}")
    if reference is not None and reference[0].accuracy is not None:
        vote, name = reference
        st.caption(
            f"Reference: a plain nearest-neighbour vote (each colour gets the most common "
            f"label of its {vote.k} nearest training colours; no network) names "
            f"{vote.accuracy:.1%} of the {count(vote.val_colours, 'validation colour')} of "
            f"{name}'s split correctly. People disagree about colours, so a run near this line is "
            "about as good as this data allows."
        )
    by_name = {run.name: run for run in runs}
    names = list(by_name)
    runs_key, metric_key = widget_key(key, "runs"), widget_key(key, "metric")
    chosen_names = st.multiselect("Runs to compare", names, key=_join_new_runs(runs_key, names))
    keep(runs_key)
    chosen = [by_name[name] for name in chosen_names if name in by_name]
    metric = (
        st.radio("Curve", list(compare.CURVE_METRICS), horizontal=True, key=kept(metric_key))
        or "Loss"
    )
    keep(metric_key)
    curves = compare.run_curves(chosen, metric)
    if chosen and curves.empty:
        st.caption("The chosen runs have no finished epoch yet.")
    elif chosen:
        st.vega_lite_chart(curves, compare.run_curves_spec(metric), width="stretch")
        st.caption("Solid lines: training colours; dashed: validation colours.")
    per_row = 4
    for start in range(0, len(chosen), per_row):
        columns = st.columns(per_row)
        for column, run in zip(columns, chosen[start : start + per_row], strict=False):
            with column:
                st.markdown(f"**{plain(run.name)}** · {plain(run.status)}")
                st.download_button(
                    "Download history CSV",
                    data=functools.partial(_history_csv, run),
                    file_name=f"{run.file_stem}-history.csv",
                    mime="text/csv",
                    key=widget_key(key, f"csv-{run.number}"),
                    on_click="ignore",
                )
    return chosen


def render_tab(dataset: object) -> None:
    """The comparison with the nearest-neighbour reference of the current run's split, then
    the share panel."""
    runs = training_state().runs
    if not runs:
        st.info("Every training of this session becomes a run you can compare here.")
        return
    job = current_job()
    reference = None
    if job is not None:
        vote = ceiling.reference_accuracy(job.dataset, job.hp.val_split, job.hp.seed)
        reference = (vote, job.run.name)
    render_run_comparison(runs, key=KEY, reference=reference)
    share_panel(runs)
