"""The one hue computation shared by the built-in naming rule (HSV) and the teaching views (HSL).

HSV and HSL define the hue the same way; they differ only in the other two coordinates, which
each caller derives from the ``max``/``min``/``chroma`` returned here.
"""

from __future__ import annotations

import numpy as np

from colorclf.core.errors import ColorclfError


def hue_degrees(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hue (degrees 0–360), max, min and chroma (max − min) of n×3 RGB rows in 0–255.

    ``max``, ``min`` and ``chroma`` are in the input's units (0–255, float64). The hue is
    computed from those unscaled values, so for integer RGB a hue of exactly 20° comes out as
    20.0 (what a hue rule's edge expects). A colour with r = g = b has no hue; it gets 0.
    """
    x = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    mx = x.max(axis=1)
    mn = x.min(axis=1)
    chroma = mx - mn
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(
        mx == r,
        60.0 * (g - b) / safe,
        np.where(mx == g, 60.0 * (b - r) / safe + 120.0, 60.0 * (r - g) / safe + 240.0),
    )
    hue = np.where(chroma > 0, np.where(hue < 0, hue + 360.0, hue), 0.0)
    return hue, mx, mn, chroma


def channel(value: object, name: str = "value") -> int:
    """One colour channel as an int 0–255; ColorclfError for anything else (bools and text
    too: callers parse text first)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ColorclfError(f"{name} must be an integer 0..255, not {value!r}")
    number = int(value)
    if not 0 <= number <= 255:
        raise ColorclfError(f"{name} must be in 0..255, not {number}")
    return number
