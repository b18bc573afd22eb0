"""Shareable links: the page's settings as URL query parameters and back.

``?preset=coding-train&epochs=3&hidden_units=8&seed=7`` opens the page with the tutorial's
settings except 3 epochs, 8 hidden units and seed 7. Reading never fails: a bad value is
clamped or ignored and a notice says what changed. Pure functions; the page wires them to
``st.query_params``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from colorclf.core.hyperparams import DEFAULT_PRESET, PARAMS, PRESETS, Hyperparams

HYPERPARAM_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMS)
LINK_PARAMS: tuple[str, ...] = ("preset", *HYPERPARAM_NAMES, "data", "presenter")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class LinkConfig:
    """What a link asks for.

    ``preset``: the preset named in the link (None when none or unknown); ``hyperparams``: the
    complete settings (preset first, then the link's explicit values); ``data``: "builtin" or
    an http(s) URL, None for the default; ``presenter``: presenter mode; ``notices``: one
    line per value that was clamped or ignored, to show to the user.
    """

    hyperparams: Hyperparams = field(default_factory=Hyperparams)
    preset: str | None = None
    data: str | None = None
    presenter: bool = False
    notices: tuple[str, ...] = ()


def is_linkable_data(source: str) -> bool:
    """Only the built-in set and http(s) URLs can travel in a link (not uploads or files)."""
    text = source.strip()
    if text == "builtin":
        return True
    try:
        parsed = urllib.parse.urlsplit(text)
    except ValueError:  # e.g. "http://[::1/": an unclosed IPv6 bracket
        return False
    return parsed.scheme.lower() in ("http", "https") and bool(parsed.netloc)


def _last(value: str | list[str] | tuple[str, ...] | None) -> str | None:
    """A query value; for a repeated parameter the last one (as ``st.query_params`` does)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else None
    return str(value)


def read_link(query: Mapping[str, str | list[str]]) -> LinkConfig:
    """The configuration a link's query parameters ask for. Never raises.

    The preset applies first, then each explicit hyperparameter (clamped to its range). An
    unknown preset, an invalid or out-of-range value, data that cannot be linked or a bad
    presenter flag each add a notice; unknown parameters are ignored.
    """
    values = {name: _last(raw) for name, raw in query.items()}
    notices: list[str] = []

    preset_name: str | None = None
    base = PRESETS[DEFAULT_PRESET]
    raw_preset = values.get("preset")
    if raw_preset is not None:
        name = raw_preset.strip().lower()
        if name in PRESETS:
            preset_name = name
            base = PRESETS[name]
        else:
            notices.append(
                f"preset: {raw_preset!r} is not one of {', '.join(PRESETS)}; using {DEFAULT_PRESET}"
            )

    explicit = {name: values[name] for name in HYPERPARAM_NAMES if values.get(name) is not None}
    hyperparams, clamp_notices = Hyperparams.from_mapping(explicit, base=base)
    notices.extend(clamp_notices)

    data: str | None = None
    raw_data = values.get("data")
    if raw_data is not None and raw_data.strip():
        if is_linkable_data(raw_data):
            data = raw_data.strip()
        else:
            notices.append(
                f"data: {raw_data!r} cannot be opened from a link (only builtin or an "
                "http(s) URL); using the default data"
            )

    presenter = False
    raw_presenter = values.get("presenter")
    if raw_presenter is not None:
        flag = raw_presenter.strip().lower()
        if flag in _TRUE:
            presenter = True
        elif flag not in _FALSE:
            notices.append(f"presenter: {raw_presenter!r} is not 1/true or 0/false; using 0")

    return LinkConfig(
        hyperparams=hyperparams,
        preset=preset_name,
        data=data,
        presenter=presenter,
        notices=tuple(notices),
    )


def format_value(value: object) -> str:
    """Compact text for a query value: 0.25, 0.0001, 3 (not 0.250000 or 3.0)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def to_query(config: LinkConfig) -> dict[str, str]:
    """The query parameters of a self-contained link: the preset (if any), every
    hyperparameter, the data (if linkable) and ``presenter=1`` in presenter mode."""
    query: dict[str, str] = {}
    if config.preset in PRESETS:  # not "custom": every setting is in the link anyway
        query["preset"] = config.preset
    for name in HYPERPARAM_NAMES:
        query[name] = format_value(getattr(config.hyperparams, name))
    if config.data is not None and is_linkable_data(config.data):
        query["data"] = config.data.strip()
    if config.presenter:
        query["presenter"] = "1"
    return query


def to_query_string(config: LinkConfig) -> str:
    """``to_query`` as the text after ``?`` in a URL."""
    return urllib.parse.urlencode(to_query(config), safe=":/")
