"""Streamlit render functions of the teaching views (the page calls them; data and specs live
in ``colorclf.views``), and the tabs that hold them on the training page.

Every function takes a ``key``: the prefix of its widgets' keys (``f"{key}-..."``), so the
same view can appear twice on a page. Charts are fixed Vega-Lite specs drawn with
``st.vega_lite_chart``, cheap to redraw with new data.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from colorclf.app.follow import follow
from colorclf.app.share import share_panel
from colorclf.app.state import (
    asked_predictor,
    asked_token,
    await_model,
    current_job,
    drawn_state,
    inline_fragment,
    session,
)
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS
from colorclf.core.runs import RunStatus
from colorclf.core.text import count, plain
from colorclf.views import (
    ceiling,
    cleaning,
    compare,
    decision_map,
    explorer,
    matrix,
    network,
    summaries,
)

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor
    from colorclf.core.runs import Run

SATURATION_DEFAULT = 100  # percent


def _k(key: str, part: str) -> str:
    return f"{key}-{part}"


# ---------------------------------------------------------------------------- decision map


def render_decision_map(
    predictor: Predictor | None,
    *,
    key: str,
    overlay_dataset: ColorDataset | None = None,
) -> None:
    """The "Decision map" section: title, a "Saturation" slider and the map of ``predictor``.

    To follow training, the page draws the controls in a fragment and the map as a follower
    of the live panel (``follow.py``): each draw maps the latest weights at the slider's
    saturation.
    """
    decision_map_controls(key=key, overlay_dataset=overlay_dataset)
    draw_decision_map(predictor, key=key, overlay_dataset=overlay_dataset)


def decision_map_controls(*, key: str, overlay_dataset: ColorDataset | None = None) -> None:
    """The decision map's title, caption, "Saturation" slider and overlay checkbox."""
    st.subheader("Decision map")
    st.caption(
        "What the model calls every colour of one saturation: hue across, lightness up. "
        "Faded cells are where the model is unsure."
        + (
            " Dots are training colours of about this saturation, coloured by the label "
            "people gave them."
            if overlay_dataset is not None
            else ""
        )
    )
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        _saturation_slider(_k(key, "saturation"))
    with right:
        if overlay_dataset is not None:
            st.checkbox("Show training colours", value=True, key=_k(key, "overlay"))


def decision_map_state(key: str) -> tuple[float, bool]:
    """What the decision map's controls ask for: the saturation (0–1) and the overlay."""
    return _saturation(_k(key, "saturation")), bool(st.session_state.get(_k(key, "overlay"), True))


def draw_decision_map(
    predictor: Predictor | None, *, key: str, overlay_dataset: ColorDataset | None = None
) -> None:
    """The map itself (no widgets), at the saturation the controls ask for."""
    if predictor is None:
        st.info("Train a model (or upload one) to see its decision map.")
        return
    saturation, show_overlay = decision_map_state(key)
    overlay = None
    if overlay_dataset is not None and show_overlay:
        overlay = _overlay(key, overlay_dataset, saturation)
    frame = decision_map.decision_map_frame(predictor, saturation, overlay)
    st.vega_lite_chart(frame, decision_map.decision_map_spec(), width="stretch")
    st.caption(summaries.decision_map_summary(frame))  # the canvas in words, for a screen reader


def _saturation_slider(key: str) -> float:
    """The "Saturation" slider of the colour-space maps; returns its value as 0–1."""
    st.slider(
        "Saturation",
        min_value=0,
        max_value=100,
        value=SATURATION_DEFAULT,
        step=5,
        format="%d%%",
        key=key,
        help="0 % is grey, 100 % the purest colour of each hue and lightness.",
    )
    return _saturation(key)


def _saturation(key: str) -> float:
    return float(st.session_state.get(key, SATURATION_DEFAULT)) / 100.0


# ---------------------------------------------------------------------------- network view


def render_network(predictor: Predictor | None, *, key: str) -> None:
    """The "Network" section: the diagram (inputs, every hidden unit with its map over colour
    space, the nine outputs; weights as lines), a "Saturation" slider for the maps and a
    "Unit" choice that lists that unit's incoming weights and the outputs it pushes most.

    To follow training, the page draws the controls in a fragment and the diagram as a
    follower of the live panel (``follow.py``); the frame is built again only when the
    weights or the saturation change.
    """
    network_controls(predictor, key=key)
    draw_network(predictor, key=key)


def network_controls(predictor: Predictor | None, *, key: str) -> None:
    """The network view's title, caption, "Saturation" slider and "Unit" choice."""
    st.subheader("Network")
    st.caption(
        "Inside the network: each line is a weight (orange positive, blue negative, wider is "
        "stronger); each hidden unit shows how strongly it responds to every colour of one "
        "saturation (hue across, lightness up; orange: strongly, blue: the opposite). Choose "
        "a unit to see its weights."
    )
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        _saturation_slider(_k(key, "saturation"))
    if predictor is None:
        await_model()  # the Unit box comes with the first epoch's weights
    elif len(predictor.layers) >= 2:
        with right:
            names = [name for _, _, name in network.hidden_units(predictor)]
            st.selectbox("Unit", names, key=_k(key, "unit"))


def network_state(key: str) -> tuple[float, Any]:
    """What the network view's controls ask for: the saturation (0–1) and the unit."""
    return _saturation(_k(key, "saturation")), st.session_state.get(_k(key, "unit"))


def draw_network(predictor: Predictor | None, *, key: str) -> None:
    """The diagram and the chosen unit's two tables (no widgets, no keyed elements)."""
    if predictor is None:
        st.info("Train a model (or upload one) to see inside it.")
        return
    if len(predictor.layers) < 2:
        st.info("This model has no hidden layer to look into.")
        return
    saturation, chosen = network_state(key)
    cache_key = _k(key, "frame-cache")
    cached: Any = st.session_state.get(cache_key)
    if cached is not None and cached[0] is predictor and cached[1] == saturation:
        frame = cached[2]
    else:
        frame = network.network_frame(predictor, saturation)
        st.session_state[cache_key] = (predictor, saturation, frame)
    st.vega_lite_chart(
        frame,
        network.network_spec(len(predictor.layers), network.network_height(predictor)),
        width="stretch",
    )
    st.caption(summaries.network_summary(predictor))  # the canvas in words, for a screen reader
    units = network.hidden_units(predictor)
    names = [name for _, _, name in units]
    if chosen not in names:
        chosen = names[0]
    layer, unit, _ = units[names.index(chosen)]
    incoming, outgoing = network.unit_detail(predictor, layer, unit)
    weight = st.column_config.NumberColumn("Weight", format="%+.3f")
    tables = (
        (f"Weights into {chosen}", incoming, "from", "From"),
        (f"What {chosen} pushes most (positive: towards, negative: away)", outgoing, "to", "To"),
    )
    for column, (caption, table, name, title) in zip(st.columns(2), tables, strict=True):
        with column:
            st.caption(caption)
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                column_config={name: title, "weight": weight},
            )


def _overlay(key: str, dataset: ColorDataset, saturation: float) -> pd.DataFrame:
    """``decision_map.overlay_frame``, remembered per data set and saturation (it does not change
    from epoch to epoch)."""
    cache_key = _k(key, "overlay-cache")
    cached: Any = st.session_state.get(cache_key)
    if cached is not None and cached[0] is dataset and cached[1] == saturation:
        return cached[2]
    frame = decision_map.overlay_frame(dataset, saturation)
    st.session_state[cache_key] = (dataset, saturation, frame)
    return frame


# ---------------------------------------------------------------------------- confusion matrix


def render_confusion_matrix(
    predictor: Predictor | None,
    dataset: ColorDataset,
    val_index: Sequence[int] | np.ndarray,
) -> pd.DataFrame | None:
    """The validation colours' "Confusion matrix" and per-label accuracy; returns the matrix
    (``matrix.confusion_matrix``) or None when there is nothing to show."""
    index = np.asarray(val_index, dtype=np.int64).reshape(-1)
    if predictor is None:
        st.info("Train a model to see its confusion matrix on the validation colours.")
        return None
    if len(index) == 0:
        st.info("There are no validation colours to check the model on.")
        return None
    confusion = matrix.confusion_matrix(predictor, dataset.rgb[index], dataset.label[index])
    accuracy = matrix.per_class_accuracy(confusion)
    correct = int(accuracy["correct"].sum())
    st.caption(
        f"The {count(len(index), 'validation colour')} (held out, never trained on): "
        f"{correct:,} ({correct / len(index):.0%}) get the label people gave them. "
        "Rows: what people said; columns: what the model says."
    )
    st.vega_lite_chart(confusion, matrix.confusion_matrix_spec(), width="stretch")
    st.dataframe(
        accuracy,
        hide_index=True,
        width="stretch",
        column_config={
            "label": "Label",
            "colours": st.column_config.NumberColumn("Validation colours"),
            "correct": st.column_config.NumberColumn("Correct"),
            "accuracy": st.column_config.ProgressColumn(
                "Accuracy", min_value=0.0, max_value=1.0, format="percent"
            ),
        },
    )
    return confusion


# ---------------------------------------------------------------------------- run comparison


def _history_csv(run: Run) -> bytes:
    return run.history_frame().to_csv(index=False).encode()


COMPARED_AT_FIRST = 3  # the newest runs overlaid when the comparison first shows


def _join_new_runs(key: str, names: list[str]) -> str:
    """Put every run that is new since the last draw into the "Runs to compare" choice
    (before the widget is drawn), keeping what the user took out; returns ``key``."""
    state = st.session_state
    known_key = f"{key}-known"
    known = state.get(known_key)
    if key not in state or known is None:
        state[key] = names[-COMPARED_AT_FIRST:]
    else:
        chosen = [name for name in state[key] if name in names]
        state[key] = chosen + [name for name in names if name not in known]
    state[known_key] = list(names)
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
        key=_k(key, "table"),
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
    chosen_names = st.multiselect(
        "Runs to compare", names, key=_join_new_runs(_k(key, "runs"), names)
    )
    chosen = [by_name[name] for name in chosen_names if name in by_name]
    metric = (
        st.radio("Curve", list(compare.CURVE_METRICS), horizontal=True, key=_k(key, "metric"))
        or "Loss"
    )
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
                    key=_k(key, f"csv-{run.number}"),
                    on_click="ignore",
                )
    return chosen


# ---------------------------------------------------------------------------- explorer


def _export_json(dataset: ColorDataset) -> bytes:
    from colorclf.core.dataset import to_coding_train_json

    return to_coding_train_json(dataset)


FULL_HUE = (0, 360)  # the hue slider's range that keeps every colour


def _hue_key(key: str, label: str) -> str:
    return _k(key, f"hue-{label}")


def _reset_rules(key: str) -> None:
    """Reset's on_click: no rule, and every cleaning widget's key written with its full-data
    value before the widgets are drawn. Written, not deleted: only a value written to a
    widget's key is sent to the browser; a deleted key left the browser showing the old hue
    range and contributors, and sending them back at the next touch."""
    st.session_state[key] = cleaning.CleaningRules()
    st.session_state[_k(key, "drop")] = []
    for label in LABELS:
        st.session_state[_hue_key(key, label)] = FULL_HUE


def _current_rules(key: str, contributors: set[str]) -> cleaning.CleaningRules:
    rules = st.session_state.get(key)
    if not isinstance(rules, cleaning.CleaningRules):
        return cleaning.CleaningRules()
    # Contributors of an earlier data set cannot be dropped from this one.
    return rules.with_dropped(rules.drop_contributors & contributors)


def _prepare_widget(state_key: str, value: object, keep: Any = None) -> None:
    """Give a cleaning widget its value through its key (it is then drawn without a default,
    so its key is its only source). A key already set holds the browser's latest value and
    wins; ``value`` (from the rules) is written when the key is absent: the first draw, or a
    label's slider not drawn in the last run. ``keep`` filters a list value (contributors of
    an earlier data set cannot stay chosen)."""
    state = st.session_state
    if state_key not in state:
        state[state_key] = value
    elif keep is not None:
        current = list(state[state_key])
        allowed = [item for item in current if keep(item)]
        if allowed != current:
            state[state_key] = allowed


def _cleaned(
    key: str, dataset: ColorDataset, rules: cleaning.CleaningRules
) -> tuple[ColorDataset, dict[str, int]]:
    """``cleaning.clean``, remembered so that a rerun with the same data and rules returns the
    very same data set object."""
    cache_key = _k(key, "cache")
    cached: Any = st.session_state.get(cache_key)
    if cached is not None and cached[0] is dataset and cached[1] == rules:
        return cached[2], cached[3]
    cleaned, report = cleaning.clean(dataset, rules)
    st.session_state[cache_key] = (dataset, rules, cleaned, report)
    return cleaned, report


def render_explorer(dataset: ColorDataset, *, key: str) -> ColorDataset:
    """Section "Explore and clean the data": counts per label and per contributor, the colours
    of one label as a mosaic, a hue range to keep per label, contributors to drop, and an
    export of the cleaned set. Returns the cleaned data set (``dataset`` itself when no rule
    is set): that is what should train. The rules live in ``st.session_state[key]``."""
    st.subheader("Explore and clean the data")
    contributors = explorer.contributor_counts(dataset)
    contributor_ids = contributors["contributor"].tolist()
    contributor_rows = dict(zip(contributor_ids, contributors["colours"].tolist(), strict=True))
    rules = _current_rules(key, set(contributor_ids))

    st.caption(
        f"{count(len(dataset), 'colour')} from {count(len(contributor_ids), 'contributor')}"
        + (f" ({plain(dataset.source)})" if dataset.source else "")
        + "."
    )
    counts_column, people_column = st.columns([3, 2])

    counts = dataset.label_counts()
    pick, hue_column = st.columns([1, 2])
    with pick:
        label = st.selectbox(
            "Label",
            list(LABELS),
            key=_k(key, "label"),
            format_func=lambda name: f"{name} ({counts[name]:,})",
        )
    with hue_column:
        _prepare_widget(
            _hue_key(key, label),
            tuple(int(v) for v in cleaning.hue_range_to_slider(rules.hue_ranges.get(label))),
        )
        low, high = st.slider(
            f"Hue range to keep for {label} (°)",
            min_value=-180,
            max_value=360,
            step=1,
            key=_hue_key(key, label),
            help=(
                "Colours of this label whose hue lies outside the range are dropped. Below 0 "
                "wraps around: −30 means 330°, so −30…20 keeps the reds on both sides of 0°. "
                "Pure greys have no hue and are never dropped by this rule."
            ),
        )
    rules = rules.with_hue_range(label, cleaning.hue_range_from_slider(low, high))
    mosaic_slot = st.container()

    _prepare_widget(
        _k(key, "drop"),
        sorted(rules.drop_contributors, key=contributor_ids.index),
        keep=contributor_rows.__contains__,
    )
    dropped_people = st.multiselect(
        "Drop contributors",
        contributor_ids,
        key=_k(key, "drop"),
        format_func=lambda cid: f"{cid} ({contributor_rows.get(cid, 0):,})",
        help="Every colour these contributors labelled is left out. Type part of a name to "
        "find it.",
        # Without these, Enter after a typed name picked "Select 7 matches" (fuzzy matches).
        filter_mode="contains",
        select_all=False,
    )
    rules = rules.with_dropped(dropped_people)
    st.session_state[key] = rules
    cleaned, report = _cleaned(key, dataset, rules)
    st.caption(plain(cleaning.cleaning_caption(report)))
    st.markdown("**The crowd's ceiling**")
    st.caption(ceiling.agreement_caption(ceiling.crowd_agreement(cleaned)))

    export_column, reset_column = st.columns(2)
    with export_column:
        st.download_button(
            "Export cleaned set (Coding Train JSON)",
            data=functools.partial(_export_json, cleaned),
            file_name=f"colorData-{len(cleaned)}-colours{'-cleaned' if rules.active else ''}.json",
            mime="application/json",
            key=_k(key, "export"),
            on_click="ignore",
        )
    with reset_column:
        st.button(
            "Reset cleaning rules",
            key=_k(key, "reset"),
            on_click=_reset_rules,
            args=(key,),
            disabled=not rules.active,
        )

    with counts_column:
        bars = explorer.label_counts(cleaned)
        before = explorer.label_counts(dataset)["count"]
        bars = bars.assign(before=before, dropped=before - bars["count"])
        st.vega_lite_chart(bars, explorer.label_counts_spec(), width="stretch")
    with people_column:
        top = contributors.head(30).assign(
            dropped=lambda frame: frame["contributor"].isin(rules.drop_contributors)
        )
        st.caption("Top 30 contributors")
        st.dataframe(
            top,
            hide_index=True,
            width="stretch",
            height=250,
            key=_k(key, "contributors"),
            column_order=["contributor", "colours", "top label", "dropped"],
            column_config={
                "contributor": st.column_config.TextColumn("Contributor", width="medium"),
                "colours": st.column_config.NumberColumn("Colours", width="small"),
                "top label": st.column_config.TextColumn("Top label", width="small"),
                "dropped": st.column_config.CheckboxColumn("Dropped", width="small"),
            },
        )
    with mosaic_slot:
        tiles = explorer.mosaic(dataset, label, rules)
        total = counts[label]
        shown = f"{len(tiles):,} of {total:,}" if len(tiles) < total else f"{total:,}"
        noun = "colour" if total == 1 else "colours"
        st.caption(f"{shown} {label} {noun}, sorted by hue; faded tiles are dropped by the rules.")
        if len(tiles):
            st.vega_lite_chart(tiles, explorer.mosaic_spec(len(tiles)), width="stretch")
    return cleaned


# ---------------------------------------------------------------------------- model files


def _tfjs_download(predictor: Predictor, file_name: str, key: str) -> None:
    from colorclf.core.tfjs import INPUT_SCALING, tfjs_zip

    st.download_button(
        "Download for TensorFlow.js",
        data=tfjs_zip(predictor),
        file_name=file_name.removesuffix(".keras") + "-tfjs.zip",
        mime="application/zip",
        key=_k(key, "download-tfjs"),
        on_click="ignore",
        help=f"model.json + weights for tf.loadLayersModel in TensorFlow.js 4.x; "
        f"{INPUT_SCALING}. See docs/TFJS.md for a p5.js sketch.",
    )


CHECK_POLL_SECONDS = 0.25  # how often the page looks whether an upload's check is done


def render_model_files(
    model_bytes: bytes | None,
    *,
    key: str,
    file_name: str | None = None,
    predictor: Predictor | None = None,
) -> Predictor | None:
    """A "Download model" button (``.keras``) for a model file's bytes, beside it "Download
    for TensorFlow.js" (a zip of ``model.json`` + weights, ``core/tfjs.py``) when
    ``predictor`` holds the same weights, and an "Upload a model (.keras)" uploader.

    An uploaded file is opened in a trainer process (``serve.modelcheck``), never here: the
    web server does not import Keras. Meanwhile the page says what the check is doing, and a
    fragment looks every ``CHECK_POLL_SECONDS`` and reruns the page when it is done. Returns
    the uploaded model's ``Predictor`` once, in the run after its check passed; None
    otherwise. A good file's layers are shown, a bad file's one-line error, while the file
    stays in the uploader. The check is ``st.session_state[f"{key}-check"][1]``. The
    download is ``file_name``, by default named after the session's current run
    (``colorclf-run3-coding-train.keras``), whose model the page offers.
    """
    from colorclf.serve.modelcheck import ModelCheck
    from colorclf.train.modelfile import MODEL_FILE_NAME  # a name: no Keras behind it

    if model_bytes is not None:
        if file_name is None:
            job = current_job()
            file_name = f"{job.run.file_stem}.keras" if job is not None else MODEL_FILE_NAME
        with st.container(horizontal=True):  # the two downloads side by side
            st.download_button(
                "Download model",
                data=model_bytes,
                file_name=file_name,
                mime="application/zip",
                key=_k(key, "download"),
                on_click="ignore",
            )
            if predictor is not None:
                _tfjs_download(predictor, file_name, key)
    upload = st.file_uploader(
        "Upload a model (.keras)",
        type=["keras"],
        key=_k(key, "upload"),
        help="A model saved by this app: 3 inputs (r, g, b), 9 softmax outputs.",
    )
    check_key = _k(key, "check")
    held: Any = st.session_state.get(check_key)
    file_id = None
    if upload is not None:
        file_id = getattr(upload, "file_id", None) or f"{upload.name}:{upload.size}"
    if held is not None and held[0] != file_id:
        held[1].cancel()  # the file was removed or replaced: nobody waits for that check
        held = None
        del st.session_state[check_key]
    if upload is None:
        return None
    if held is None:
        held = [file_id, ModelCheck(upload.getvalue(), upload.name), False]
        st.session_state[check_key] = held
    check: ModelCheck = held[1]
    # The fragment is drawn, at the same place, also once the check is done (with no timer):
    # a timer the browser still holds then finds it and asks for the page (_check_progress).
    every = None if check.done else CHECK_POLL_SECONDS
    inline_fragment(_check_progress, check, run_every=every, flag="_check_in_page_run")
    if not check.done:
        return None
    if check.predictor is None:
        st.error(plain(check.error or f"{upload.name} could not be checked"))
        return None
    st.caption(plain(f"{check.name}: {check.predictor.summary()}"))
    if held[2]:
        return None
    held[2] = True
    return check.predictor


def _check_progress(check: Any) -> None:
    """While an upload's check runs, what it is doing; once it is done, the whole page runs
    again and ``render_model_files`` hands the model over.

    Once done, a run of this fragment of its own (a timer the browser still holds) asks for
    the page again even if a page run already drew the answer: Streamlit drops a finished
    script runner's queued messages when a fragment timer starts a new runner before they
    were sent, so that page run may never have reached the browser (then: "Checking" for
    ever; the same loss was seen in the live panel, ``ff6f31a``). Inline in a page run it
    draws nothing (that would loop).
    """
    if not check.done:
        st.info(plain(check.status()), icon="⏳")
    elif not st.session_state.get("_check_in_page_run"):
        st.rerun(scope="app")


# ---------------------------------------------------------------------------- on the page


def _following() -> bool:
    """While a run trains, the views' pictures are followers of the live panel."""
    return drawn_state() == RunStatus.TRAINING


def _decision_map_view(dataset: ColorDataset | None) -> None:
    job = current_job()
    overlay = job.dataset if job is not None else dataset
    decision_map_controls(key="map", overlay_dataset=overlay)
    if not _following():
        draw_decision_map(asked_predictor(), key="map", overlay_dataset=overlay)


def _follow_decision_map(dataset: ColorDataset | None) -> None:
    job = current_job()
    overlay = job.dataset if job is not None else dataset
    follow(
        "map",
        lambda: (asked_token(), decision_map_state("map")),
        lambda: draw_decision_map(asked_predictor(), key="map", overlay_dataset=overlay),
    )


def _network_view() -> None:
    network_controls(asked_predictor(), key="network")
    if not _following():
        draw_network(asked_predictor(), key="network")


def _confusion_view() -> None:
    st.subheader("Confusion matrix")
    if not _following():
        _draw_confusion()


def _draw_confusion() -> None:
    job = current_job()
    if job is None or job.predictor is None:
        st.info("Train a model to see its confusion matrix on the validation colours.")
        return
    render_confusion_matrix(job.predictor, job.dataset, job.split.val_index)


def _is_open(tab: Any) -> bool:
    return getattr(tab, "open", None) is not False


def teaching_views(tabs: Any, dataset: ColorDataset | None) -> None:
    """Fill the view tabs. While a run trains, the open tab's decision map, network view or
    confusion matrix follows it epoch by epoch, drawn by the live panel (``follow.py``);
    the views' widgets stay in fragments of their own, so a slider reruns only its view."""
    state = session()
    job = current_job()
    following = _following()
    map_tab, network_tab, matrix_tab, runs_tab, files_tab = tabs
    with map_tab:
        st.fragment(_decision_map_view)(dataset)
        if following and _is_open(map_tab):
            _follow_decision_map(dataset)
    with network_tab:
        # Its diagram is the page's largest chart: drawn (and redrawn while training) only
        # while its tab is open, so a closed tab costs the live chart nothing.
        if not _is_open(network_tab):
            st.caption("Inside the network: open this tab to see it.")
        else:
            st.fragment(_network_view)()
            if following:
                follow(
                    "network",
                    lambda: (asked_token(), network_state("network")),
                    lambda: draw_network(asked_predictor(), key="network"),
                )
    with matrix_tab:
        st.fragment(_confusion_view)()
        if following and _is_open(matrix_tab):
            follow("matrix", asked_token, _draw_confusion)
    with runs_tab:
        if state["runs"]:
            reference = None
            if job is not None:
                vote = ceiling.reference_accuracy(job.dataset, job.hp.val_split, job.hp.seed)
                reference = (vote, job.run.name)
            render_run_comparison(state["runs"], key="runs", reference=reference)
            share_panel(state["runs"])
        else:
            st.info("Every training of this session becomes a run you can compare here.")
    if files_tab is not None:
        with files_tab:
            model_bytes = job.model_bytes if job is not None and not job.active else None
            predictor = job.predictor if model_bytes is not None and job is not None else None
            uploaded = render_model_files(model_bytes, key="files", predictor=predictor)
            if uploaded is not None:
                state["uploaded_predictor"] = uploaded
                st.rerun()
            if state.get("uploaded_predictor") is not None:
                st.success("The sliders, the decision map and the network ask the uploaded model.")
                if st.button("Use the trained model again", key="forget_upload"):
                    state["uploaded_predictor"] = None
                    st.rerun()
