"""The crowd's ceiling: disagreement on near-identical colours, the majority-label ceiling and
the nearest-neighbour reference, on small data sets where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from colorclf.core.dataset import ColorDataset, stratified_split
from colorclf.views import ceiling


def dataset(rgb, label) -> ColorDataset:
    rgb = np.asarray(rgb, dtype=np.int64)
    return ColorDataset(
        rgb=rgb,
        label=np.asarray(label, dtype=np.int64),
        contributor=np.array([f"p{i}" for i in range(len(rgb))], dtype=object),
        source="made up",
    )


def test_agreement_on_a_constructed_set_with_known_disagreements() -> None:
    # Cube A (0..7 on every channel): four colours, labels 0, 0, 0, 1.
    # Cube B (200..207): two colours, labels 2 and 5 (a tie).
    # Cube C (96..103): three colours, all label 4.
    # Two lonely colours: far from everything, never counted.
    data = dataset(
        [
            [0, 0, 0], [7, 7, 7], [3, 1, 6], [5, 5, 0],
            [200, 200, 200], [207, 201, 203],
            [96, 96, 96], [97, 103, 96], [100, 100, 100],
            [50, 150, 250], [250, 30, 60],
        ],
        [0, 0, 0, 1, 2, 5, 4, 4, 4, 7, 8],
    )  # fmt: skip
    agreement = ceiling.crowd_agreement(data, cell=8)
    assert agreement.colours == 11
    assert agreement.groups == 3 and agreement.shared_colours == 9
    assert agreement.split_groups == 2  # A and B
    # Pairs: A has 6 (3 disagree), B 1 (disagrees), C 3 (agree): 4 of 10 disagree.
    assert agreement.pairs == 10
    assert agreement.disagreement == pytest.approx(0.4)
    # A perfect model: 3 of A, 1 of B, 3 of C right: 7 of 9.
    assert agreement.ceiling == pytest.approx(7 / 9)
    caption = ceiling.agreement_caption(agreement)
    assert "9 colours" in caption and "40%" in caption and "77.8%" in caption
    # [7, 7, 7] and [8, 8, 8] are in different cubes of 8: the edges are where they should be.
    apart = ceiling.crowd_agreement(dataset([[7, 7, 7], [8, 8, 8]], [0, 1]), cell=8)
    assert apart.groups == 0 and apart.disagreement is None and apart.ceiling is None
    assert "nothing to say" in ceiling.agreement_caption(apart)


def test_full_agreement_has_ceiling_one() -> None:
    data = dataset([[10, 10, 10], [11, 12, 13], [90, 90, 90], [91, 91, 91]], [3, 3, 6, 6])
    agreement = ceiling.crowd_agreement(data)
    assert agreement.disagreement == 0.0 and agreement.ceiling == 1.0


def brute_force_vote(train_rgb, train_label, rgb, k) -> np.ndarray:
    """An independent k-nearest-neighbour vote: a full stable sort per colour."""
    out = []
    for colour in np.asarray(rgb, dtype=float):
        distance = ((np.asarray(train_rgb, dtype=float) - colour) ** 2).sum(axis=1)
        nearest = np.argsort(distance, kind="stable")[:k]
        votes = np.bincount(np.asarray(train_label)[nearest], minlength=9)
        out.append(int(np.argmax(votes)))
    return np.array(out)


def test_reference_equals_an_independent_nearest_neighbour_vote(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    n = 700
    rgb = rng.integers(0, 256, size=(n, 3))
    # Coarse colours (many exact distance ties) and a learnable rule with noise.
    rgb = (rgb // 32) * 32
    label = np.argmax(rgb, axis=1)
    noisy = rng.random(n) < 0.25
    label[noisy] = rng.integers(0, 9, size=int(noisy.sum()))
    data = dataset(rgb, label)
    split = stratified_split(data, 0.2, 3)
    train, val = split.train_index, split.val_index
    expected = brute_force_vote(rgb[train], label[train], rgb[val], 21)
    # Small chunks, so that the chunking is exercised too.
    monkeypatch.setattr(ceiling, "MAX_DISTANCES", 3 * len(train))
    assert (
        ceiling.nearest_neighbour_labels(rgb[train], label[train], rgb[val], 21) == expected
    ).all()
    reference = ceiling.reference_accuracy(data, 0.2, 3)
    assert reference.accuracy == pytest.approx(np.mean(expected == label[val]))
    assert reference.val_colours == len(val) and reference.k == 21
    assert 0.3 < reference.accuracy < 1.0
    # Computed once per data set and split: the same object again, another for another split.
    assert ceiling.reference_accuracy(dataset(rgb, label), 0.2, 3) is reference
    assert ceiling.reference_accuracy(data, 0.2, 4) is not reference
    # k = 1 on a colour that is in the training set: its own label.
    assert (
        ceiling.nearest_neighbour_labels([[1, 2, 3], [200, 0, 0]], [4, 0], [[1, 2, 3]], 1)[0] == 4
    )
