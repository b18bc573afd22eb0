"""Shareable links: query parameters → settings (never failing) and back."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colorclf.core.hyperparams import PARAMS, PRESETS, Hyperparams
from colorclf.core.links import (
    LINK_PARAMS,
    LinkConfig,
    format_value,
    read_link,
    to_query,
    to_query_string,
)
from colorclf.core.text import plain


def test_link_params_are_the_settings_plus_preset_data_presenter() -> None:
    assert set(LINK_PARAMS) == {
        "epochs",
        "batch_size",
        "learning_rate",
        "hidden_units",
        "activation",
        "optimizer",
        "val_split",
        "patience",
        "pace",
        "seed",
        "preset",
        "data",
        "presenter",
    }


def test_the_documented_example() -> None:
    config = read_link({"preset": "coding-train", "epochs": "3", "hidden_units": "8", "seed": "7"})
    assert config.notices == ()
    assert config.preset == "coding-train"
    expected = PRESETS["coding-train"].replace(epochs=3, hidden_units=8, seed=7)
    assert config.hyperparams == expected
    assert config.data is None and config.presenter is False


def test_preset_first_then_explicit_values() -> None:
    config = read_link({"preset": "tuned", "learning_rate": "0.5"})
    assert config.hyperparams == PRESETS["tuned"].replace(learning_rate=0.5)
    # The explicit value wins whatever the parameters' order.
    config = read_link({"learning_rate": "0.5", "preset": "TUNED"})
    assert config.hyperparams == PRESETS["tuned"].replace(learning_rate=0.5)
    assert config.preset == "tuned"


def test_out_of_range_values_are_clamped_with_a_notice() -> None:
    config = read_link({"epochs": "1000", "val_split": "0.9", "learning_rate": "0"})
    assert config.hyperparams.epochs == 200
    assert config.hyperparams.val_split == 0.5
    assert config.hyperparams.learning_rate == 1e-4
    assert len(config.notices) == 3
    assert any("epochs" in n and "200" in n for n in config.notices)


def test_invalid_values_keep_the_preset_value_with_a_notice() -> None:
    config = read_link(
        {"preset": "tuned", "epochs": "ten", "activation": "softsign", "batch_size": "2.5"}
    )
    tuned = PRESETS["tuned"]
    assert config.hyperparams == tuned
    assert len(config.notices) == 3
    assert any("epochs" in n and "ten" in n for n in config.notices)
    assert any("activation" in n for n in config.notices)


def test_unknown_preset_gives_a_notice_and_the_default() -> None:
    config = read_link({"preset": "fastest", "seed": "3"})
    assert config.preset is None
    assert config.hyperparams == Hyperparams(seed=3)
    assert len(config.notices) == 1 and "fastest" in config.notices[0]


@pytest.mark.parametrize(
    ("raw", "expected", "notices"),
    [
        ("builtin", "builtin", 0),
        ("https://example.org/colorData.json", "https://example.org/colorData.json", 0),
        ("HTTP://example.org/a.csv?x=1&y=2", "HTTP://example.org/a.csv?x=1&y=2", 0),
        ("votes", None, 1),
        ("/etc/passwd", None, 1),
        ("file:///etc/passwd", None, 1),
        ("upload.json", None, 1),
        ("https://", None, 1),
    ],
)
def test_only_builtin_and_http_data_are_linkable(
    raw: str, expected: str | None, notices: int
) -> None:
    config = read_link({"data": raw})
    assert config.data == expected
    assert len(config.notices) == notices


@pytest.mark.parametrize(
    ("raw", "expected", "notices"),
    [
        ("1", True, 0),
        ("true", True, 0),
        ("TRUE", True, 0),
        ("0", False, 0),
        ("false", False, 0),
        ("maybe", False, 1),
    ],
)
def test_presenter_flag(raw: str, expected: bool, notices: int) -> None:
    config = read_link({"presenter": raw})
    assert config.presenter is expected
    assert len(config.notices) == notices


def test_repeated_parameters_use_the_last_value_and_unknown_ones_are_ignored() -> None:
    config = read_link({"epochs": ["3", "4"], "embed": "true", "utm_source": "x"})
    assert config.hyperparams.epochs == 4
    assert config.notices == ()


@settings(deadline=None)  # the machine may be busy; timing is not the point
@given(st.dictionaries(st.sampled_from([*LINK_PARAMS, "other"]), st.text(max_size=12)))
def test_reading_never_raises(query: dict[str, str]) -> None:
    config = read_link(query)
    assert isinstance(config.hyperparams, Hyperparams)
    assert all(isinstance(n, str) and n for n in config.notices)


def test_to_query_writes_every_setting_compactly() -> None:
    config = LinkConfig(
        hyperparams=Hyperparams(learning_rate=0.25, val_split=0.1),
        preset="coding-train",
        data="builtin",
        presenter=True,
    )
    query = to_query(config)
    assert query == {
        "preset": "coding-train",
        "epochs": "10",
        "batch_size": "32",
        "learning_rate": "0.25",
        "hidden_units": "16",
        "activation": "sigmoid",
        "optimizer": "sgd",
        "val_split": "0.1",
        "seed": "0",
        "patience": "0",
        "pace": "live",
        "data": "builtin",
        "presenter": "1",
    }
    assert format_value(0.0001) == "0.0001"
    assert format_value(3.0) == "3"
    plain = to_query(LinkConfig())
    assert "preset" not in plain and "data" not in plain and "presenter" not in plain
    assert set(plain) == {p.name for p in PARAMS}


def _hyperparams() -> st.SearchStrategy[Hyperparams]:
    values = {}
    for param in PARAMS:
        if param.kind is str:
            values[param.name] = st.sampled_from(param.choices)
        elif param.kind is int:
            values[param.name] = st.integers(int(param.minimum), int(param.maximum))
        else:
            values[param.name] = st.floats(param.minimum, param.maximum)
    return st.builds(Hyperparams, **values)


@settings(deadline=None)  # the machine may be busy; timing is not the point
@given(
    _hyperparams(),
    st.sampled_from([None, *PRESETS]),
    st.sampled_from([None, "builtin", "https://example.org/data.json?a=1&b=%20"]),
    st.booleans(),
)
def test_round_trip(hp: Hyperparams, preset: str | None, data: str | None, presenter: bool) -> None:
    config = LinkConfig(hyperparams=hp, preset=preset, data=data, presenter=presenter)
    assert read_link(to_query(config)) == config
    # Through a real URL query string as well.
    parsed = urllib.parse.parse_qs(to_query_string(config), keep_blank_values=True)
    assert read_link(parsed) == config


@settings(deadline=None)
@given(
    st.sampled_from(["http://", "https://", "http://[", "https://[::1", ""]),
    st.text(alphabet="[]:/%@?#.1fe", max_size=12),
)
def test_a_broken_data_url_in_a_link_is_a_notice_not_a_crash(prefix: str, tail: str) -> None:
    """``?data=http://[::1/`` used to raise ValueError from urlsplit on the page."""
    config = read_link({"data": prefix + tail})
    to_query(config)  # the page writes the link back on every run
    assert config.data is None or config.data == (prefix + tail).strip()
    if config.data is None and (prefix + tail).strip():
        assert any(note.startswith("data:") for note in config.notices)


def test_an_unclosed_ipv6_bracket_is_a_notice() -> None:
    config = read_link({"data": "http://[::1/"})
    assert config.data is None
    assert config.notices == (
        "data: 'http://[::1/' cannot be opened from a link (only builtin or an http(s) URL); "
        "using the default data",
    )


@settings(deadline=None, max_examples=150)
@given(st.dictionaries(st.sampled_from([*LINK_PARAMS, "other"]), st.text(max_size=40)))
def test_link_notices_show_as_plain_text(query: dict[str, str]) -> None:
    """A link's values reach the page's notices; shown through ``plain`` they are never
    Markdown (no phishing link, no image) whatever they hold."""
    from tests.conftest import rendered

    for notice in read_link(query).notices:
        rendered(plain(f"Link: {notice}"))


def test_custom_settings_make_a_link_without_a_preset() -> None:
    from colorclf.core.links import LinkConfig, read_link, to_query

    hp = Hyperparams(epochs=12)
    query = to_query(LinkConfig(hyperparams=hp, preset="custom"))
    assert "preset" not in query and query["epochs"] == "12"
    config = read_link(query)
    assert config.hyperparams == hp and not config.notices
