"""The built-in synthetic data set: deterministic, balanced like the crowd, named sensibly."""

from __future__ import annotations

import re

import numpy as np
import pytest

from colorclf.core import colour
from colorclf.core.labels import LABELS, NUM_LABELS
from colorclf.data import builtin
from colorclf.data.builtin import CROWD_COUNTS, builtin_dataset, generate, name_colors


def test_same_seed_same_data() -> None:
    a = generate(n=1500, seed=3)  # uncached: two calls really generate twice
    b = generate(n=1500, seed=3)
    assert a is not b
    assert np.array_equal(a.rgb, b.rgb)
    assert np.array_equal(a.label, b.label)
    assert a.contributor.tolist() == b.contributor.tolist()


def test_different_seed_different_data() -> None:
    a = generate(n=1500, seed=3)
    b = generate(n=1500, seed=4)
    assert not np.array_equal(a.rgb, b.rgb)
    assert not np.array_equal(a.label, b.label)


def test_cached_per_n_and_seed() -> None:
    assert builtin_dataset() is builtin_dataset(5600, 0)
    with pytest.raises(ValueError):  # shared between sessions: read-only
        builtin_dataset().rgb[0, 0] = 1
    assert builtin_dataset(n=800, seed=1) is builtin_dataset(800, 1)
    assert builtin_dataset(n=800, seed=1) is not builtin_dataset(n=800, seed=2)


def test_default_shape_source_and_types() -> None:
    ds = builtin_dataset()
    assert len(ds) == 5600
    assert ds.rgb.shape == (5600, 3)
    assert ds.rgb.dtype == np.uint8
    assert ds.source == "built-in synthetic set"
    assert builtin_dataset(n=500, seed=7).source == "built-in synthetic set (generator seed 7)"
    assert ds.skipped == {}


def test_class_shares_match_the_crowd() -> None:
    ds = builtin_dataset()
    crowd_total = sum(CROWD_COUNTS.values())
    counts = ds.label_counts()
    assert all(counts[name] > 0 for name in LABELS)
    for name in LABELS:
        share = counts[name] / len(ds)
        crowd_share = CROWD_COUNTS[name] / crowd_total
        assert abs(share - crowd_share) < 0.02, name
    assert counts["green-ish"] > counts["blue-ish"] > counts["purple-ish"] > counts["grey-ish"]


@pytest.mark.parametrize("n", [1, 9, 10, 101])
def test_small_sizes_are_exact(n: int) -> None:
    ds = generate(n=n, seed=0)
    assert len(ds) == n
    if n >= 100:  # below that the rarest labels round down to none
        assert set(ds.label.tolist()) == set(range(NUM_LABELS))


def test_rejects_empty() -> None:
    with pytest.raises(ValueError):
        builtin_dataset(n=0)


def test_many_contributors_with_synthetic_ids() -> None:
    ds = builtin_dataset()
    ids = ds.contributor.tolist()
    assert all(re.fullmatch(r"synthetic-\d{3}", uid) for uid in ids)
    assert 100 <= ds.contributor_count() <= 150
    _, per_person = np.unique(ds.contributor.astype(str), return_counts=True)
    assert per_person.max() < 0.25 * len(ds)  # nobody answers everything
    assert per_person.max() > 5 * np.median(per_person)  # but some answer far more than most


def test_labels_follow_the_rule_with_some_noise() -> None:
    ds = builtin_dataset()
    agree = name_colors(ds.rgb) == ds.label
    assert 0.75 < agree.mean() < 0.97
    # The balance comes from choosing colours, not relabelling: every label's rows are
    # mostly colours the rule itself gives that label.
    for k, name in enumerate(LABELS):
        assert agree[ds.label == k].mean() > 0.6, name


def test_colours_cover_the_cube() -> None:
    rgb = builtin_dataset().rgb.astype(int)
    assert rgb.min() <= 3 and rgb.max() >= 252
    for channel in range(3):
        assert 90 < rgb[:, channel].mean() < 165


@pytest.mark.parametrize(
    ("rgb", "expected"),
    [
        ((255, 0, 0), "red-ish"),
        ((0, 255, 0), "green-ish"),
        ((0, 0, 255), "blue-ish"),
        ((128, 128, 128), "grey-ish"),
        ((139, 69, 19), "brown-ish"),  # saddle brown
        ((255, 192, 203), "pink-ish"),  # pink
        ((128, 0, 128), "purple-ish"),  # purple
        ((255, 165, 0), "orange-ish"),  # orange
        ((255, 255, 0), "yellow-ish"),
        ((0, 0, 0), "grey-ish"),
        ((255, 255, 255), "grey-ish"),
        ((255, 20, 147), "pink-ish"),  # deep pink
        ((75, 0, 130), "purple-ish"),  # indigo
        ((128, 128, 0), "green-ish"),  # olive: people call it green, not yellow
        ((0, 128, 128), "blue-ish"),  # teal
        ((160, 82, 45), "brown-ish"),  # sienna
    ],
)
def test_rule_names_well_known_colours(rgb: tuple[int, int, int], expected: str) -> None:
    assert LABELS[int(name_colors(np.array([rgb]))[0])] == expected


def test_rule_is_vectorised_and_total() -> None:
    grid = np.stack(np.meshgrid(*[np.arange(0, 256, 15)] * 3, indexing="ij"), -1).reshape(-1, 3)
    names = name_colors(grid)
    assert names.shape == (len(grid),)
    assert names.min() >= 0 and names.max() < NUM_LABELS
    assert set(names.tolist()) == set(range(NUM_LABELS))
    greys = np.repeat(np.arange(256)[:, None], 3, axis=1)
    assert (name_colors(greys) == LABELS.index("grey-ish")).all()


def test_hsv_matches_colorsys() -> None:
    import colorsys

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (200, 3))
    hue, sat, val, _ = colour.hsv(rgb)
    for i in range(len(rgb)):
        h, s, v = colorsys.rgb_to_hsv(*(rgb[i] / 255))
        assert hue[i] == pytest.approx(h * 360, abs=1e-9) or (h == 0 and hue[i] == 0)
        assert sat[i] == pytest.approx(s)
        assert val[i] == pytest.approx(v)


def test_docstring_says_synthetic() -> None:
    assert builtin.__doc__ is not None
    assert "SYNTHETIC" in builtin.__doc__
