"""The sliders' component with the crowd beside the answer, for the browser test: a small
data set of known votes, a network that says red-ish to every colour, and under it what
``views/crowd.py`` says for the colours the test moves the sliders to."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import streamlit as st

from colorclf.app.ask import ask_widget, crowd_payload
from colorclf.core.dataset import ColorDataset
from colorclf.core.labels import LABELS
from colorclf.core.predict import Predictor
from colorclf.views.answer import packed_layers
from colorclf.views.crowd import crowd_table, crowd_votes, describe_crowd, disagreement

VOTES = [  # (colour, label, how many): cubes of 32 levels a side
    ((10, 20, 5), "grey-ish", 3),  # (0, 0, 0): too few
    ((5, 9, 250), "blue-ish", 5),  # (0, 0, 255): 8 votes, halves rounded up, model ≠ crowd
    ((30, 0, 224), "purple-ish", 2),
    ((0, 31, 255), "grey-ish", 1),
    ((250, 3, 240), "pink-ish", 3),  # (255, 0, 255): a tie, shown in label order
    ((230, 10, 250), "purple-ish", 3),
    ((255, 0, 0), "red-ish", 4),  # (255, 0, 0): the model agrees with the crowd
    ((224, 31, 31), "red-ish", 1),
    ((200, 0, 0), "brown-ish", 1),  # another cube: not counted
]
COLOURS = [(0, 0, 0), (0, 0, 255), (255, 0, 255), (255, 0, 0)]  # the test's path

rgb = [colour for colour, _, n in VOTES for _ in range(n)]
labels = [LABELS.index(label) for _, label, n in VOTES for _ in range(n)]
dataset = ColorDataset(rgb, labels, [f"u{i}" for i in range(len(rgb))], source="test")
always_red = Predictor(((np.zeros((3, 9)), np.array([50.0] + [0.0] * 8), "softmax"),))

ask_widget(
    "crowd",
    {"session": "test", "serial": 1, "layers": packed_layers(always_red)},
    COLOURS[0],
    crowd=crowd_payload(dataset),
)
table = crowd_table(dataset)
for colour in COLOURS:
    votes = crowd_votes(table, colour)
    said = disagreement("red-ish", votes) or ""
    st.text(f"crowd {', '.join(map(str, colour))}: {describe_crowd(votes)} | {said}")
