"""The one colour scale of every chart coloured by label: the nine names in LABELS order."""

from __future__ import annotations

import numpy as np

from colorclf.core.labels import LABEL_COLORS, LABELS

LABEL_LIST: list[str] = list(LABELS)
COLOR_LIST: list[str] = [LABEL_COLORS[name] for name in LABELS]
LABEL_SCALE: dict[str, list[str]] = {"domain": LABEL_LIST, "range": COLOR_LIST}
LABEL_ARRAY = np.array(LABEL_LIST)
COLOR_ARRAY = np.array(COLOR_LIST)
