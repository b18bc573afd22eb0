"""The "Data explorer" tab: counts per label and contributor, a label's colours as a mosaic,
and cleaning rules (a hue range per label, contributors to drop) whose result trains."""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from colorclf.app.state import training_state
from colorclf.app.tabs.common import remembered, widget_key
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS
from colorclf.core.text import count, plain
from colorclf.views import ceiling, cleaning, explorer

KEY = "explorer"


def _export_json(dataset: ColorDataset) -> bytes:
    from colorclf.core.dataset import to_coding_train_json

    return to_coding_train_json(dataset)


FULL_HUE = (0, 360)  # the hue slider's range that keeps every colour


def _hue_key(key: str, label: str) -> str:
    return widget_key(key, f"hue-{label}")


def _reset_rules(key: str) -> None:
    """Reset's on_click: no rule, and every cleaning widget's key written with its full-data
    value before the widgets are drawn. Written, not deleted: only a value written to a
    widget's key is sent to the browser; a deleted key left the browser showing the old hue
    range and contributors, and sending them back at the next touch."""
    training_state().cleaning_rules[key] = cleaning.CleaningRules()
    st.session_state[widget_key(key, "drop")] = []
    for label in LABELS:
        st.session_state[_hue_key(key, label)] = FULL_HUE


def _current_rules(key: str, contributors: set[str]) -> cleaning.CleaningRules:
    rules = training_state().cleaning_rules.get(key)
    if rules is None:
        return cleaning.CleaningRules()
    # Contributors of an earlier data set cannot be dropped from this one.
    return rules.with_dropped(rules.drop_contributors & contributors)


def _prepare_widget(
    state_key: str, value: object, keep: Callable[[object], bool] | None = None
) -> None:
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
    return remembered(
        widget_key(key, "cache"),
        lambda: cleaning.clean(dataset, rules),
        same=(dataset,),
        equal=rules,
    )


def render_explorer(dataset: ColorDataset, *, key: str) -> ColorDataset:
    """Section "Explore and clean the data": counts per label and per contributor, the colours
    of one label as a mosaic, a hue range to keep per label, contributors to drop, and an
    export of the cleaned set. Returns the cleaned data set (``dataset`` itself when no rule
    is set): that is what should train. The rules live in
    ``training_state().cleaning_rules[key]``."""
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
            key=widget_key(key, "label"),
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
        widget_key(key, "drop"),
        sorted(rules.drop_contributors, key=contributor_ids.index),
        keep=contributor_rows.__contains__,
    )
    dropped_people = st.multiselect(
        "Drop contributors",
        contributor_ids,
        key=widget_key(key, "drop"),
        format_func=lambda cid: f"{cid} ({contributor_rows.get(cid, 0):,})",
        help="Every colour these contributors labelled is left out. Type part of a name to "
        "find it.",
        # Without these, Enter after a typed name picked "Select 7 matches" (fuzzy matches).
        filter_mode="contains",
        select_all=False,
    )
    rules = rules.with_dropped(dropped_people)
    training_state().cleaning_rules[key] = rules
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
            key=widget_key(key, "export"),
            on_click="ignore",
        )
    with reset_column:
        st.button(
            "Reset cleaning rules",
            key=widget_key(key, "reset"),
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
            key=widget_key(key, "contributors"),
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


def cleaned_quietly(dataset: ColorDataset | None) -> ColorDataset | None:
    """The data the explorer's rules keep, drawing nothing (its tab is closed): the very data
    set ``render_explorer`` returns for the same data and rules."""
    if dataset is None:
        return None
    rules = _current_rules(KEY, set(dataset.contributor.tolist()))
    return _cleaned(KEY, dataset, rules)[0]


def render_tab(dataset: ColorDataset | None) -> ColorDataset | None:
    """The explorer of the page's data; returns the cleaned data, which the page trains on."""
    return None if dataset is None else render_explorer(dataset, key=KEY)
