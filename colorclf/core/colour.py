"""Colour maths: hue, HSV (the built-in naming rule), HSL (the teaching views), hex, channels.

HSV and HSL define the hue the same way (``hue_degrees``); they differ only in the other two
coordinates, derived from the ``max``/``min``/``chroma`` it returns. Hue in degrees (0–360),
the other coordinates as fractions 0–1. A colour with r = g = b has no hue; its hue is 0.
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


def hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hue (degrees 0..360), saturation, value and chroma (0..1) of n×3 RGB in 0..255."""
    hue, mx, mn, _ = hue_degrees(rgb)
    val = mx / 255.0
    chroma = val - mn / 255.0
    sat = np.where(val > 0, chroma / np.where(val > 0, val, 1.0), 0.0)
    return hue, sat, val, chroma


def hsl_to_rgb(hue: np.ndarray, saturation: np.ndarray, lightness: np.ndarray) -> np.ndarray:
    """RGB rows (n×3 ints 0–255) for HSL colours: hue in degrees, saturation/lightness 0–1."""
    h = np.mod(np.asarray(hue, dtype=np.float64), 360.0) / 60.0
    s = np.clip(np.asarray(saturation, dtype=np.float64), 0.0, 1.0)
    lum = np.clip(np.asarray(lightness, dtype=np.float64), 0.0, 1.0)
    h, s, lum = np.broadcast_arrays(h, s, lum)
    chroma = (1.0 - np.abs(2.0 * lum - 1.0)) * s
    x = chroma * (1.0 - np.abs(np.mod(h, 2.0) - 1.0))
    zero = np.zeros_like(chroma)
    sector = np.floor(h).astype(int) % 6
    r = np.choose(sector, [chroma, x, zero, zero, x, chroma])
    g = np.choose(sector, [x, chroma, chroma, x, zero, zero])
    b = np.choose(sector, [zero, zero, x, chroma, chroma, x])
    m = lum - chroma / 2.0
    rgb = np.stack([r + m, g + m, b + m], axis=-1)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.int64).reshape(-1, 3)


def rgb_to_hsl(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue (degrees 0–360), saturation and lightness (0–1) of n×3 RGB rows in 0–255.

    The hue is computed from the integers, so a hue of exactly 20° comes out as 20.0 (what a
    hue rule's edge expects).
    """
    hue, mx, mn, chroma = hue_degrees(rgb)
    lightness = (mx + mn) / 510.0
    denominator = 1.0 - np.abs(2.0 * lightness - 1.0)
    defined = denominator > 1e-12
    sat = np.where(defined, chroma / 255.0 / np.where(defined, denominator, 1.0), 0.0)
    return hue, np.clip(sat, 0.0, 1.0), lightness


_HEX_BYTE = np.array([f"{i:02x}" for i in range(256)])


def hex_colors(rgb: np.ndarray) -> np.ndarray:
    """``#rrggbb`` for each RGB row (vectorised: a string array)."""
    x = np.asarray(rgb, dtype=np.int64).reshape(-1, 3)
    text = np.strings.add("#", _HEX_BYTE[x[:, 0]])
    text = np.strings.add(text, _HEX_BYTE[x[:, 1]])
    return np.strings.add(text, _HEX_BYTE[x[:, 2]])


def parse_colour(text: str) -> tuple[int, int, int]:
    """An exact colour typed by a person: three numbers 0–255 ("128, 128, 128", "128 128 128")
    or a hex code ("#808080", "808080", "#888"). ColorclfError with a plain message otherwise."""
    value = text.strip()
    if len(value) > 40:
        raise ColorclfError("Type three numbers 0–255 (like 128, 128, 128) or a hex code.")
    hex_part = value.removeprefix("#")
    is_hex = all(c in "0123456789abcdefABCDEF" for c in hex_part)
    if is_hex and (len(hex_part) == 6 or (len(hex_part) == 3 and value.startswith("#"))):
        if len(hex_part) == 3:
            hex_part = "".join(c * 2 for c in hex_part)
        return int(hex_part[0:2], 16), int(hex_part[2:4], 16), int(hex_part[4:6], 16)
    parts = value.replace(",", " ").replace(";", " ").split()
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        raise ColorclfError(
            "Type three numbers 0–255 (like 128, 128, 128) or a hex code (like #808080)."
        )
    numbers = tuple(int(part) for part in parts)
    if not all(0 <= number <= 255 for number in numbers):
        raise ColorclfError("Each of red, green and blue goes from 0 to 255.")
    return numbers  # type: ignore[return-value]
