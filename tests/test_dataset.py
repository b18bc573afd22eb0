"""The data set's split sizes and the warning for a data set too small to train on."""

from __future__ import annotations

import numpy as np
import pytest

from colorclf.core.dataset import (
    MIN_COLOURS,
    MIN_VALIDATION_COLOURS,
    ColorDataset,
    data_warning,
    stratified_split,
    validation_size,
)
from colorclf.core.labels import LABELS


def dataset(labels: list[int], people: int = 1) -> ColorDataset:
    n = len(labels)
    return ColorDataset(
        rgb=np.random.default_rng(0).integers(0, 256, (n, 3)),
        label=np.array(labels),
        contributor=np.array([f"p{i % people}" for i in range(n)], dtype=object),
    )


@pytest.mark.parametrize("n", [0, 1, 2, 9, 10, 37, 150, 1000])
@pytest.mark.parametrize("fraction", [0.05, 0.1, 0.33, 0.5])
def test_validation_size_is_what_the_split_holds_out(n: int, fraction: float) -> None:
    labels = np.random.default_rng(n).integers(0, 9, n).tolist()
    data = dataset(labels)
    assert validation_size(data, fraction) == len(stratified_split(data, fraction, 3).val_index)


def test_ten_votes_from_one_phone_get_a_warning_that_says_why() -> None:
    # 10 votes on 5 labels, 2 each: the split holds out one of each label.
    ten = dataset([0, 0, 1, 1, 2, 2, 4, 4, 8, 8])
    message = data_warning(ten, 0.1)
    assert message == (
        "Too little data to train meaningfully: only 10 colours (aim for 100 or more); "
        "a validation set of 5 colours, so one colour moves the validation accuracy by 20 "
        "points; no colours labelled orange-ish, pink-ish, purple-ish, brown-ish (the model "
        "cannot learn them)."
    )


def test_big_enough_data_gets_no_warning() -> None:
    labels = [i % 9 for i in range(2 * MIN_VALIDATION_COLOURS * 10)]  # 400: 40 validation
    assert data_warning(dataset(labels), 0.1) is None


def test_each_reason_on_its_own() -> None:
    # Enough colours but a small validation share.
    labels = [i % 9 for i in range(MIN_COLOURS + 50)]
    assert "a validation set of 9 colours" in data_warning(dataset(labels), 0.05)
    # Plenty of colours, every label but one.
    labels = [i % 8 for i in range(2000)]
    only = data_warning(dataset(labels), 0.1)
    assert only == (
        "Too little data to train meaningfully: no colours labelled grey-ish (the model cannot "
        "learn it)."
    )
    assert LABELS[8] == "grey-ish"
    # One colour: nothing to validate on.
    assert data_warning(dataset([3]), 0.1) == (
        "Too little data to train meaningfully: only 1 colour (aim for 100 or more); no "
        "validation colours, so nothing checks the model; no colours labelled red-ish, "
        "green-ish, blue-ish, yellow-ish, pink-ish, purple-ish, brown-ish, grey-ish (the model "
        "cannot learn them)."
    )
