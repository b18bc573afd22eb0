"""A training worker process: where TensorFlow runs, away from the web server's GIL.

Why a process and not a thread of the server: Python runs one thread at a time. Measured
with a thread (bench/bench_page.py, 2 cores): the page's 10-per-second chart redraws held
the server's GIL for ~1.2 s during a 7 s training, and every TensorFlow call of the training
then waited for it, so a run with the page open took 1.4–1.6× a bare ``model.fit``. A
process has its own interpreter: the page redraws on one core while the training keeps the
other.

It is a program of its own, ``python -m colorclf.train.worker``, started by the server
(``colorclf.serve.pool``) with ``subprocess``: it imports only this module and what it needs,
whatever script the server runs (``multiprocessing``'s ``spawn`` would re-run the page script,
or AppTest's generated one, in every trainer). Its standard input brings, one line each, the
address of the server's ``multiprocessing.connection.Listener`` and the connection's key (hex);
the trainer connects with ``Client`` and the two talk over that connection:

    server → worker   ("train", TrainTask)      ("check", CheckTask)      ("exit",)
    worker → server   ("ready", pid)            once, after importing TensorFlow
                      ("rows", [row, …])        the loss-stream rows, every 20 ms
                      ("predictor", Predictor)  the weights at each epoch end
                      ("done", TrainResult)     after the last epoch, or after a stop
                      ("checked", Predictor)    an uploaded model file that passed
                      ("failed", message)       a one-line error
                      ("alive",)                every second while a task runs (heartbeat)

After those two lines, standard input carries the server's stops: ``stop N`` stops the N-th
task (counted from 1) after its current batch, also when it arrives before the task does;
the loss stream checks after every batch. It is a channel of its own so that a Stop never
waits behind a task that is still being sent. The worker keeps no state between tasks: a
stopped run's weights and optimiser state go back to the server, and Resume sends them to
whichever worker is free, so a resumed run is exactly the run that was never stopped. When
the server goes away (or retires the worker), standard input closes and the worker exits at
once, also in the middle of a training: no trainer outlives its server.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from colorclf.core.dataset import Split
from colorclf.core.errors import ModelFileError
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.rows import Progress

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import keras

    from colorclf.core.predict import Predictor
    from colorclf.train.ready import ReadyModel


ROWS_EVERY_SECONDS = 0.02
HEARTBEAT_SECONDS = 1.0


@dataclass
class ModelState:
    """Everything that makes a resumed run continue exactly: weights and optimiser slots,
    and with early stopping the best epoch's weights so far."""

    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    best_weights: list[np.ndarray] | None = None


@dataclass
class TrainTask:
    hp: Hyperparams
    split: Split
    progress: Progress
    state: ModelState | None  # None: a fresh model
    until_epoch: int | None = None  # Step: stop once this many epochs are done


@dataclass
class TrainResult:
    stopped: bool
    progress: Progress
    state: ModelState
    predictor: Predictor
    model_bytes: bytes  # the .keras file, for "Download model"


@dataclass
class CheckTask:
    """An uploaded ``.keras`` file to open here rather than in the web server, with the
    address space (bytes) the check may add to this process."""

    data: bytes
    name: str
    max_memory_bytes: int


def capture_state(
    model: keras.Model,
    weights: list[np.ndarray] | None = None,
    best_weights: list[np.ndarray] | None = None,
) -> ModelState:
    """The model's state; ``weights`` instead of the model's own (after early stopping put
    the best epoch's weights back, a Resume goes on from the last ones)."""
    optimizer = model.optimizer
    return ModelState(
        weights=[np.array(w) for w in (model.get_weights() if weights is None else weights)],
        optimizer=[np.array(v) for v in optimizer.variables] if optimizer.built else [],
        best_weights=best_weights,
    )


def restore_state(model: keras.Model, state: ModelState) -> None:
    model.set_weights(state.weights)
    if state.optimizer:
        model.optimizer.build(model.trainable_variables)
        for variable, value in zip(model.optimizer.variables, state.optimizer, strict=True):
            variable.assign(value)


def warm_up(ready: ReadyModel | None = None) -> None:
    """Import TensorFlow and fit the default preset's model on a few zeros, so the first
    real training starts at once; the model, its training step traced, goes to ``ready``."""
    from colorclf.core.hyperparams import DEFAULT_PRESET, PRESETS
    from colorclf.core.labels import NUM_LABELS
    from colorclf.train.model import predictor_from_model
    from colorclf.train.ready import new_model

    hp = PRESETS[DEFAULT_PRESET]
    model, untrained = new_model(hp)
    # Two full batches and a short one: the step is traced for any batch size (TensorFlow
    # relaxes the shape at the second one it sees), as a real epoch's short last batch needs.
    n = 2 * hp.batch_size + 1
    x = np.zeros((n, 3), dtype=np.float32)
    y = np.eye(NUM_LABELS, dtype=np.float32)[np.zeros(n, dtype=int)]
    model.fit(x, y, batch_size=hp.batch_size, epochs=1, verbose=0)
    model(x[:1], training=False)
    predictor_from_model(model)
    if ready is not None:
        ready.keep(model, hp, untrained)


def run_task(
    task: TrainTask, send: Any, should_stop: Any, ready: ReadyModel | None = None
) -> TrainResult:
    """Train (or resume) one run, sending every row and each epoch's predictor to ``send``;
    the model comes from ``ready`` (traced already) when it has one of this architecture,
    and goes back to it after the run."""
    from colorclf.train.loop import train
    from colorclf.train.model import initial_weights, predictor_from_model
    from colorclf.train.modelfile import model_to_bytes
    from colorclf.train.ready import ReadyModel, new_model

    ready = ready or ReadyModel()
    kept = ready.take(task.hp)
    model, untrained = kept or new_model(task.hp)
    state = task.state
    if state is None and kept is not None:  # a kept model starts where build_model would
        state = ModelState(weights=initial_weights(task.hp), optimizer=untrained)
    if state is not None:
        restore_state(model, state)

    pending: list[dict[str, Any]] = []
    last_sent = [time.monotonic()]

    def flush() -> None:
        if pending:
            send(("rows", pending.copy()))
            pending.clear()
        last_sent[0] = time.monotonic()

    def sink(row: dict[str, Any]) -> None:
        # Rows travel in small bundles (every ROWS_EVERY_SECONDS, and at each epoch end):
        # the page redraws about 10×/s, and one message per batch would only cost the server.
        pending.append(row)
        if row["kind"] == "epoch":
            flush()
            send(("predictor", predictor_from_model(model)))
        elif time.monotonic() - last_sent[0] >= ROWS_EVERY_SECONDS:
            flush()

    try:
        outcome = train(
            model,
            task.split,
            task.hp,
            sink,
            progress=task.progress,
            should_stop=should_stop,
            until_epoch=task.until_epoch,
            best_weights=task.state.best_weights if task.state is not None else None,
        )
    finally:
        flush()
    result = TrainResult(
        stopped=outcome.stopped,
        progress=outcome.progress,
        state=capture_state(model, outcome.last_weights, outcome.best_weights),
        predictor=predictor_from_model(model),
        model_bytes=model_to_bytes(model),
    )
    ready.keep(model, task.hp, untrained)
    return result


def _address_space() -> int | None:
    """This process's address space in bytes (Linux), or None where that is unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def _address_space_capped(extra: int) -> Iterator[None]:
    """While the block runs, allocations beyond ``extra`` more bytes of address space fail
    (``RLIMIT_AS``): a file that asks for more gets a MemoryError (or, in native code, ends
    the process) instead of growing the machine's memory."""
    import resource

    size = _address_space()
    if size is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + extra if hard == resource.RLIM_INFINITY else min(size + extra, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def check_task(task: CheckTask) -> Predictor:
    """Open an uploaded model file with every check of ``colorclf.train.modelfile``, within
    the task's memory; its weights as a NumPy ``Predictor`` (ModelFileError: one line)."""
    from colorclf.train.modelfile import predictor_from_upload

    with _address_space_capped(task.max_memory_bytes):
        return predictor_from_upload(task.data, task.name)


def release_memory() -> None:
    """Collect, then give freed heap back to the OS (glibc keeps it otherwise; ~4 MB per
    fitted model)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _heartbeat(send: Any, busy: threading.Event) -> None:
    """While a task runs, ("alive",) every ``HEARTBEAT_SECONDS``: the server tells a trainer
    that is stopped (SIGSTOP) or frozen holding the interpreter from one that is working.
    Only while busy, so an idle trainer's pipe does not fill up."""
    while True:
        busy.wait()
        try:
            send(("alive",), only_if=busy)
        except (OSError, ValueError):
            return
        time.sleep(HEARTBEAT_SECONDS)


class Stops:
    """The stops the server asked for: every task up to ``through`` (the ``stop N`` lines)."""

    def __init__(self) -> None:
        self.through = 0

    def asked(self, task: int) -> Callable[[], bool]:
        """``should_stop`` for the ``task``-th task."""
        return lambda: self.through >= task

    def follow(self, lines: Iterable[bytes]) -> None:
        """Read ``stop N`` lines until the stream ends."""
        for line in lines:
            kind, _, number = line.strip().partition(b" ")
            if kind == b"stop" and number.isdigit():
                self.through = max(self.through, int(number))


def worker_main(conn: Connection, stops: Stops) -> None:
    """The worker: warm up, then run the tasks the server sends until it says exit."""
    lock = threading.Lock()
    busy = threading.Event()

    def send(message: Any, only_if: threading.Event | None = None) -> None:
        with lock:  # the heartbeat thread sends too: one message at a time on the connection
            if only_if is None or only_if.is_set():
                conn.send(message)

    from colorclf.train.ready import ReadyModel

    ready = ReadyModel()
    try:
        warm_up(ready)
        gc.collect()
        gc.freeze()  # TensorFlow's objects: out of every later collection's way
        conn.send(("ready", os.getpid()))
        threading.Thread(target=_heartbeat, args=(send, busy), daemon=True).start()
        tasks = 0
        while True:
            message = conn.recv()
            kind = message[0]
            if kind not in ("train", "check"):
                return
            tasks += 1
            reply: tuple[str, Any]
            busy.set()
            try:
                if kind == "train":
                    reply = ("done", run_task(message[1], send, stops.asked(tasks), ready))
                else:
                    reply = ("checked", check_task(message[1]))
            except ModelFileError as error:  # names the file already
                reply = ("failed", str(error))
            except Exception as error:  # the page shows it as one line
                reply = ("failed", f"{type(error).__name__}: {error}")
            del message
            busy.clear()
            send(reply)
            del reply
            release_memory()  # while the server reads the result
    except (EOFError, OSError, KeyboardInterrupt):
        return  # the server is gone


def _follow_stdin(stops: Stops) -> None:
    """Stops from standard input; when it closes (the server exited, was killed or retired
    this worker), exit at once, whatever the worker is doing."""
    with contextlib.suppress(OSError, ValueError):
        stops.follow(sys.stdin.buffer)
    os._exit(0)


def main() -> None:
    """``python -m colorclf.train.worker``: connect to the server, then ``worker_main``."""
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    try:
        address = sys.stdin.buffer.readline().decode().strip()
        key = bytes.fromhex(sys.stdin.buffer.readline().decode().strip())
        conn = Client(address, family="AF_UNIX", authkey=key)
    except (OSError, ValueError, EOFError, AuthenticationError, KeyboardInterrupt) as error:
        sys.exit(f"colorclf trainer: cannot reach the server ({type(error).__name__}: {error})")
    stops = Stops()
    threading.Thread(target=_follow_stdin, args=(stops,), name="stops", daemon=True).start()
    try:
        worker_main(conn, stops)
    finally:
        with contextlib.suppress(OSError):
            conn.close()


if __name__ == "__main__":
    # Run by its own name, so that what it pickles (TrainResult, …) is
    # colorclf.train.worker's and not __main__'s: the server unpickles it by that name.
    from colorclf.train import worker

    worker.main()
