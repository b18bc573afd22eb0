"""The one data set type every source produces, and the seeded, stratified split."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from colorclf.core.labels import LABELS, NUM_LABELS
from colorclf.core.text import count


@dataclass(frozen=True, eq=False)
class ColorDataset:
    """Labelled colours: ``rgb`` (n×3 uint8), ``label`` (n label indices), ``contributor`` (n ids).

    ``skipped`` counts rows the loader dropped, per reason; ``source`` says where it came from.
    """

    rgb: np.ndarray
    label: np.ndarray
    contributor: np.ndarray
    skipped: dict[str, int] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        rgb = np.asarray(self.rgb, dtype=np.uint8).reshape(-1, 3)
        label = np.asarray(self.label, dtype=np.int64).reshape(-1)
        contributor = np.asarray(self.contributor, dtype=object).reshape(-1)
        if not (len(rgb) == len(label) == len(contributor)):
            raise ValueError("rgb, label and contributor must have the same length")
        if len(label) and (label.min() < 0 or label.max() >= NUM_LABELS):
            raise ValueError("label indices must be in 0..8")
        object.__setattr__(self, "rgb", rgb)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "contributor", contributor)

    def __len__(self) -> int:
        return len(self.label)

    @property
    def label_names(self) -> list[str]:
        return [LABELS[i] for i in self.label]

    def label_counts(self) -> dict[str, int]:
        counts = np.bincount(self.label, minlength=NUM_LABELS)
        return {name: int(c) for name, c in zip(LABELS, counts, strict=True)}

    def contributor_count(self) -> int:
        return len(set(self.contributor.tolist()))

    def subset(self, mask_or_index: np.ndarray, *, source: str | None = None) -> ColorDataset:
        return ColorDataset(
            rgb=self.rgb[mask_or_index],
            label=self.label[mask_or_index],
            contributor=self.contributor[mask_or_index],
            skipped=dict(self.skipped),
            source=self.source if source is None else source,
        )

    def features(self) -> np.ndarray:
        """Model inputs: r/255, g/255, b/255 as float32 (the scaling the JS sketch forgot)."""
        return scale_rgb(self.rgb)

    def one_hot(self) -> np.ndarray:
        return np.eye(NUM_LABELS, dtype=np.float32)[self.label]


def scale_rgb(rgb: np.ndarray) -> np.ndarray:
    """The one input scaling used in training and prediction alike."""
    return np.asarray(rgb, dtype=np.float32).reshape(-1, 3) / np.float32(255.0)


@dataclass(frozen=True)
class Split:
    """Training and validation arrays ready for Keras, plus the row indices they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray


def stratified_split(dataset: ColorDataset, val_fraction: float, seed: int) -> Split:
    """Hold out ``val_fraction`` of every label, chosen by a seeded generator.

    Not Keras' ``validation_split``: that holds out the *last* rows, which in the crowd data
    are the last contributors only.
    """
    rng = np.random.default_rng(seed)
    val_parts: list[np.ndarray] = []
    train_parts: list[np.ndarray] = []
    for label in range(NUM_LABELS):
        rows = np.flatnonzero(dataset.label == label)
        rows = rows[rng.permutation(len(rows))]
        n_val = _label_validation_size(len(rows), val_fraction)
        val_parts.append(rows[:n_val])
        train_parts.append(rows[n_val:])
    val_index = np.sort(np.concatenate(val_parts)) if val_parts else np.array([], dtype=np.int64)
    train_index = np.sort(np.concatenate(train_parts))
    x = dataset.features()
    y = dataset.one_hot()
    return Split(
        x_train=x[train_index],
        y_train=y[train_index],
        x_val=x[val_index],
        y_val=y[val_index],
        train_index=train_index,
        val_index=val_index,
    )


def _label_validation_size(rows: int, val_fraction: float) -> int:
    """How many of one label's ``rows`` colours ``stratified_split`` holds out: the share,
    at least one and never all (none of a label with fewer than two)."""
    if rows < 2:
        return 0
    return min(max(round(rows * val_fraction), 1), rows - 1)


def validation_size(dataset: ColorDataset, val_fraction: float) -> int:
    """The number of validation colours ``stratified_split`` will hold out (any seed)."""
    counts = np.bincount(dataset.label, minlength=NUM_LABELS)
    return sum(_label_validation_size(int(c), val_fraction) for c in counts)


# Below these a training says little. With fewer than 20 validation colours one colour moves
# the validation accuracy by more than 5 points (10 votes at the default 10 % split: 3 colours,
# 33 points each); 100 colours are about 11 per label.
MIN_COLOURS = 100
MIN_VALIDATION_COLOURS = 20


def data_warning(dataset: ColorDataset, val_fraction: float) -> str | None:
    """One sentence when ``dataset`` is too small to train meaningfully (too few colours, too
    few validation colours, or labels nobody used); None when it is big enough."""
    problems: list[str] = []
    n = len(dataset)
    if n < MIN_COLOURS:
        problems.append(f"only {count(n, 'colour')} (aim for {MIN_COLOURS:,} or more)")
    n_val = validation_size(dataset, val_fraction)
    if n_val == 0:
        problems.append("no validation colours, so nothing checks the model")
    elif n_val < MIN_VALIDATION_COLOURS:
        problems.append(
            f"a validation set of {count(n_val, 'colour')}, so one colour moves the "
            f"validation accuracy by {100 / n_val:.0f} points"
        )
    counts = dataset.label_counts()
    missing = [name for name in LABELS if counts[name] == 0]
    if missing and n:
        problems.append(
            f"no colours labelled {', '.join(missing)} (the model cannot learn "
            f"{'it' if len(missing) == 1 else 'them'})"
        )
    if not problems:
        return None
    return "Too little data to train meaningfully: " + "; ".join(problems) + "."


def to_coding_train_json(dataset: ColorDataset) -> bytes:
    """The data set in the Coding Train's format, ``{"entries": [{r, g, b, label, uid}]}``."""
    entries = [
        {"r": int(r), "g": int(g), "b": int(b), "label": LABELS[int(label)], "uid": str(uid)}
        for (r, g, b), label, uid in zip(
            dataset.rgb.tolist(), dataset.label.tolist(), dataset.contributor.tolist(), strict=True
        )
    ]
    return (json.dumps({"entries": entries}, indent=2, ensure_ascii=False) + "\n").encode()
