"""The crowd's own ceiling: how often people name near-identical colours differently, what
accuracy a perfect model could reach on such colours, and a plain nearest-neighbour vote's
validation accuracy as a reference for the runs.

Definitions (both figures are plain counts, so a class can check them by hand):
- *Near-identical colours* are colours in the same RGB cube of ``cell`` levels per channel
  (``cell`` = 8: r // 8, g // 8, b // 8 equal, i.e. within 8 of 256 levels on every channel,
  about what a screen shows as one colour). Only cubes holding two or more colours count.
- *Disagreement*: of all pairs of colours within one cube, the share whose two labels differ.
- *Ceiling*: a perfect model names each cube one way; the best it can do is the cube's most
  common label, so its accuracy on those colours is the sum of each cube's majority count
  over the colours in shared cubes. No model, however good, beats it on such colours.
- *Nearest-neighbour vote*: each validation colour gets the label most common among its
  ``k`` nearest training colours (Euclidean RGB distance; a tie of distances goes to the
  earlier training row, a tie of votes to the label first in ``LABELS``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from colorclf.core.dataset import ColorDataset, stratified_split
from colorclf.core.labels import NUM_LABELS
from colorclf.core.text import count

NEAR_CELL = 8  # RGB levels per cube edge of "near-identical"
NEIGHBOURS = 21  # k of the reference vote (on the crowd data, 20 % split, seed 0: 0.790)
MAX_DISTANCES = 2_000_000  # distances per chunk (16 MB of int64)
MAX_PAIRS = 50_000_000  # validation × training pairs at most (~5 s); beyond, a seeded sample


@dataclass(frozen=True)
class Agreement:
    """How the crowd agrees on near-identical colours (see the module's definitions)."""

    cell: int
    colours: int  # in the data set
    shared_colours: int  # in cubes with at least two colours
    groups: int  # such cubes
    split_groups: int  # such cubes whose colours carry more than one label
    pairs: int  # pairs of colours within one cube
    disagreement: float | None  # share of those pairs with different labels
    ceiling: float | None  # majority-label accuracy on the shared colours


def cube_side(cell: int) -> int:
    """Cubes per channel when each holds ``cell`` of the 256 levels (the last may be smaller)."""
    return -(-256 // max(int(cell), 1))


def cube_keys(rgb: np.ndarray, cell: int) -> np.ndarray:
    """Each colour's cube as one number: (r // cell · side + g // cell) · side + b // cell."""
    cell = max(int(cell), 1)
    side = cube_side(cell)
    cube = np.asarray(rgb, dtype=np.int64).reshape(-1, 3) // cell
    return (cube[:, 0] * side + cube[:, 1]) * side + cube[:, 2]


def crowd_agreement(dataset: ColorDataset, cell: int = NEAR_CELL) -> Agreement:
    """Disagreement and ceiling of ``dataset`` for cubes of ``cell`` RGB levels."""
    cell = max(int(cell), 1)
    _, group = np.unique(cube_keys(dataset.rgb, cell), return_inverse=True)
    counts = np.zeros((int(group.max(initial=-1)) + 1, NUM_LABELS), dtype=np.int64)
    np.add.at(counts, (group.reshape(-1), np.asarray(dataset.label, dtype=np.int64)), 1)
    sizes = counts.sum(axis=1)
    shared = counts[sizes >= 2]
    shared_sizes = sizes[sizes >= 2]
    pairs = int((shared_sizes * (shared_sizes - 1) // 2).sum())
    same = int((shared * (shared - 1) // 2).sum())
    colours = int(shared_sizes.sum())
    return Agreement(
        cell=cell,
        colours=len(dataset),
        shared_colours=colours,
        groups=len(shared),
        split_groups=int(((shared > 0).sum(axis=1) > 1).sum()),
        pairs=pairs,
        disagreement=(pairs - same) / pairs if pairs else None,
        ceiling=int(shared.max(axis=1).sum()) / colours if colours else None,
    )


def agreement_caption(agreement: Agreement) -> str:
    """The explorer's plain-text sentence about the crowd's ceiling."""
    if agreement.disagreement is None or agreement.ceiling is None:
        return (
            "No two colours here are near-identical (in one cube of "
            f"{agreement.cell}×{agreement.cell}×{agreement.cell} RGB levels), so there is "
            "nothing to say about how people disagree."
        )
    return (
        f"People disagree: {agreement.shared_colours:,} colours share a cube of "
        f"{agreement.cell}×{agreement.cell}×{agreement.cell} RGB levels with another colour "
        f"(near-identical on screen), in {count(agreement.groups, 'cube')}; "
        f"{agreement.split_groups:,} of those got more than one name, and two "
        f"near-identical colours got different names in {agreement.disagreement:.0%} of "
        f"{count(agreement.pairs, 'pair')}. A perfect model names each cube one way, so it "
        f"could get at most {agreement.ceiling:.1%} of these colours right (each cube's most "
        "common label): that is the crowd's own ceiling."
    )


def nearest_neighbour_labels(
    train_rgb: np.ndarray, train_label: np.ndarray, rgb: np.ndarray, k: int = NEIGHBOURS
) -> np.ndarray:
    """The label index the ``k`` nearest training colours vote for, per row of ``rgb``."""
    train = np.asarray(train_rgb, dtype=np.int64).reshape(-1, 3)
    labels = np.asarray(train_label, dtype=np.int64)
    queries = np.asarray(rgb, dtype=np.int64).reshape(-1, 3)
    n = len(train)
    if n == 0:
        return np.zeros(len(queries), dtype=np.int64)
    k = min(max(int(k), 1), n)
    # Distance and row in one integer: a tie of distances goes to the earlier training row.
    order = np.arange(n, dtype=np.int64)
    rows_per_chunk = max(1, MAX_DISTANCES // n)
    out = np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), rows_per_chunk):
        chunk = queries[start : start + rows_per_chunk]
        distance = ((chunk[:, None, :] - train[None, :, :]) ** 2).sum(axis=2)
        ranked = distance * n + order
        nearest = np.argpartition(ranked, k - 1, axis=1)[:, :k] if k < n else ranked.argsort(1)
        votes = np.zeros((len(chunk), NUM_LABELS), dtype=np.int64)
        np.add.at(votes, (np.repeat(np.arange(len(chunk)), k), labels[nearest].ravel()), 1)
        out[start : start + len(chunk)] = votes.argmax(axis=1)
    return out


@dataclass(frozen=True)
class Reference:
    """The nearest-neighbour vote's validation accuracy on one data set and split."""

    accuracy: float | None  # None: no validation colours
    k: int
    val_colours: int  # the validation colours scored (a sample when there are very many)
    val_split: float
    seed: int


_CACHE: OrderedDict[tuple[str, float, int, int], Reference] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 32


def fingerprint(dataset: ColorDataset) -> str:
    """The data set's colours and labels as one hash: the same for the same content."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(dataset.rgb, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(dataset.label, dtype=np.int64).tobytes())
    return digest.hexdigest()


def reference_accuracy(
    dataset: ColorDataset, val_split: float, seed: int, k: int = NEIGHBOURS
) -> Reference:
    """The vote's accuracy on the validation colours of the training's own split
    (``stratified_split`` with the same ``val_split`` and ``seed``), computed once per data
    set (by content) and split, and remembered for every session."""
    key = (fingerprint(dataset), float(val_split), int(seed), int(k))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    split = stratified_split(dataset, val_split, seed)
    val = np.asarray(split.val_index)
    train = np.asarray(split.train_index)
    if len(val) * max(len(train), 1) > MAX_PAIRS:  # bounded time on a huge upload
        keep = MAX_PAIRS // max(len(train), 1)
        val = np.sort(np.random.default_rng(seed).choice(val, size=max(keep, 1), replace=False))
    if len(val) == 0 or len(train) == 0:
        reference = Reference(None, k, 0, float(val_split), int(seed))
    else:
        predicted = nearest_neighbour_labels(
            dataset.rgb[train], dataset.label[train], dataset.rgb[val], k
        )
        accuracy = float(np.mean(predicted == np.asarray(dataset.label)[val]))
        reference = Reference(accuracy, k, len(val), float(val_split), int(seed))
    with _CACHE_LOCK:
        _CACHE[key] = reference
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return reference


def reference_row(reference: Reference, data_source: str) -> dict[str, object]:
    """The vote as one line of the runs table, next to the runs (the columns it has)."""
    return {
        "run": f"Nearest-neighbour vote (k={reference.k}, reference)",
        "status": "reference",
        "data": data_source,
        "val_split": reference.val_split,
        "seed": reference.seed,
        "val_accuracy": reference.accuracy,
    }
