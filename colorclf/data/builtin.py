"""The built-in data set: SYNTHETIC colour labels, made offline from a model of how people
name colours.

It is not the Coding Train's crowd data and contains no one's answers. It is generated, the
same way every time for the same seed, so the app can train something sensible without a
download. How it is made:

1. **Colours.** Random RGB colours, uniform over the cube, like the random swatches the
   Coding Train's page showed to its visitors.
2. **A naming rule** (``name_colors``), written by hand from the colour wheel and tuned
   against what people answered in the crowd data (no crowd answer is stored here):

   - *grey-ish*: almost no colour in it (max − min of r, g, b below about 13 % of full
     scale) or almost black;
   - otherwise the **hue** (HSV, 0–360°) picks a band: red (≥ 338° or < 12°), orange
     (12–42°), yellow (42–66°), green (66–168°), blue (168–255°), purple (255–338°);
   - *brown-ish*: red, orange or dark-yellow hues that are **dark** (low value) or, for
     orange, greyed;
   - dark yellow (olive) is called *green-ish*; yellow next to green only stays yellow
     when it is bright;
   - *pink-ish*: **light, desaturated reds** and **bright or pale magentas**; dark and
     blue-leaning magentas stay *purple-ish*.
3. **People differ.** About 150 simulated contributors (``synthetic-000`` …), each with
   their own slightly shifted hue boundaries and lightness thresholds, and their own
   rate of careless answers (a random label instead of the rule's), mostly a few per cent.
   Some contributors answer many colours, most answer a few, as in the crowd.
4. **Class balance.** The crowd's answers were 28 % green-ish, 22 % blue-ish, 15 %
   purple-ish, 9 % pink-ish, 7 % red-ish, 6 % brown-ish, 5 % yellow-ish, 5 % orange-ish,
   4 % grey-ish. The generator labels a larger pool of random colours and keeps, per
   label, just as many as that balance asks for (rejection sampling). Labels are never
   changed to reach the balance; only which colours are kept.

How close is it to people? The rule alone, applied to the crowd's colours, agrees with
77 % of their answers. The tutorial's network trained only on this synthetic set names
71–73 % of the real crowd's colours as the crowd did; a larger network about 76 % (measured
with ``bench/calibrate_builtin.py``). Models trained on it are a fair stand-in for the real
data, but they learn this rule, not the crowd's quirks.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from colorclf.core.colour import hsv
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS, NUM_LABELS

RED, GREEN, BLUE, ORANGE, YELLOW, PINK, PURPLE, BROWN, GREY = range(NUM_LABELS)
assert LABELS[BROWN] == "brown-ish" and LABELS[GREY] == "grey-ish"

# The crowd's label counts (5,643 answers); the built-in set keeps these shares.
CROWD_COUNTS: dict[str, int] = {
    "red-ish": 412,
    "green-ish": 1599,
    "blue-ish": 1218,
    "orange-ish": 259,
    "yellow-ish": 275,
    "pink-ish": 511,
    "purple-ish": 823,
    "brown-ish": 319,
    "grey-ish": 227,
}

NUM_CONTRIBUTORS = 150
# Hue boundaries in degrees (HSV hue): where one band ends and the next begins.
RED_ORANGE = 12.0
ORANGE_YELLOW = 42.0
YELLOW_GREEN = 66.0
GREEN_BLUE = 168.0
BLUE_PURPLE = 255.0
PURPLE_RED = 338.0
# Chroma (max − min of r, g, b, 0..1) below which a colour is grey; value below which black.
GREY_CHROMA = 0.13
BLACK_VALUE = 0.15


def _name(
    rgb: np.ndarray, hue_shift: np.ndarray | float = 0.0, value_shift: np.ndarray | float = 0.0
) -> np.ndarray:
    """The naming rule, with a person's hue boundaries moved by ``hue_shift`` degrees and
    lightness thresholds by ``value_shift`` (both 0 for the noise-free rule)."""
    hue, sat, val, chroma = hsv(rgb)
    h = np.mod(hue + hue_shift, 360.0)
    v = val - value_shift
    grey = (chroma < GREY_CHROMA) | (val < BLACK_VALUE)

    red_band = (h >= PURPLE_RED) | (h < RED_ORANGE)
    orange_band = (h >= RED_ORANGE) & (h < ORANGE_YELLOW)
    yellow_band = (h >= ORANGE_YELLOW) & (h < YELLOW_GREEN)
    green_band = (h >= YELLOW_GREEN) & (h < GREEN_BLUE)
    blue_band = (h >= GREEN_BLUE) & (h < BLUE_PURPLE)
    purple_band = (h >= BLUE_PURPLE) & (h < PURPLE_RED)

    conditions = [
        grey,
        # Reds: dark → brown, light and pale → pink.
        red_band & (v < 0.55),
        red_band & (sat < 0.5) & (v >= 0.7),
        red_band,
        # Oranges: dark or greyed → brown.
        orange_band & ((v < 0.7) | (sat < 0.45)),
        orange_band,
        # Yellows: dark → brown (orange side) or olive green (green side).
        yellow_band & (v < 0.6) & (h < 50.0),
        yellow_band & ((v < 0.6) | ((h >= 58.0) & (v < 0.8))),
        yellow_band,
        green_band,
        blue_band,
        # Magentas: bright, pale, or close to red → pink; the rest purple.
        purple_band
        & (h >= 295.0)
        & ((v >= 0.8) | ((sat < 0.45) & (v >= 0.5)) | ((h >= 318.0) & (v >= 0.6))),
        purple_band,
    ]
    choices = [
        GREY, BROWN, PINK, RED, BROWN, ORANGE, BROWN, GREEN, YELLOW, GREEN, BLUE, PINK, PURPLE,
    ]  # fmt: skip
    return np.select(conditions, choices, default=GREY).astype(np.int64)


def name_colors(rgb: np.ndarray) -> np.ndarray:
    """Label indices (into ``LABELS``) the noise-free naming rule gives n×3 RGB (0..255)."""
    return _name(rgb)


def _target_counts(n: int) -> np.ndarray:
    """``n`` split over the labels in the crowd's proportions (largest remainder)."""
    crowd = np.array([CROWD_COUNTS[name] for name in LABELS], dtype=np.float64)
    exact = crowd / crowd.sum() * n
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - int(counts.sum())]] += 1
    return counts


BUILTIN_SOURCE = "built-in synthetic set"


def builtin_source(seed: int) -> str:
    """The data set's name on the page: "built-in synthetic set". Its generator seed is
    named only when it is not the one the page and the command line use (0): it is fixed,
    and a summary saying "seed 0" read as the training's Seed setting (after a link with
    ``?seed=7`` it still said "seed 0", which was true of the data and misleading)."""
    return BUILTIN_SOURCE if seed == 0 else f"{BUILTIN_SOURCE} (generator seed {seed})"


def builtin_dataset(n: int = 5600, seed: int = 0) -> ColorDataset:
    """``n`` synthetic labelled colours, the same for the same ``seed`` (see the module doc).

    Cached per (n, seed): the returned data set is shared, so do not modify its arrays.
    """
    return _cached(int(n), int(seed))


def generate(n: int, seed: int) -> ColorDataset:
    """The uncached generator behind ``builtin_dataset``."""
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = np.random.default_rng(seed)
    # Contributors: personal boundaries, noise rates and how much each one answers.
    hue_shift = rng.normal(0.0, 5.0, NUM_CONTRIBUTORS)
    value_shift = rng.normal(0.0, 0.04, NUM_CONTRIBUTORS)
    noise_rate = np.clip(rng.beta(1.2, 20.0, NUM_CONTRIBUTORS), 0.0, 0.5)
    activity = rng.pareto(1.2, NUM_CONTRIBUTORS) + 0.2
    activity /= activity.sum()
    ids = np.array([f"synthetic-{i:03d}" for i in range(NUM_CONTRIBUTORS)], dtype=object)

    target = _target_counts(n)
    kept: list[list[np.ndarray]] = [[] for _ in range(NUM_LABELS)]
    have = np.zeros(NUM_LABELS, dtype=np.int64)
    batch = min(max(4 * n, 1000), 1_000_000)
    while (have < target).any():
        rgb = rng.integers(0, 256, size=(batch, 3), dtype=np.int64)
        who = rng.choice(NUM_CONTRIBUTORS, size=batch, p=activity)
        label = _name(rgb, hue_shift[who], value_shift[who])
        careless = rng.random(batch) < noise_rate[who]
        label = np.where(careless, rng.integers(0, NUM_LABELS, batch), label)
        for k in range(NUM_LABELS):
            need = int(target[k] - have[k])
            if need <= 0:
                continue
            rows = np.flatnonzero(label == k)[:need]
            kept[k].append(np.column_stack([rgb[rows], who[rows], np.full(len(rows), k)]))
            have[k] += len(rows)

    table = np.concatenate([part for parts in kept for part in parts])
    table = table[rng.permutation(len(table))]
    dataset = ColorDataset(
        rgb=table[:, :3].astype(np.uint8),
        label=table[:, 4],
        contributor=ids[table[:, 3]],
        skipped={},
        source=builtin_source(seed),
    )
    for array in (dataset.rgb, dataset.label, dataset.contributor):
        array.flags.writeable = False  # the cached copy is shared by every session
    return dataset


_cached = lru_cache(maxsize=8)(generate)
