"""The sliders' component (``colorclf/app/ask.py``) beside what the server-side predictor
says, for the browser test that checks the two agree: networks of fixed random weights
with every activation the app knows, each asked one colour, with the answer
``Predictor`` and ``describe_answer`` give printed under it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import streamlit as st

from colorclf.app.ask import ask_widget
from colorclf.core.labels import LABELS
from colorclf.core.predict import ACTIVATIONS, Predictor
from colorclf.views.answer import describe_answer, packed_layers


def network(seed: int, hidden: list[tuple[int, str]]) -> Predictor:
    rng = np.random.default_rng(seed)
    layers, inputs = [], 3
    for units, activation in [*hidden, (len(LABELS), "softmax")]:
        kernel = rng.normal(0, 3, (inputs, units)).astype(np.float32)
        bias = rng.normal(0, 1, units).astype(np.float32)
        layers.append((kernel, bias, activation))
        inputs = units
    return Predictor(tuple(layers))


hidden = [name for name in ACTIVATIONS if name != "softmax"]
CASES = [
    (network(i, [(16, activation)]), colour)
    for i, activation in enumerate(hidden)
    for colour in ((255, 0, 0), (12, 200, 99))
] + [(network(99, [(64, "relu"), (32, "tanh")]), (128, 128, 128))]

for i, (predictor, colour) in enumerate(CASES):
    ask_widget(
        f"case-{i}", {"session": "test", "serial": 1, "layers": packed_layers(predictor)}, colour
    )
    _, probabilities = predictor.predict_one(*colour)
    headline, detail = describe_answer(probabilities)
    percents = " ".join(str(round(probabilities[label] * 100)) for label in LABELS)
    st.text(f"case {i}: {headline} | {detail} | {percents}")
