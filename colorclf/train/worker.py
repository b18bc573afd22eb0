"""The trainer process: where TensorFlow runs, away from the web server's GIL, for every
session's runs at once.

Why a process and not a thread of the server: Python runs one thread at a time. Measured
with a thread (bench/bench_page.py, 2 cores): the page's 10-per-second chart redraws held
the server's GIL for ~1.2 s during a 7 s training, and every TensorFlow call of the training
then waited for it. A process has its own interpreter: the page redraws on one core while the
training keeps the other.

Why one process for many runs: TensorFlow costs ~570 MB per process, and it releases the GIL
while a compiled chunk runs, so one process with a thread per core keeps every core busy
(two runs in two threads: 0.30 s against 0.57 s one after the other). A ``Scheduler`` takes
the runs in turns, one chunk of batches each (``train.loop.TrainRun.advance``), first come
first served and back to the end of the line, so no run waits while another takes two turns;
a live-paced run rejoins the line only when its next chunk is due, and its idle time serves
the others.

It is a program of its own, ``python -m colorclf.train.worker``, started by the server
(``colorclf.serve.pool``) with ``subprocess``: it imports only this module and what it needs,
whatever script the server runs (``multiprocessing``'s ``spawn`` would re-run the page script,
or AppTest's generated one, in every trainer). Its standard input brings, one line each, the
address of the server's ``multiprocessing.connection.Listener`` and the connection's key (hex);
the trainer connects with ``Client``, and the two exchange the messages of
``colorclf.core.protocol``.

After those two lines, standard input carries the server's stops: ``stop N`` stops task N
after its current batch, also when it arrives before the task does. It is a channel of its
own so that a Stop never waits behind a task that is still being sent. The trainer keeps no
state of a run after it ends: a stopped run's weights and optimiser state go back to the
server, and Resume sends them again, so a resumed run is exactly the run that was never
stopped. When the server goes away (or retires the trainer), standard input closes and the
trainer exits at once, also in the middle of a training: no trainer outlives its server.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import gc
import heapq
import itertools
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from colorclf.core.errors import ModelFileError
from colorclf.core.protocol import (
    Alive,
    Check,
    Checked,
    Checkpoint,
    CheckTask,
    Done,
    EpochEnd,
    Failed,
    ModelState,
    Ready,
    Rows,
    Train,
    TrainResult,
    TrainTask,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import keras

    from colorclf.core.predict import Predictor
    from colorclf.core.rows import Row
    from colorclf.train.loop import TrainRun

HEARTBEAT_SECONDS = 1.0
Send = Callable[[Any], None]


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


class ActiveRun:
    """One task of the trainer: a ``TrainRun`` whose rows, epoch ends and result become
    messages to ``send``. ``turn`` trains one chunk."""

    def __init__(
        self, number: int, task: TrainTask, send: Send, should_stop: Callable[[], bool]
    ) -> None:
        self.number = number
        self.task = task
        self.send = send
        self.should_stop = should_stop
        self._run: TrainRun | None = None
        self._pending: list[Row] = []

    @property
    def due(self) -> float:
        return 0.0 if self._run is None else self._run.next_due

    def _start(self) -> TrainRun:
        from colorclf.train.loop import TrainRun
        from colorclf.train.model import build_model

        task = self.task
        model = build_model(task.hp)
        if task.state is not None:
            restore_state(model, task.state)
        return TrainRun(
            model,
            task.split,
            task.hp,
            self._sink,
            progress=task.progress,
            should_stop=self.should_stop,
            until_epoch=task.until_epoch,
            best_weights=task.state.best_weights if task.state is not None else None,
        )

    def _sink(self, row: Row) -> None:
        self._pending.append(row)
        if row["kind"] == "epoch":
            self._flush()
            self.send(EpochEnd(self.number, *self._epoch_end()))

    def _epoch_end(self) -> tuple[Predictor, Checkpoint]:
        """The weights for the page, and the point a Resume goes on from should this trainer
        die before the run's next epoch ends."""
        from colorclf.train.model import predictor_from_model

        run = self._run
        assert run is not None
        progress = run.progress
        improved = bool(run.hp.patience) and progress.just_improved
        best = [w.copy() for w in run.weights] if improved else run.best_weights
        state = ModelState(
            weights=[w.copy() for w in run.weights],
            optimizer=[s.copy() for s in run.optimizer_state],
            best_weights=best,
        )
        return predictor_from_model(run.model), Checkpoint(copy.deepcopy(progress), state)

    def _flush(self) -> None:
        if self._pending:
            self.send(Rows(self.number, self._pending))
            self._pending = []

    def turn(self) -> bool:
        """Train one chunk and send its rows; True once the run ended (its result sent)."""
        try:
            if self._run is None:
                self._run = self._start()
            ended = self._run.advance()
            self._flush()
            if ended:
                self.send(Done(self.number, self._result()))
        except ModelFileError as error:
            ended = True
            self.send(Failed(self.number, str(error)))
        except Exception as error:  # the page shows it as one line
            ended = True
            self.send(Failed(self.number, f"{type(error).__name__}: {error}"))
        return ended

    def _result(self) -> TrainResult:
        from colorclf.train.model import predictor_from_model
        from colorclf.train.modelfile import model_to_bytes

        run = self._run
        assert run is not None and run.outcome is not None
        outcome = run.outcome
        return TrainResult(
            stopped=outcome.stopped,
            progress=outcome.progress,
            state=capture_state(run.model, outcome.last_weights, outcome.best_weights),
            predictor=predictor_from_model(run.model),
            model_bytes=model_to_bytes(run.model),
        )


def run_task(task: TrainTask, send: Send, should_stop: Callable[[], bool] | None = None) -> None:
    """Train one task to its end in this thread, as the scheduler would (tests, benchmarks)."""
    active = ActiveRun(1, task, send, should_stop or (lambda: False))
    while not active.turn():
        wait = active.due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)


class Scheduler:
    """Every active run, served in turns by ``threads`` threads: one chunk a turn, first come
    first served, a run back at the end of the line after its turn (or, live-paced, once its
    next chunk is due)."""

    def __init__(self, threads: int, warm: Callable[[], None] | None = None) -> None:
        self._cond = threading.Condition()
        self._ready: deque[ActiveRun] = deque()
        self._later: list[tuple[float, int, ActiveRun]] = []  # (due, order, run): a heap
        self._order = itertools.count()
        self._active = 0
        self.idle = threading.Event()
        self.idle.set()
        warmed = threading.Barrier(threads + 1)
        for index in range(threads):
            threading.Thread(
                target=self._serve, args=(warm, warmed), name=f"trainer-{index}", daemon=True
            ).start()
        warmed.wait()  # every thread has traced the default template

    @property
    def active(self) -> int:
        return self._active

    def add(self, run: ActiveRun) -> None:
        with self._cond:
            self._active += 1
            self.idle.clear()
            self._ready.append(run)
            self._cond.notify()

    def wake(self, number: int) -> None:
        """A stop for a run that waits for its due time: it takes its turn now."""
        with self._cond:
            for entry in self._later:
                if entry[2].number == number:
                    self._later.remove(entry)
                    heapq.heapify(self._later)
                    self._ready.appendleft(entry[2])  # a stop trains nothing: no turn taken
                    self._cond.notify()
                    return

    def _take(self) -> ActiveRun:
        with self._cond:
            while True:
                now = time.perf_counter()
                while self._later and self._later[0][0] <= now:
                    self._ready.append(heapq.heappop(self._later)[2])
                if self._ready:
                    return self._ready.popleft()
                self._cond.wait(self._later[0][0] - now if self._later else None)

    def _serve(self, warm: Callable[[], None] | None, warmed: threading.Barrier) -> None:
        with contextlib.suppress(Exception):  # only a head start: the first run traces if need be
            if warm is not None:
                warm()
        warmed.wait()
        while True:
            run = self._take()
            ended = run.turn()
            with self._cond:
                if ended:
                    self._active -= 1
                    if self._active == 0:
                        self.idle.set()
                    continue
                due = run.due
                if due <= time.perf_counter():
                    self._ready.append(run)
                else:
                    heapq.heappush(self._later, (due, next(self._order), run))
                self._cond.notify()


def warm_up_thread() -> None:
    """Trace this thread's template of the default preset on a few zeros, so the first real
    run starts at once."""
    from colorclf.core.hyperparams import DEFAULT_PRESET, PRESETS
    from colorclf.core.labels import NUM_LABELS
    from colorclf.train.engine import chunk_step

    hp = PRESETS[DEFAULT_PRESET]
    step = chunk_step(hp)
    n = 2 * hp.batch_size + 1
    x = np.zeros((n, 3), dtype=np.float32)
    y = np.eye(NUM_LABELS, dtype=np.float32)[np.zeros(n, dtype=int)]
    model = step.model
    weights = [np.asarray(w) for w in model.get_weights()]
    slots = [np.array(v) for v in model.optimizer.variables]
    step.run(weights, slots, x, y, hp.batch_size, 3)


def warm_up() -> None:
    """What every run's start and end need besides the template: Keras' model building, a
    forward pass and the ``.keras`` writer."""
    from colorclf.core.hyperparams import DEFAULT_PRESET, PRESETS
    from colorclf.train.model import build_model, predictor_from_model
    from colorclf.train.modelfile import model_to_bytes

    model = build_model(PRESETS[DEFAULT_PRESET])
    model(np.zeros((1, 3), dtype=np.float32), training=False)
    predictor_from_model(model)
    model_to_bytes(model)


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


def _check(number: int, task: CheckTask, send: Send, busy: Callable[[int], None]) -> None:
    busy(+1)
    try:
        send(Checked(number, check_task(task)))
    except ModelFileError as error:  # names the file already
        send(Failed(number, str(error)))
    except Exception as error:
        send(Failed(number, f"{type(error).__name__}: {error}"))
    finally:
        busy(-1)


def release_memory() -> None:
    """Collect, then give freed heap back to the OS (glibc keeps it otherwise)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class Stops:
    """The tasks the server asked to stop (the ``stop N`` lines), told to ``on_stop``."""

    def __init__(self, on_stop: Callable[[int], None] | None = None) -> None:
        self.stopped: set[int] = set()
        self.on_stop = on_stop

    def asked(self, task: int) -> Callable[[], bool]:
        """``should_stop`` for task ``task``."""
        return lambda: task in self.stopped

    def follow(self, lines: Iterable[bytes]) -> None:
        """Read ``stop N`` lines until the stream ends."""
        for line in lines:
            kind, _, number = line.strip().partition(b" ")
            if kind == b"stop" and number.isdigit():
                self.stopped.add(int(number))
                if self.on_stop is not None:
                    self.on_stop(int(number))


def trainer_threads() -> int:
    """One scheduler thread per core this process may use."""
    affinity = getattr(os, "sched_getaffinity", None)
    return max(1, len(affinity(0)) if affinity else os.cpu_count() or 1)


def worker_main(conn: Connection, stops: Stops) -> None:
    """The trainer: warm up, then serve the tasks the server sends until it says exit."""
    lock = threading.Lock()
    checks = [0]

    def send(message: Any) -> None:
        with lock:  # scheduler threads, checks and the heartbeat: one message at a time
            conn.send(message)

    def checking(change: int) -> None:
        with lock:
            checks[0] += change

    try:
        warm_up()
        scheduler = Scheduler(trainer_threads(), warm_up_thread)
        stops.on_stop = scheduler.wake
        gc.collect()
        gc.freeze()  # TensorFlow's objects: out of every later collection's way
        send(Ready(os.getpid()))
        threading.Thread(
            target=_heartbeat, args=(send, scheduler, checks), name="heartbeat", daemon=True
        ).start()
        threading.Thread(
            target=_tidy, args=(scheduler,), name="tidy", daemon=True
        ).start()
        while True:
            message = conn.recv()
            if isinstance(message, Train):
                scheduler.add(
                    ActiveRun(message.task, message.work, send, stops.asked(message.task))
                )
            elif isinstance(message, Check):
                threading.Thread(
                    target=_check, args=(message.task, message.work, send, checking), daemon=True
                ).start()
            else:
                return
            del message
    except (EOFError, OSError, KeyboardInterrupt):
        return  # the server is gone


def _heartbeat(send: Send, scheduler: Scheduler, checks: list[int]) -> None:
    """While any task runs, ``Alive`` every ``HEARTBEAT_SECONDS``: the server tells a trainer
    that is stopped (SIGSTOP) or frozen holding the interpreter from one that is working.
    Only while busy, so an idle trainer's connection does not fill up."""
    while True:
        if scheduler.active or checks[0]:
            try:
                send(Alive())
            except (OSError, ValueError):
                return
        time.sleep(HEARTBEAT_SECONDS)


def _tidy(scheduler: Scheduler) -> None:
    """Give memory back whenever the trainer falls idle (a collection would pause every
    running thread, so never while runs train)."""
    while True:
        scheduler.idle.wait()
        release_memory()
        while scheduler.idle.is_set():
            time.sleep(0.5)


def _follow_stdin(stops: Stops) -> None:
    """Stops from standard input; when it closes (the server exited, was killed or retired
    this trainer), exit at once, whatever the trainer is doing."""
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
    # Run by its own name, so that what it pickles is colorclf.train.worker's and
    # colorclf.core.protocol's, not __main__'s: the server unpickles it by those names.
    from colorclf.train import worker

    worker.main()
