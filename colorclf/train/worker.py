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
import ctypes
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from colorclf.core.errors import ModelFileError
from colorclf.core.protocol import (
    Alive,
    Check,
    Checked,
    CheckTask,
    Failed,
    Ready,
    Save,
    Saved,
    SaveTask,
    Train,
)
from colorclf.train.scheduler import ActiveRun, Scheduler, Send, warm_up, warm_up_steps

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from colorclf.core.predict import Predictor

HEARTBEAT_SECONDS = 1.0


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


def save_task(task: SaveTask) -> bytes:
    """A finished run's ``.keras`` file: a model of its settings (a kept one when there is
    one) put into its state, saved by Keras."""
    from colorclf.train.model import BUILT_MODELS, restore_state
    from colorclf.train.modelfile import model_to_bytes

    model = BUILT_MODELS.take(task.hp)
    try:
        restore_state(model, task.state)
        return model_to_bytes(model)
    finally:
        BUILT_MODELS.give_back(task.hp, model)  # the next take puts it back to a fresh one


def _one_shot(message: Check | Save, send: Send, busy: Callable[[int], None]) -> None:
    """Answer a check or a save in this thread (counted ``busy`` meanwhile, so the trainer
    beats and does not tidy): the result, or one line."""
    busy(+1)
    try:
        if isinstance(message, Check):
            send(Checked(message.task, check_task(message.work)))
        else:
            send(Saved(message.task, save_task(message.work)))
    except ModelFileError as error:  # names the file already
        send(Failed(message.task, str(error)))
    except Exception as error:
        send(Failed(message.task, f"{type(error).__name__}: {error}"))
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


# The priority (a nice value) of the trainer's background work, the import and the idle
# stocking: a trainer that starts with the server imports TensorFlow (~2.5 s of a core) while
# the first browser loads the page, and at the default priority it delayed the page's Train
# button by ~0.4 s (bench/bench_page.py, cold starts).
BACKGROUND_NICE = 10


def import_gently() -> None:
    """Import TensorFlow and Keras in a thread of its own at a lower priority: on Linux a
    thread's nice value is its own, so the threads that train later (and TensorFlow's
    compute threads, started by the first operation) keep the default priority."""

    def gently() -> None:
        with contextlib.suppress(OSError):  # elsewhere the id is no process: import as is
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        import keras  # noqa: F401  (imports TensorFlow, its backend)

    importer = threading.Thread(target=gently, name="import", daemon=True)
    importer.start()
    importer.join()


def worker_main(conn: Connection, stops: Stops) -> None:
    """The trainer: warm up, then serve the tasks the server sends until it says exit."""
    lock = threading.Lock()
    checks = [0]

    def send(message: Any) -> None:
        with lock:  # scheduler threads, checks, saves and the heartbeat: one message at a time
            conn.send(message)

    def checking(change: int) -> None:
        with lock:
            checks[0] += change

    try:
        import_gently()
        warm_up()
        scheduler = Scheduler(trainer_threads(), warm_up_steps())
        stops.on_stop = scheduler.wake
        send(Ready(os.getpid()))
        # TensorFlow's objects: out of every later collection's way (after Ready: the
        # collection takes ~0.1 s that a first click on a cold server would wait for).
        gc.collect()
        gc.freeze()
        threading.Thread(
            target=_heartbeat, args=(send, scheduler, checks), name="heartbeat", daemon=True
        ).start()
        threading.Thread(target=_tidy, args=(scheduler, checks), name="tidy", daemon=True).start()
        while True:
            message = conn.recv()
            if isinstance(message, Train):
                scheduler.add(
                    ActiveRun(message.task, message.work, send, stops.asked(message.task))
                )
            elif isinstance(message, Check | Save):
                threading.Thread(
                    target=_one_shot, args=(message, send, checking), daemon=True
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


def _tidy(scheduler: Scheduler, checks: list[int]) -> None:
    """Whenever the trainer falls idle, give memory back (a collection would pause every
    running thread, so never while runs train), then stock models for the next class (not
    while a model file is checked: its memory cap holds for the whole process)."""
    with contextlib.suppress(OSError):  # at a lower priority: the server's pages come first
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    while True:
        scheduler.idle.wait()
        release_memory()
        stock_models(lambda: scheduler.idle.is_set() and not checks[0])
        while scheduler.idle.is_set():
            time.sleep(0.5)


def stock_models(idle: Callable[[], bool]) -> int:
    """Build models of the default preset while ``idle()``, one at a time (a Train that comes
    meanwhile waits for one build at most, ~20 ms), until ``KEPT_MODELS`` are kept; how many
    it built. A build that fails (no memory) ends the stocking: the runs build their own."""
    from colorclf.core.hyperparams import DEFAULT_PRESET, PRESETS
    from colorclf.train.model import BUILT_MODELS, KEPT_MODELS

    built = 0
    try:
        while idle() and BUILT_MODELS.stock(PRESETS[DEFAULT_PRESET], KEPT_MODELS):
            built += 1
    except Exception:  # MemoryError and the like: stocking is only a head start
        pass
    return built


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
