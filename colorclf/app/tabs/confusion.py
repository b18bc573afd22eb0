"""The "Confusion matrix" tab: the validation colours, what people said against what the
model says, and the accuracy per label."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import streamlit as st

from colorclf.app.follow import follow
from colorclf.app.state import asked_token, current_job
from colorclf.app.tabs.common import following
from colorclf.core.dataset import ColorDataset
from colorclf.core.text import count
from colorclf.views import matrix

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor

KEY = "matrix"


def render_confusion_matrix(
    predictor: Predictor | None,
    dataset: ColorDataset,
    val_index: Sequence[int] | np.ndarray,
) -> pd.DataFrame | None:
    """The validation colours' "Confusion matrix" and per-label accuracy; returns the matrix
    (``matrix.confusion_matrix``) or None when there is nothing to show."""
    index = np.asarray(val_index, dtype=np.int64).reshape(-1)
    if predictor is None:
        st.info("Train a model to see its confusion matrix on the validation colours.")
        return None
    if len(index) == 0:
        st.info("There are no validation colours to check the model on.")
        return None
    confusion = matrix.confusion_matrix(predictor, dataset.rgb[index], dataset.label[index])
    accuracy = matrix.per_class_accuracy(confusion)
    correct = int(accuracy["correct"].sum())
    st.caption(
        f"The {count(len(index), 'validation colour')} (held out, never trained on): "
        f"{correct:,} ({correct / len(index):.0%}) get the label people gave them. "
        "Rows: what people said; columns: what the model says."
    )
    st.vega_lite_chart(confusion, matrix.confusion_matrix_spec(), width="stretch")
    st.dataframe(
        accuracy,
        hide_index=True,
        width="stretch",
        column_config={
            "label": "Label",
            "colours": st.column_config.NumberColumn("Validation colours"),
            "correct": st.column_config.NumberColumn("Correct"),
            "accuracy": st.column_config.ProgressColumn(
                "Accuracy", min_value=0.0, max_value=1.0, format="percent"
            ),
        },
    )
    return confusion


CLOSED_NOTE = "The confusion matrix: open this tab to see it."


def _draw() -> None:
    job = current_job()
    if job is None or job.predictor is None:
        st.info("Train a model to see its confusion matrix on the validation colours.")
        return
    render_confusion_matrix(job.predictor, job.dataset, job.split.val_index)


def _view() -> None:
    st.subheader("Confusion matrix")
    if not following():
        _draw()


def render_tab(dataset: object) -> None:
    st.fragment(_view)()


def follow_training(dataset: object) -> None:
    follow(KEY, asked_token, _draw)
