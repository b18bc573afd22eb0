"""``LossStream``: a Keras callback that turns Keras' logs into plain rows for a sink.

A sink is any callable taking one row (``colorclf.core.rows``): the trainer process's pipe,
the command line's progress bar, a test's ``list.append``. It knows nothing of Streamlit;
how often a sink redraws is its own business.

Keras' ``on_train_batch_end`` logs carry the running mean over the epoch so far, not
the batch's own value. Keras weights that mean by batch size, so the batch's value is exactly
``(mean_b * seen_b - mean_(b-1) * seen_(b-1)) / size_b``.

``BatchCallbacks`` is the ``keras.callbacks.CallbackList`` the training loop drives them with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from colorclf.core.rows import Progress, Sink


class LossStream(keras.callbacks.Callback):
    """Sends one row per batch to ``sink`` and moves ``progress`` on; after each batch, stops
    the ``fit`` once ``should_stop()`` is true.

    ``progress`` says which batch comes next, so a run (a ``fit``, or ``train.loop``'s
    chunks) may start mid-epoch after a Stop.
    """

    def __init__(
        self,
        sink: Sink,
        progress: Progress,
        *,
        batch_size: int,
        n_train: int,
        clock: Callable[[], float],
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__()
        self.sink = sink
        self.progress = progress
        self.batch_size = batch_size
        self.n_train = n_train
        self.clock = clock
        self.should_stop = should_stop
        self._size = 0  # colours in the batch in progress
        self._seen_in_call = 0  # colours, loss and accuracy totals of this epoch so far
        self._loss_total = 0.0
        self._acc_total = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._reset()  # Keras' running means start again at every epoch

    def _reset(self) -> None:
        self._seen_in_call = 0
        self._loss_total = 0.0
        self._acc_total = 0.0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._size = min(self.batch_size, self.n_train - self.progress.batch * self.batch_size)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        size = self._size
        if size <= 0:
            return
        seen_in_call = self._seen_in_call + size
        loss_total = float(logs["loss"]) * seen_in_call
        acc_total = float(logs["accuracy"]) * seen_in_call
        batch_loss = (loss_total - self._loss_total) / size
        batch_acc = (acc_total - self._acc_total) / size
        self._seen_in_call, self._loss_total, self._acc_total = seen_in_call, loss_total, acc_total
        self.sink(self.progress.batch_done(batch_loss, batch_acc, size, self.clock()))
        if self.should_stop is not None and self.should_stop():
            self.model.stop_training = True


class BatchCallbacks(keras.callbacks.CallbackList):
    """Keras' ``CallbackList``, told of each batch with logs that are Python floats already
    (the loop reads every batch's loss out of its chunk's result), sorted by key as Keras
    sorts them.

    Keras' own list converts each batch's logs with ``pythonify_logs``, whose
    ``tf.is_tensor`` per value checks a runtime ``typing.Protocol``: 30 µs a batch on
    Python 3.11, a third of the trainer's Python time in a class (bench/bench_engine.py
    shows the engine on Keras' own list beside it). For floats that conversion changes
    nothing, so it is left out here; every other event goes through Keras unchanged.
    """

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs=logs or {})

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs=logs or {})
