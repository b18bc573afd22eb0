"""The crowd beside the model: what people said for colours near the one asked.

*Near* is the asked colour's RGB cube of ``CROWD_CELL`` = 32 levels a side (the RGB cube cut
into 8×8×8 = 512 cubes), indexed as the crowd's-ceiling view indexes its cubes
(``ceiling.cube_keys``). The ceiling's own cubes (8 levels a side, 32,768 of them) hold 0.17
colours on average in the built-in and in the community's 5,643 colours, so no colour at
all had 5 votes in its cube; in cubes of 32 levels the median colour has 11 votes and 98–99 %
have at least ``MIN_VOTES`` (measured on both). Fewer than ``MIN_VOTES`` votes:
"Too few votes near this colour".

The page sends ``crowd_table`` to the browser once per data set and the sliders look a
colour up there as they move (``app/ask_widget/ask.js`` mirrors ``crowd_votes`` and the
texts below; the browser test checks they agree).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS, NUM_LABELS
from colorclf.views.ceiling import cube_keys, cube_side

CROWD_CELL = 32  # RGB levels per cube edge: 8×8×8 cubes
MIN_VOTES = 5  # fewer votes in a cube say nothing about what people call it
SHOWN_LABELS = 3  # names in the sentence; the bar shows all of them
TOO_FEW = "Too few votes near this colour"
_SIDE = cube_side(CROWD_CELL)
NEIGHBOURHOOD = (
    f"What people said: the data's votes in this colour's RGB cube ({CROWD_CELL} levels a "
    f"side, one of {_SIDE}×{_SIDE}×{_SIDE})"
)


def crowd_table(dataset: ColorDataset, cell: int = CROWD_CELL) -> dict[str, Any]:
    """Every cube's votes per label, compact for the browser: ``counts`` holds side³ × 9
    whole numbers, cube by cube in ``cube_keys`` order, each cube's nine in label order
    (4,608 numbers for 32-level cubes, whatever the data set's size)."""
    side = cube_side(cell)
    counts = np.zeros((side**3, NUM_LABELS), dtype=np.int64)
    np.add.at(counts, (cube_keys(dataset.rgb, cell), np.asarray(dataset.label, np.int64)), 1)
    return {
        "cell": int(cell),
        "side": side,
        "min_votes": MIN_VOTES,
        "counts": counts.ravel().tolist(),
        "neighbourhood": NEIGHBOURHOOD,
        "too_few": TOO_FEW,
    }


def crowd_votes(table: dict[str, Any], rgb: tuple[int, int, int]) -> list[int]:
    """The nine label counts in ``rgb``'s cube."""
    (key,) = cube_keys(np.array([rgb]), table["cell"])
    start = int(key) * NUM_LABELS
    return [int(c) for c in table["counts"][start : start + NUM_LABELS]]


def percent(part: int, total: int) -> int:
    """``part``/``total`` in whole percent, halves rounded up (in integers, as ask.js does)."""
    return (200 * part + total) // (2 * total)


def describe_crowd(votes: list[int]) -> str:
    """E.g. "41 votes for colours like this: orange-ish 61 %, brown-ish 29 %, red-ish 10 %"
    (the most voted names first, a tie in label order), or ``TOO_FEW``."""
    total = sum(votes)
    if total < MIN_VOTES:
        return TOO_FEW
    ranked = sorted((i for i in range(NUM_LABELS) if votes[i]), key=lambda i: -votes[i])
    shares = ", ".join(f"{LABELS[i]} {percent(votes[i], total)} %" for i in ranked[:SHOWN_LABELS])
    return f"{total} votes for colours like this: {shares}"


def disagreement(model_label: str, votes: list[int]) -> str | None:
    """ "The model says X, most people said Y." when the crowd (with enough votes) gave
    another name more often than the model's; None otherwise."""
    if sum(votes) < MIN_VOTES:
        return None
    top = max(votes)
    if votes[LABELS.index(model_label)] == top:
        return None
    return f"The model says {model_label}, most people said {LABELS[votes.index(top)]}."
