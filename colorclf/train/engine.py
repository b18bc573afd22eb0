"""The training step as one compiled TensorFlow function over a chunk of batches.

Why not ``model.fit``: for a network this small, Keras' per-call and per-batch machinery, not
arithmetic, is the cost (bench/bench_engine.py: a bare ``fit`` of the tutorial's run takes
about ten times what a compiled chunk loop does). A ``ChunkStep`` runs up to a chunk's worth
of batches inside one ``tf.function`` (``tf.range`` loop: slice the batch, ``GradientTape``,
the compiled loss, ``optimizer.apply``), and returns every batch's loss and accuracy, measured
on the weights before that batch's update, as Keras' own ``train_step`` does.

A ``ChunkStep`` is a template: a Keras model and optimiser of one architecture whose variables
take a run's weights and optimiser slots at the start of a chunk and give them back at its
end, so one trace serves every run of that architecture, whatever its seed, learning rate or
data (a trace costs a few tenths of a second, the run itself about as much). Its variables
are shared state, so each thread keeps its own templates (``chunk_step``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from colorclf.core.hyperparams import Hyperparams
from colorclf.train.model import build_model

TEMPLATES_PER_THREAD = 8  # architectures a trainer thread keeps traced (least recently used go)


def architecture(hp: Hyperparams) -> Hashable:
    """What a template must share with a run to train it: the layers' shapes and the update
    rule. The learning rate is an optimiser variable, set per chunk like the slots."""
    return hp.hidden_units, hp.activation, hp.optimizer


@dataclass
class ChunkResult:
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    losses: np.ndarray  # one per batch, float32 as Keras computes them
    accuracies: np.ndarray


class ChunkStep:
    """A traced chunk of training steps for every run of one architecture.

    The weights and the optimiser's float slots (its learning rate among them) travel in and
    out as one flat float32 vector, its step count, the batch size and the batches to train
    as one integer vector, and the inputs with their one-hot labels as one matrix: binding
    each argument to the function's inputs cost more than training a chunk of 32 batches
    (bench_engine's profile).
    """

    def __init__(self, hp: Hyperparams) -> None:
        import tensorflow as tf

        model = build_model(hp)
        model.optimizer.build(model.trainable_variables)
        self.model = model
        self._weights = list(model.trainable_variables)
        slots = list(model.optimizer.variables)
        self._count = [i for i, v in enumerate(slots) if "int" in str(v.dtype)]
        self._floats = [v for i, v in enumerate(slots) if i not in self._count]
        self._slots = slots
        self._packed = [*self._weights, *self._floats]
        self._shapes = [tuple(v.shape) for v in self._packed]
        self._sizes = [int(np.prod(shape)) for shape in self._shapes]
        signature = [
            tf.TensorSpec([sum(self._sizes)], tf.float32),
            tf.TensorSpec([len(self._count) + 2], tf.int64),  # the counts, batch size, batches
            tf.TensorSpec([None, None], tf.float32),  # r, g, b, then the one-hot label
        ]
        # Traced once, and called as the concrete function: the tf.function's own call binds
        # and looks up its arguments again each time, a third of a chunk's fixed cost
        # (1.2 → 0.85 ms a call of one batch; a live-paced run makes ~50 calls).
        self._run = tf.function(
            self._chunk, input_signature=signature, autograph=False
        ).get_concrete_function()

    def _chunk(self, packed, ints, xy):
        import tensorflow as tf

        model, variables, optimizer = self.model, self._weights, self.model.optimizer
        counts = ints[: len(self._count)]
        batch_size, count = (tf.cast(ints[-2], tf.int32), tf.cast(ints[-1], tf.int32))
        x, y = xy[:, :3], xy[:, 3:]
        for variable, value, shape in zip(
            self._packed, tf.split(packed, self._sizes), self._shapes, strict=True
        ):
            variable.assign(tf.reshape(value, shape))
        for index, position in enumerate(self._count):
            self._slots[position].assign(tf.cast(counts[index], self._slots[position].dtype))
        rows = tf.shape(x)[0]

        def body(i, losses, accuracies):
            start = i * batch_size
            end = tf.minimum(start + batch_size, rows)
            xb, yb = x[start:end], y[start:end]
            with tf.GradientTape() as tape:
                predicted = model(xb, training=True)
                loss = model.compute_loss(xb, yb, predicted)
            gradients = tape.gradient(loss, variables)
            optimizer.apply(gradients, variables)
            hits = tf.equal(tf.argmax(predicted, axis=1), tf.argmax(yb, axis=1))
            accuracy = tf.reduce_mean(tf.cast(hits, tf.float32))
            return i + 1, losses.write(i, loss), accuracies.write(i, accuracy)

        _, losses, accuracies = tf.while_loop(
            lambda i, *_: i < count,
            body,
            (
                tf.constant(0),
                tf.TensorArray(tf.float32, size=count),
                tf.TensorArray(tf.float32, size=count),
            ),
        )
        packed_out = tf.concat([tf.reshape(v.value, [-1]) for v in self._packed], axis=0)
        counts_out = tf.stack(
            [tf.cast(self._slots[p].value, tf.int64) for p in self._count]
            if self._count
            else tf.zeros([0], tf.int64)
        )
        return packed_out, counts_out, losses.stack(), accuracies.stack()

    def run(
        self,
        weights: list[np.ndarray],
        optimizer: list[np.ndarray],
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        count: int,
    ) -> ChunkResult:
        """Train ``count`` batches of ``batch_size`` rows of ``x``/``y`` (the last may be
        short) from ``weights`` and ``optimizer`` slots (in ``optimizer.variables``' order);
        the state after them and every batch's loss and accuracy."""
        floats = [s for i, s in enumerate(optimizer) if i not in self._count]
        packed = np.concatenate([np.ravel(a) for a in (*weights, *floats)]).astype(np.float32)
        ints = np.array(
            [*(int(optimizer[i]) for i in self._count), batch_size, count], dtype=np.int64
        )
        xy = np.concatenate([x, y], axis=1, dtype=np.float32)
        packed_out, counts_out, losses, accuracies = self._run(packed, ints, xy)
        values = np.split(np.asarray(packed_out), np.cumsum(self._sizes)[:-1])
        values = [v.reshape(shape) for v, shape in zip(values, self._shapes, strict=True)]
        new_weights, new_floats = values[: len(weights)], iter(values[len(weights) :])
        counts_iter = iter(np.asarray(counts_out))
        new_slots = [
            np.asarray(next(counts_iter), dtype=optimizer[i].dtype).reshape(optimizer[i].shape)
            if i in self._count
            else next(new_floats)
            for i in range(len(optimizer))
        ]
        return ChunkResult(
            weights=new_weights,
            optimizer=new_slots,
            losses=np.asarray(losses),
            accuracies=np.asarray(accuracies),
        )


_local = threading.local()


def chunk_step(hp: Hyperparams) -> ChunkStep:
    """This thread's template for ``hp``'s architecture, traced on first use."""
    cache: OrderedDict[Hashable, ChunkStep] | None = getattr(_local, "templates", None)
    if cache is None:
        cache = _local.templates = OrderedDict()
    key = architecture(hp)
    step = cache.get(key)
    if step is None:
        step = cache[key] = ChunkStep(hp)
        while len(cache) > TEMPLATES_PER_THREAD:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return step
