"""The live loss chart's Vega-Lite spec, made once with Altair (its data: ``chart_data.py``).

The spec is built once and never changes while a run trains: a changed spec or title makes
the browser rebuild its view instead of updating the data.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from colorclf.views.chart_data import ACCURACY_SERIES, BEST_EPOCH, LOSS_SERIES, SERIES

SERIES_COLORS = ("#9ecae1", "#1f5fd6", "#e6550d", "#31a354", "#8e44ad", "#000000")

# Pixels of the whole chart (legend and axis included) and how its plot is shared: tall
# enough for a laptop's first screen to show both panels readably (issue 31: 236 px left
# the plots ~60 px each), and half a 720 px projector in presenter mode.
CHART_HEIGHT = 330
LARGE_CHART_HEIGHT = 364  # presenter mode, in large type
LOSS_PANEL_HEIGHT = 100
ACCURACY_PANEL_HEIGHT = 76
PANEL_GAP = 18
# Dashes tell the series apart without their colours (WCAG 1.4.1): validation dashed, with
# a point per epoch; the batches' loss thin, the smoothed lines thick.
SERIES_DASHES = ([1, 0], [1, 0], [5, 3], [1, 0], [5, 3], [1, 0])
# What a screen reader says the chart is (vega-embed makes it the chart's aria-label); what
# it shows now is in the one-line summary under it (``summary``).
DESCRIPTION = (
    "Live training chart: the loss (above) and the accuracy (below) by epoch, for the "
    "training batches and the validation colours."
)
HOVER = "hover"  # the selection of the batch nearest the pointer


@functools.cache
def loss_chart_spec(large: bool = False) -> dict[str, Any]:
    """The live chart's Vega-Lite spec (``large``: presenter mode's, taller, its axes and
    legend in type readable on a projector): two aligned panels over one epoch axis, the loss
    above (each batch's loss, quiet, with a smoothed line through it, and the validation
    loss after each epoch) and the accuracy below (smoothed, and validation). Pointing
    anywhere over the plot draws a rule at the nearest batch and one tooltip with its epoch
    and every series' value there (``_hover_layers``).

    Two panels rather than two y-axes over one plot: a falling loss and a rising accuracy
    drawn over each other cross in an X that reads as one thing. The panels are one layered
    view whose two y scales map to two bands of its height (Vega-Lite cannot stretch a
    ``vconcat`` to its container's width). Built once with Altair (without data); the page
    passes the table separately, so each redraw only sends data.
    """
    import altair as alt

    placeholder = pd.DataFrame({"epoch": [0.0], "series": [SERIES[0]], "value": [0.0]})
    font = 20 if large else 12
    height = LOSS_PANEL_HEIGHT + PANEL_GAP + ACCURACY_PANEL_HEIGHT
    loss_share = LOSS_PANEL_HEIGHT / height
    accuracy_top = (LOSS_PANEL_HEIGHT + PANEL_GAP) / height
    # The best epoch's diamond explains itself by its tooltip and the status line; in the
    # legend it would take a second row from the plot.
    legend = alt.Legend(
        title=None,
        orient="top",
        direction="horizontal",
        columns=5,
        symbolSize=160 if large else 60,
        symbolType="stroke",
        symbolStrokeWidth=3 if large else 2,
        padding=0,
        values=[*LOSS_SERIES, *ACCURACY_SERIES],
    )
    color = alt.Color(
        "series:N", scale=alt.Scale(domain=list(SERIES), range=list(SERIES_COLORS)), legend=legend
    )
    # The same field and legend as the colour: Vega-Lite merges the two into one legend whose
    # symbols show each line's dash.
    dash = alt.StrokeDash(
        "series:N", scale=alt.Scale(domain=list(SERIES), range=list(SERIES_DASHES)), legend=legend
    )
    x = alt.X(
        "epoch:Q",
        title="epoch",
        scale=alt.Scale(domainMin=0, nice=False),
        axis=alt.Axis(tickMinStep=1, grid=True, orient="bottom", titlePadding=2),
    )

    def only(*names: str) -> alt.FieldOneOfPredicate:
        return alt.FieldOneOfPredicate("series", list(names))

    def panel(names: tuple[str, ...], title: str, band: tuple[str, str]) -> alt.LayerChart:
        accuracy = title == "accuracy"
        y = alt.Y(
            "value:Q",
            title=title,
            scale=alt.Scale(
                domain=[0, 1] if accuracy else alt.Undefined,
                zero=False,
                range=[{"expr": band[0]}, {"expr": band[1]}],
            ),
            axis=alt.Axis(
                format="%" if accuracy else "~g", tickCount=3 if accuracy else 4, orient="left"
            ),
        )
        base = alt.Chart(placeholder).encode(x=x, y=y, color=color, strokeDash=dash)
        layers = []
        noisy = [name for name in names if name.startswith("batch")]
        if noisy:
            layers.append(base.transform_filter(only(*noisy)).mark_line(strokeWidth=1))
        smooth = [name for name in names if name in ("loss", "accuracy")]
        layers.append(base.transform_filter(only(*smooth)).mark_line(strokeWidth=2.5))
        validation = [name for name in names if name.startswith("val")]
        layers.append(
            base.transform_filter(only(*validation)).mark_line(point={"size": 40}, strokeWidth=2)
        )
        if not accuracy:  # the best epoch: a diamond on the validation loss line
            layers.append(
                base.transform_filter(only(BEST_EPOCH)).mark_point(
                    shape="diamond", size=150, filled=True, opacity=1
                )
            )
        return alt.layer(*layers)

    chart = (
        alt.layer(
            # Bands as fractions of the plot's height: Vega shrinks the plot to leave room
            # for the axis and the legend inside the chart's height.
            panel(LOSS_SERIES, "loss", (f"height * {loss_share:.3f}", "0")),
            panel(ACCURACY_SERIES, "accuracy", ("height", f"height * {accuracy_top:.3f}")),
            *_hover_layers(placeholder, x),
        )
        .resolve_scale(y="independent")
        .resolve_axis(y="independent")
        .properties(
            width="container",
            height=LARGE_CHART_HEIGHT if large else CHART_HEIGHT,
            description=DESCRIPTION,
        )
        .configure_axis(labelFontSize=font, titleFontSize=font, titleFontWeight="normal")
        .configure_legend(labelFontSize=font - 1)
    )
    spec = chart.to_dict()
    # The data travels separately on every redraw; the spec must not carry any.
    spec.pop("datasets", None)
    spec.pop("data", None)
    _strip_data(spec)
    for panel_spec in spec["layer"][:2]:
        _share_encodings(panel_spec, ("x", "y", "color", "strokeDash"))
    pointer = _share_transforms(spec["layer"][2:])
    spec["layer"][2:] = [pointer]
    # One epoch axis and one legend for the whole chart: the panels' series colours and dashes
    # (the same in both) go up too, and the pointer, which has no series, draws in its own.
    _share_encodings(pointer, ("x",))
    _share_encodings(spec, ("x", "color", "strokeDash"))
    pointer["encoding"] = {"color": {"value": HOVER_COLOR}, "strokeDash": {"value": [1, 0]}}
    # Ten redraws a second cost the browser far less on a canvas than as SVG nodes, and
    # without ARIA attributes for every point (Streamlit passes embedOptions to vega-embed).
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    spec.setdefault("config", {})["aria"] = False
    return spec


HOVER_COLOR = "#555555"  # the rule at the batch the pointer picked
# The hover tooltip's lines: (field computed in ``_hover_layers``, title).
HOVER_TOOLTIP = (
    ("at", "epoch"),
    ("batch loss", "batch loss"),
    ("loss", "loss (smoothed)"),
    ("accuracy", "accuracy (smoothed)"),
    ("val loss at", "val loss"),
    ("val accuracy at", "val accuracy"),
)


def _hover_layers(placeholder: pd.DataFrame, x: Any) -> list[Any]:
    """An invisible point per sent batch, over the whole plot (no y: Vega-Lite's ``nearest``
    then picks the batch nearest the pointer along x alone), carrying one tooltip with every
    series there, and a rule drawn at the chosen batch.

    The long table is pivoted in the browser into one row per batch, and each row looks up
    the validation values of the nearest finished epoch (validation rows sit on whole
    epochs): the page sends no second table.
    """
    import altair as alt

    hover = alt.selection_point(
        name=HOVER,
        nearest=True,
        on="pointerover",
        fields=["epoch"],
        empty=False,
        clear="pointerout",
    )
    shown = [*LOSS_SERIES, *ACCURACY_SERIES]
    value = "format(datum[{0!r}], '.4f')"
    rows = (
        alt.Chart(placeholder)
        .transform_filter(alt.FieldOneOfPredicate("series", shown))
        .transform_pivot("series", value="value", groupby=["epoch"])
        # The last finished epoch: the pointer past it still shows the newest validation.
        .transform_calculate(finished="isValid(datum['val loss']) ? datum.epoch : null")
        .transform_joinaggregate(last="max(finished)")
        .transform_calculate(near="clamp(round(datum.epoch), 1, datum.last || 1)")
        .transform_joinaggregate(
            val_loss="max(val loss)", val_accuracy="max(val accuracy)", groupby=["near"]
        )
        .transform_filter("isValid(datum['loss'])")
        .transform_calculate(
            at="format(datum.epoch, '.1f')",
            **{name: value.format(name) for name in ("batch loss", "loss")},
            accuracy="format(datum.accuracy, '.1%')",
            **{
                "val loss at": "isValid(datum.val_loss) ? format(datum.val_loss, '.4f') + "
                "' (epoch ' + datum.near + ')' : 'after the first epoch'",
                "val accuracy at": "isValid(datum.val_accuracy) ? "
                "format(datum.val_accuracy, '.1%') + ' (epoch ' + datum.near + ')' : "
                "'after the first epoch'",
            },
        )
        .encode(x=x)
    )
    points = (
        rows.mark_point(opacity=0, size=1)
        .encode(tooltip=[alt.Tooltip(f"{field}:N", title=title) for field, title in HOVER_TOOLTIP])
        .add_params(hover)
    )
    rule = rows.mark_rule(color=HOVER_COLOR, strokeWidth=1).transform_filter(hover)
    return [points, rule]


def _share_encodings(panel: dict[str, Any], channels: tuple[str, ...]) -> None:
    """Move ``channels`` out of a panel's layers into the panel's own ``encoding``, which
    they inherit: the spec travels with every redraw, and the scales written out in every
    layer were most of it."""
    shared: dict[str, Any] = {}
    for leaf in panel["layer"]:
        for channel in channels:
            if channel in leaf.get("encoding", {}):
                encoding = leaf["encoding"].pop(channel)
                if shared.setdefault(channel, encoding) != encoding:
                    raise ValueError(f"the layers' {channel} encodings differ: none is shared")
    panel["encoding"] = {**panel.get("encoding", {}), **shared}


def _share_transforms(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """One layer over ``layers`` holding the transforms they all begin with, which they
    inherit: the pointer's tooltip and rule each carried the same ~1.3 KB of them, a sixth
    of every redraw."""
    shared: list[Any] = layers[0].get("transform", [])
    for leaf in layers[1:]:
        transforms = leaf.get("transform", [])
        common = 0
        while common < min(len(shared), len(transforms)) and shared[common] == transforms[common]:
            common += 1
        shared = shared[:common]
    for leaf in layers:
        rest = leaf.pop("transform", [])[len(shared) :]
        if rest:
            leaf["transform"] = rest
    return {"transform": shared, "layer": layers}


def _strip_data(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("data", None)
        for value in node.values():
            _strip_data(value)
    elif isinstance(node, list):
        for value in node:
            _strip_data(value)
