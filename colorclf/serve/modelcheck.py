"""An uploaded model file, opened in a trainer process and never in the web server.

Opening a ``.keras`` file needs Keras, and Keras brings TensorFlow (~570 MB) into whichever
process imports it; a hostile file is best opened where a time limit can kill it. So the
server checks only the name and size (``train.modelfile.precheck``) and sends the bytes to a
trainer process of the ``TrainerPool`` (a warm one when one is idle) as a ``("check", …)``
task. The trainer runs every check of ``train.modelfile`` with its address space capped
(``CHECK_MEMORY_BYTES`` more than it had) and sends back a NumPy ``Predictor`` or one line.
A check that takes longer than ``CHECK_SECONDS`` kills that trainer (the pool replaces it).

Checks wait their turn at a gate of their own (one at a time: each may start a trainer
process), not at the trainings' queue: a student need not wait for a free trainer to find
out whether a file is usable. The page polls ``done`` and shows ``status()`` meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from colorclf.core.errors import ModelFileError
from colorclf.core.protocol import Check, Checked, CheckTask, Failed
from colorclf.core.text import size_text
from colorclf.serve.gate import FairGate
from colorclf.serve.pool import SHARED_POOL, TrainerPool, Worker, WorkerGone

if TYPE_CHECKING:
    from colorclf.core.predict import Predictor

_log = logging.getLogger(__name__)

CHECK_SECONDS = 30.0  # from the moment the trainer has the file
CHECK_MEMORY_BYTES = 512 * 1024 * 1024  # the largest model the caps allow needs ~80 MB
POLL_SECONDS = 0.1
CHECK_GATE = FairGate(1)


class ModelCheck:
    """One uploaded file's check, in a thread of the server that waits for a trainer process.

    ``done`` turns true once, then exactly one of ``predictor`` and ``error`` is set (the
    error is one line naming the file). ``cancel`` gives up a check nobody waits for.
    """

    def __init__(
        self,
        data: bytes,
        name: str,
        *,
        pool: TrainerPool | None = None,
        gate: FairGate | None = None,
        seconds: float | None = None,
        memory_bytes: int | None = None,
    ) -> None:
        """Start checking ``data`` (the file called ``name``) in a thread; the defaults are
        this module's, read when the check starts."""
        from colorclf.train.modelfile import precheck

        self.name = name or "upload"
        self.predictor: Predictor | None = None
        self.error: str | None = None
        self.seconds = CHECK_SECONDS if seconds is None else seconds
        self.memory_bytes = CHECK_MEMORY_BYTES if memory_bytes is None else memory_bytes
        self._pool = SHARED_POOL if pool is None else pool
        self._gate = CHECK_GATE if gate is None else gate
        self._data: bytes | None = data
        self._stage = "waiting"
        self._cancelled = threading.Event()
        self._done = threading.Event()
        try:
            self.name = precheck(data, self.name)
        except ModelFileError as err:
            self._finish(error=str(err))
            return
        threading.Thread(target=self._work, name="colorclf-model-check", daemon=True).start()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the check is done (True) or ``timeout`` seconds pass (False)."""
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Stop waiting for a trainer (a check already sent runs to its end or its limit)."""
        self._cancelled.set()

    def status(self) -> str:
        """What the page says while the check runs."""
        if self._stage == "waiting":
            position = self._gate.position(self)
            where = f": place {position} in the queue" if position else ""
            return f"Waiting to check {self.name}{where}…"
        if self._stage == "starting":
            return f"Checking {self.name}: starting a trainer process (loading TensorFlow)…"
        return f"Checking the model file {self.name}…"

    # ----- the thread ------------------------------------------------------------------
    def _finish(self, *, predictor: Predictor | None = None, error: str | None = None) -> None:
        self.predictor, self.error = predictor, error
        self._data = None
        self._stage = "done"
        self._done.set()

    def _work(self) -> None:
        error: str | None = None
        if not self._gate.acquire(self, self._cancelled.is_set):
            self._finish(error=f"the check of {self.name} was cancelled")
            return
        worker: Worker | None = None
        healthy = True
        try:
            self._stage = "starting"
            try:
                worker = self._pool.acquire(self._cancelled.is_set)
            except WorkerGone:  # one more try with a fresh trainer before giving up
                worker = self._pool.acquire(self._cancelled.is_set)
            if worker is None:
                error = f"the check of {self.name} was cancelled"
            else:
                self._stage = "checking"
                healthy, error = self._check_on(worker)
        except WorkerGone as gone:
            error = f"{self.name} could not be checked: {gone}"
        except Exception as unexpected:  # never leave the page waiting with no word
            _log.exception("model file check failed")
            healthy = False
            error = (
                f"{self.name} could not be checked: an unexpected error in the server "
                f"({type(unexpected).__name__})"
            )
        finally:
            if worker is not None:
                self._pool.release(worker, healthy=healthy)
            self._gate.release()
            if self.predictor is not None and error is None:
                self._finish(predictor=self.predictor)
            else:
                self._finish(error=error or f"{self.name} could not be checked")

    def _check_on(self, worker: Worker) -> tuple[bool, str | None]:
        """Send the file, wait for the answer; (the trainer can serve on, the error)."""
        task = CheckTask(self._data or b"", self.name, self.memory_bytes)
        self._data = None
        channel = worker.submit(Check, task)
        deadline = time.monotonic() + self.seconds
        try:
            while True:
                if time.monotonic() > deadline:
                    worker.kill()
                    return False, (
                        f"checking {self.name} took longer than {self.seconds:g} s, so it was "
                        "stopped; this file cannot be used"
                    )
                message = channel.receive(POLL_SECONDS)
                if isinstance(message, Checked):
                    self.predictor = message.predictor
                    return True, None
                if isinstance(message, Failed):
                    return True, message.message
                if message is not None:
                    return False, f"{self.name} could not be checked (the trainer said {message!r})"
        except (EOFError, OSError):
            worker.kill()
            code = worker.exit_code
            return False, (
                f"{self.name} ended the trainer process that opened it"
                + (f" (exit code {code})" if code is not None else "")
                + f": it may need more than the {size_text(self.memory_bytes)} of memory a "
                "model file may use"
            )
        finally:
            channel.close()
