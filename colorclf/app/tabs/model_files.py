"""The "Model files" tab: the current run's model as a ``.keras`` file and for TensorFlow.js,
and an uploaded model file that the sliders and views then ask."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from colorclf.app.state import (
    UploadCheck,
    current_job,
    in_page_run,
    inline_fragment,
    training_state,
)
from colorclf.app.tabs.common import widget_key
from colorclf.core.errors import ModelFileError
from colorclf.core.text import plain

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor
    from colorclf.serve.job import TrainingJob
    from colorclf.serve.modelcheck import ModelCheck

KEY = "files"
CHECK_FRAGMENT = "check"  # the check's progress among the fragments drawn inline


def _tfjs_download(predictor: Predictor, file_name: str, key: str) -> None:
    from colorclf.core.tfjs import INPUT_SCALING, tfjs_zip

    st.download_button(
        "Download for TensorFlow.js",
        data=functools.partial(tfjs_zip, predictor),
        file_name=file_name.removesuffix(".keras") + "-tfjs.zip",
        mime="application/zip",
        key=widget_key(key, "download-tfjs"),
        on_click="ignore",
        help=f"model.json + weights for tf.loadLayersModel in TensorFlow.js 4.x; "
        f"{INPUT_SCALING}. See docs/TFJS.md for a p5.js sketch.",
    )


CHECK_POLL_SECONDS = 0.25  # how often the page looks whether an upload's check is done


def _made_file(job: TrainingJob) -> bytes:
    """The job's ``.keras`` file, made by a trainer when Download is clicked (Streamlit runs
    this in a thread of its own and says "Failed to generate file" should it raise)."""
    data = job.model_bytes
    if data is None:
        raise ModelFileError("the model is gone: train again to download it")
    return data


def render_model_files(
    model_file: Callable[[], bytes] | bytes | None,
    *,
    key: str,
    file_name: str | None = None,
    predictor: Predictor | None = None,
) -> Predictor | None:
    """A "Download model" button (``.keras``) for a model file's bytes, or for a callable that
    makes them on the click; beside it "Download for TensorFlow.js" (a zip of ``model.json`` +
    weights, ``core/tfjs.py``, also made on the click) when ``predictor`` holds the same
    weights; and an "Upload a model (.keras)" uploader.

    An uploaded file is opened in a trainer process (``serve.modelcheck``), never here: the
    web server does not import Keras. Meanwhile the page says what the check is doing, and a
    fragment looks every ``CHECK_POLL_SECONDS`` and reruns the page when it is done. Returns
    the uploaded model's ``Predictor`` once, in the run after its check passed; None
    otherwise. A good file's layers are shown, a bad file's one-line error, while the file
    stays in the uploader. The check is ``training_state().upload_checks[key].check``. The
    download is ``file_name``, by default named after the session's current run
    (``colorclf-run3-coding-train.keras``), whose model the page offers.
    """
    from colorclf.serve.modelcheck import ModelCheck
    from colorclf.train.modelfile import MODEL_FILE_NAME  # a name: no Keras behind it

    if model_file is not None:
        if file_name is None:
            job = current_job()
            file_name = f"{job.run.file_stem}.keras" if job is not None else MODEL_FILE_NAME
        with st.container(horizontal=True):  # the two downloads side by side
            st.download_button(
                "Download model",
                data=model_file,
                file_name=file_name,
                mime="application/zip",
                key=widget_key(key, "download"),
                on_click="ignore",
            )
            if predictor is not None:
                _tfjs_download(predictor, file_name, key)
    upload = st.file_uploader(
        "Upload a model (.keras)",
        type=["keras"],
        key=widget_key(key, "upload"),
        help="A model saved by this app: 3 inputs (r, g, b), 9 softmax outputs.",
    )
    checks = training_state().upload_checks
    held = checks.get(key)
    file_id = None
    if upload is not None:
        file_id = getattr(upload, "file_id", None) or f"{upload.name}:{upload.size}"
    if held is not None and held.file_id != file_id:
        held.check.cancel()  # the file was removed or replaced: nobody waits for that check
        held = None
        del checks[key]
    if upload is None:
        return None
    if held is None:
        held = checks[key] = UploadCheck(file_id, ModelCheck(upload.getvalue(), upload.name))
    check = held.check
    # The fragment is drawn, at the same place, also once the check is done (with no timer):
    # a timer the browser still holds then finds it and asks for the page (_check_progress).
    every = None if check.done else CHECK_POLL_SECONDS
    inline_fragment(_check_progress, check, run_every=every, name=CHECK_FRAGMENT)
    if not check.done:
        return None
    if check.predictor is None:
        st.error(plain(check.error or f"{upload.name} could not be checked"))
        return None
    st.caption(plain(f"{check.name}: {check.predictor.summary()}"))
    if held.handed_over:
        return None
    held.handed_over = True
    return check.predictor


def _check_progress(check: ModelCheck) -> None:
    """While an upload's check runs, what it is doing; once it is done, the whole page runs
    again and ``render_model_files`` hands the model over.

    Once done, a run of this fragment of its own (a timer the browser still holds) asks for
    the page again even if a page run already drew the answer: Streamlit drops a finished
    script runner's queued messages when a fragment timer starts a new runner before they
    were sent, so that page run may never have reached the browser (then: "Checking" for
    ever). Inline in a page run it
    draws nothing (that would loop).
    """
    if not check.done:
        st.info(plain(check.status()), icon="⏳")
    elif not in_page_run(CHECK_FRAGMENT):
        st.rerun(scope="app")


def render_tab(dataset: object) -> None:
    """The downloads and the uploader; an upload that passed its check replaces the trained
    model everywhere the page asks one, until the user takes the trained one back."""
    state = training_state()
    job = current_job()
    has_file = job is not None and job.has_model_file
    model_file = functools.partial(_made_file, job) if has_file else None
    predictor = job.predictor if has_file and job is not None else None
    uploaded = render_model_files(model_file, key=KEY, predictor=predictor)
    if uploaded is not None:
        state.uploaded_predictor = uploaded
        st.rerun()
    if state.uploaded_predictor is not None:
        st.success("The sliders, the decision map and the network ask the uploaded model.")
        if st.button("Use the trained model again", key="forget_upload"):
            state.uploaded_predictor = None
            st.rerun()
