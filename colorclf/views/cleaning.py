"""Cleaning rules: a hue range to keep per label and contributors to drop, before training."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from colorclf.core.colour import rgb_to_hsl
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS
from colorclf.core.text import count


def hue_in_range(hue: np.ndarray, low: float, high: float) -> np.ndarray:
    """Whether each hue lies in [low, high] (degrees); ``low > high`` wraps through 0°
    (330–20 keeps 330…360 and 0…20)."""
    hue = np.asarray(hue, dtype=np.float64)
    if low <= high:
        inside = (hue >= low) & (hue <= high)
        return inside | (hue <= high - 360.0) if high >= 360 else inside  # 360° is 0°
    return (hue >= low) | (hue <= high)


def hue_range_from_slider(low: float, high: float) -> tuple[float, float] | None:
    """A hue rule from a range slider over −180…360 (negative = that many degrees below 360°,
    so −30…20 is the red band 330–20). None when the span covers the whole circle."""
    if high - low >= 360:
        return None
    return (low + 360 if low < 0 else low, high + 360 if high < 0 else high)


def hue_range_to_slider(hue_range: tuple[float, float] | None) -> tuple[float, float]:
    """The inverse of ``hue_range_from_slider``; the whole circle is 0…360."""
    if hue_range is None:
        return (0.0, 360.0)
    low, high = hue_range
    return (low - 360, high) if low > high else (low, high)


@dataclass(frozen=True)
class CleaningRules:
    """What to drop before training.

    ``hue_ranges``: label name → (low, high) hue in degrees to KEEP; that label's colours whose
    hue lies outside are dropped (``low > high`` wraps through 0°, e.g. red 330–20). A pure
    grey (r = g = b) has no hue and is never dropped by a hue rule.
    ``drop_contributors``: contributor ids whose colours are all dropped.
    """

    hue_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    drop_contributors: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        ranges: dict[str, tuple[float, float]] = {}
        for name, (low, high) in self.hue_ranges.items():
            if name not in LABELS:
                raise ValueError(f"unknown label {name!r}")
            low, high = float(low), float(high)
            if not (0 <= low <= 360 and 0 <= high <= 360):
                raise ValueError(f"hue range for {name} must lie within 0–360, got {low}–{high}")
            ranges[name] = (low, high)
        object.__setattr__(self, "hue_ranges", {n: ranges[n] for n in LABELS if n in ranges})
        object.__setattr__(
            self, "drop_contributors", frozenset(str(c) for c in self.drop_contributors)
        )

    @property
    def active(self) -> bool:
        return bool(self.hue_ranges or self.drop_contributors)

    def with_hue_range(self, label: str, hue_range: tuple[float, float] | None) -> CleaningRules:
        """A copy with ``label``'s range set (None removes it)."""
        ranges = dict(self.hue_ranges)
        ranges.pop(label, None)
        if hue_range is not None:
            ranges[label] = hue_range
        return CleaningRules(ranges, self.drop_contributors)

    def with_dropped(self, contributors: Iterable[str]) -> CleaningRules:
        """A copy dropping exactly ``contributors``."""
        return CleaningRules(self.hue_ranges, frozenset(contributors))


def _drop_reasons(dataset: ColorDataset, rules: CleaningRules) -> tuple[np.ndarray, dict[str, int]]:
    """Per row, False if dropped; and rows dropped per reason. A row counts once: under its
    contributor when that contributor is dropped, else under its label's hue range."""
    keep = np.ones(len(dataset), dtype=bool)
    report: dict[str, int] = {}
    if rules.drop_contributors:
        ids = dataset.contributor.astype(str)
        for contributor in sorted(rules.drop_contributors):
            hit = ids == contributor
            report[f"from contributor {contributor}"] = int(hit.sum())
            keep &= ~hit
    if rules.hue_ranges:
        hue, _, _ = rgb_to_hsl(dataset.rgb)
        chromatic = dataset.rgb.max(axis=1) != dataset.rgb.min(axis=1)
        for name, (low, high) in rules.hue_ranges.items():
            hit = (
                keep
                & (dataset.label == LABELS.index(name))
                & chromatic
                & ~hue_in_range(hue, low, high)
            )
            report[f"outside hue range for {name}"] = int(hit.sum())
            keep &= ~hit
    return keep, report


def keep_mask(dataset: ColorDataset, rules: CleaningRules) -> np.ndarray:
    """True for the rows ``clean`` keeps."""
    return _drop_reasons(dataset, rules)[0]


def clean(dataset: ColorDataset, rules: CleaningRules) -> tuple[ColorDataset, dict[str, int]]:
    """The data set without the rows ``rules`` drop, and rows dropped per reason
    ("from contributor X", "outside hue range for L"), one entry per active rule.

    With no active rule, returns ``dataset`` itself.
    """
    if not rules.active:
        return dataset, {}
    keep, report = _drop_reasons(dataset, rules)
    dropped = int((~keep).sum())
    source = f"{dataset.source}, cleaned (-{count(dropped, 'row')})" if dropped else dataset.source
    return dataset.subset(keep, source=source), report


def cleaning_caption(report: Mapping[str, int]) -> str:
    """The caption "N rows dropped: X outside hue range for label …, Y from contributor …"."""
    total = count(sum(report.values()), "row")
    if not report:
        return f"{total} dropped."
    return f"{total} dropped: " + ", ".join(f"{n:,} {reason}" for reason, n in report.items())
