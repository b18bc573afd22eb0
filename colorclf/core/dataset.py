"""The one data set type every source produces, and the seeded, stratified split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from colorclf.core.labels import LABELS, NUM_LABELS


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
        n_val = round(len(rows) * val_fraction)
        n_val = min(max(n_val, 1), len(rows) - 1) if len(rows) >= 2 else 0
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
