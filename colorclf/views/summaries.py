"""Each canvas view in one line of words, for a screen reader (a canvas has no text of its
own): the page draws the line under its chart and updates it with the chart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from colorclf.core.predict import Predictor


def decision_map_summary(frame: pd.DataFrame, top: int = 3) -> str:
    """The labels covering most of the map and how much of it the model is unsure about
    (below 50 %), from ``decision_map_frame``'s cells."""
    cells = frame[frame["layer"] == "map"]
    if cells.empty:
        return "Decision map: no cells."
    shares = cells["label"].value_counts(normalize=True, sort=True).head(top)
    named = ", ".join(f"{label} {share:.0%}" for label, share in shares.items() if share > 0)
    unsure = float((cells["probability"] < 0.5).mean())
    return f"Decision map: most colours are called {named}; unsure on {unsure:.0%} of them."


def network_summary(predictor: Predictor) -> str:
    """The layers' sizes and the strongest weight."""
    kernels = [layer[0] for layer in predictor.layers]
    sizes = [kernels[0].shape[0], *(kernel.shape[1] for kernel in kernels)]
    strongest = max((float(kernel.flat[np.abs(kernel).argmax()]) for kernel in kernels), key=abs)
    return (
        f"Network: {' → '.join(str(size) for size in sizes)} units; the strongest weight is "
        f"{strongest:+.2f}."
    )
