"""Each canvas view in one line of words, for a screen reader (a canvas has no text of its
own): the page draws the line under its chart and updates it with the chart."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from colorclf.core.predict import Predictor


def decision_map_summary(table: pa.Table, top: int = 3) -> str:
    """The labels covering most of the map and how much of it the model is unsure about
    (below 50 %), from ``decision_map_table``'s cells."""
    layer = table.column("layer").combine_chunks()
    cells = layer.indices.to_numpy(zero_copy_only=False) == layer.dictionary.index("map").as_py()
    if not cells.any():
        return "Decision map: no cells."
    label = table.column("label").combine_chunks()
    names = label.dictionary.to_pylist()
    codes = label.indices.to_numpy(zero_copy_only=False)[cells]
    shares = np.bincount(codes, minlength=len(names)) / len(codes)
    most = np.argsort(-shares, kind="stable")[:top]
    named = ", ".join(f"{names[i]} {shares[i]:.0%}" for i in most if shares[i] > 0)
    probability = table.column("probability").to_numpy(zero_copy_only=False)[cells]
    unsure = float((probability < 0.5).mean())
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
