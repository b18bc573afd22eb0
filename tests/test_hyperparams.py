"""The hyperparameter table: ranges, parsing with clamping notices, presets."""

from __future__ import annotations

import math

import pytest

from colorclf.core.errors import ColorclfError
from colorclf.core.hyperparams import (
    DEFAULT_PRESET,
    PARAMS,
    PARAMS_BY_NAME,
    PRESETS,
    Hyperparams,
    preset,
)

NUMERIC = [p for p in PARAMS if p.kind is not str]


def test_table_names_every_field_once() -> None:
    assert [p.name for p in PARAMS] == list(Hyperparams().as_dict())
    assert PARAMS_BY_NAME["batch_size"].flag == "--batch-size"


@pytest.mark.parametrize("param", NUMERIC, ids=lambda p: p.name)
def test_numeric_bounds_are_inclusive(param) -> None:
    low, high = param.kind(param.minimum), param.kind(param.maximum)
    param.check(low)
    param.check(high)
    Hyperparams(**{param.name: low})
    Hyperparams(**{param.name: high})


@pytest.mark.parametrize("param", NUMERIC, ids=lambda p: p.name)
def test_values_outside_the_range_are_rejected(param) -> None:
    step = 1 if param.kind is int else param.minimum / 2
    for value in (param.kind(param.minimum - step), param.kind(param.maximum + step)):
        with pytest.raises(ColorclfError, match=param.name):
            param.check(value)
        with pytest.raises(ColorclfError, match="must be between"):
            Hyperparams(**{param.name: value})


def test_choices_are_checked() -> None:
    with pytest.raises(ColorclfError, match="activation"):
        Hyperparams(activation="softplus")
    with pytest.raises(ColorclfError, match="optimizer"):
        Hyperparams(optimizer="rmsprop")


def test_parse_converts_text() -> None:
    assert PARAMS_BY_NAME["epochs"].parse(" 12 ") == 12
    assert PARAMS_BY_NAME["epochs"].parse("12.0") == 12
    assert PARAMS_BY_NAME["learning_rate"].parse("1e-2") == pytest.approx(0.01)
    assert PARAMS_BY_NAME["activation"].parse("ReLU") == "relu"
    with pytest.raises(ColorclfError, match="whole number"):
        PARAMS_BY_NAME["epochs"].parse("2.5")


def test_from_mapping_reads_valid_text_without_notices() -> None:
    hp, notices = Hyperparams.from_mapping(
        {"epochs": "30", "learning_rate": "0.05", "activation": "TANH", "optimizer": "adam"}
    )
    assert notices == []
    assert (hp.epochs, hp.learning_rate, hp.activation, hp.optimizer) == (30, 0.05, "tanh", "adam")


def test_from_mapping_keeps_the_base_for_text_that_is_not_a_number() -> None:
    base = Hyperparams(epochs=7)
    hp, notices = Hyperparams.from_mapping({"epochs": "abc"}, base=base)
    assert hp.epochs == 7
    assert len(notices) == 1
    assert "epochs" in notices[0] and "not a number" in notices[0] and "kept 7" in notices[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("-5", 1), ("1e9", 200), ("0", 1), ("250", 200)],
)
def test_from_mapping_clamps_out_of_range_numbers_with_a_notice(raw: str, expected: int) -> None:
    hp, notices = Hyperparams.from_mapping({"epochs": raw})
    assert hp.epochs == expected
    assert len(notices) == 1
    assert "epochs" in notices[0] and f"using {expected}" in notices[0]


def test_from_mapping_clamps_floats() -> None:
    hp, notices = Hyperparams.from_mapping({"learning_rate": "100", "val_split": "0.01"})
    assert hp.learning_rate == 10.0
    assert hp.val_split == 0.05
    assert len(notices) == 2


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "NaN"])
def test_from_mapping_rejects_non_finite_numbers(raw: str) -> None:
    hp, notices = Hyperparams.from_mapping({"learning_rate": raw, "epochs": raw})
    assert hp.learning_rate == Hyperparams().learning_rate
    assert hp.epochs == Hyperparams().epochs
    assert math.isfinite(hp.learning_rate)
    assert len(notices) == 2
    assert all("finite" in n for n in notices)


def test_from_mapping_ignores_unknown_names_and_none() -> None:
    hp, notices = Hyperparams.from_mapping({"colour": "red", "layers": "9", "epochs": None})
    assert hp == Hyperparams()
    assert notices == []


def test_from_mapping_notices_a_bad_choice() -> None:
    hp, notices = Hyperparams.from_mapping({"activation": "swish"})
    assert hp.activation == "sigmoid"
    assert len(notices) == 1 and "activation" in notices[0]


def test_coding_train_preset_is_the_tutorial() -> None:
    hp = preset("coding-train")
    assert DEFAULT_PRESET == "coding-train"
    assert hp == Hyperparams()
    assert hp.hidden_units == 16
    assert hp.activation == "sigmoid"
    assert hp.optimizer == "sgd"
    assert hp.learning_rate == 0.25
    assert hp.epochs == 10
    assert hp.batch_size == 32
    assert hp.val_split == 0.1


def test_presets_are_valid_and_distinct() -> None:
    assert set(PRESETS) >= {"coding-train", "tuned"}
    assert preset("tuned") != preset("coding-train")
    for hp in PRESETS.values():
        Hyperparams(**hp.as_dict())  # validates


def test_unknown_preset_is_a_user_error() -> None:
    with pytest.raises(ColorclfError, match="unknown preset"):
        preset("fast")


def test_replace_validates() -> None:
    assert Hyperparams().replace(epochs=3).epochs == 3
    with pytest.raises(ColorclfError):
        Hyperparams().replace(batch_size=0)


def test_preset_name_of_names_exact_presets_only() -> None:
    from colorclf.core.hyperparams import CUSTOM, PRESETS, preset_name_of

    for name, settings in PRESETS.items():
        assert preset_name_of(settings) == name
    assert preset_name_of(PRESETS["tuned"].replace(epochs=31)) == CUSTOM == "custom"
    assert CUSTOM not in PRESETS


def test_a_runs_file_stem_names_its_number_and_preset() -> None:
    from colorclf.core.hyperparams import PRESETS
    from colorclf.core.runs import Run

    assert Run(3, PRESETS["coding-train"], "x").file_stem == "colorclf-run3-coding-train"
    assert Run(1, PRESETS["tuned"], "x").file_stem == "colorclf-run1-tuned"
    assert Run(2, PRESETS["tuned"].replace(seed=5), "x").file_stem == "colorclf-run2-custom"
