"""A finished run's ``.keras`` file, made in a trainer process when a student asks for it.

The page's "Download model" hands Streamlit a callable (deferred data), so the file is made on
the click, not at every run's end: Keras' save was a fifth of a full-pace class's trainer time
(py-spy of the trainer during bench/bench_class.py), for a file few students download. The
web server does not import Keras, so a trainer of the ``TrainerPool`` makes it (a ``Save``
task) and sends the bytes back.
"""

from __future__ import annotations

import threading
import time

from colorclf.core.errors import ModelFileError
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.protocol import Failed, ModelState, Save, Saved, SaveTask
from colorclf.serve.pool import SHARED_POOL, TrainerPool, WorkerGone

SAVE_SECONDS = 60.0  # a trainer's start (TensorFlow's import) and the save, at most
POLL_SECONDS = 0.1


def make_model_file(
    hp: Hyperparams,
    state: ModelState,
    *,
    pool: TrainerPool = SHARED_POOL,
    seconds: float = SAVE_SECONDS,
) -> bytes:
    """The ``.keras`` file of a model with ``hp``'s layers in ``state``, made by a trainer;
    ModelFileError (one line) when none could make it within ``seconds``."""
    deadline = time.monotonic() + seconds

    def late() -> bool:
        return time.monotonic() > deadline

    try:
        worker = pool.acquire(late)
    except WorkerGone as gone:
        raise ModelFileError(f"the model file could not be made: {gone}") from None
    if worker is None:
        raise ModelFileError(f"no trainer could make the model file within {seconds:g} s")
    healthy = True
    channel = worker.submit(Save, SaveTask(hp, state))
    try:
        while not late():
            message = channel.receive(POLL_SECONDS)
            if isinstance(message, Saved):
                return message.data
            if isinstance(message, Failed):
                raise ModelFileError(f"the model file could not be made: {message.message}")
            if message is not None:
                healthy = False
                raise ModelFileError(f"the trainer answered {type(message).__name__}, not a file")
        raise ModelFileError(f"the model file was not made within {seconds:g} s")
    except (EOFError, OSError):
        healthy = False
        raise ModelFileError("the trainer process stopped while it made the model file") from None
    finally:
        channel.close()
        pool.release(worker, healthy=healthy)


class ModelFile:
    """One run's model file: the state it holds (``hold``, at each end of the run) and its
    bytes, made by a trainer on the first ``read`` and kept until the state changes."""

    def __init__(self, hp: Hyperparams, pool: TrainerPool = SHARED_POOL) -> None:
        self.hp = hp
        self._pool = pool
        self._state: ModelState | None = None
        self._data: bytes | None = None
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        return self._state is not None

    @property
    def made(self) -> bool:
        """The bytes are here (a read made them and the state has not changed since)."""
        return self._data is not None

    def hold(self, state: ModelState | None) -> None:
        """The run ended (again) with ``state``; None drops it (the session is gone)."""
        self._state, self._data = state, None

    def read(self) -> bytes | None:
        """The file's bytes (None: no state held); the first read waits while a trainer makes
        them (ModelFileError, one line, when none can)."""
        with self._lock:
            state = self._state
            if state is None or self._data is not None:
                return self._data
            made = make_model_file(self.hp, state, pool=self._pool)
            if self._state is state:  # not a Resume's or Step's end since
                self._data = made
            return made
