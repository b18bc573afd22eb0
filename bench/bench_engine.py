"""The training engine against its floors, measured in one run: a bare ``model.fit`` of the
same work, and a NumPy loop of the same arithmetic.

    .venv/bin/python bench/bench_engine.py [--data PATH] [--repeats N]

For each preset (coding-train, tuned; their own validation split and seed, full pace), the
contenders run round-robin on a fresh model each time, and the medians are compared:

- **bare fit**: ``model.fit(x, y, batch_size, epochs, shuffle=True, verbose=0)``: Keras'
  own loop, no callback;
- **engine**: ``colorclf.train.loop.train`` as the trainer runs it on a fresh model, every
  batch's row handed to ``LossStream`` and a sink, the validation after each epoch; its
  template of this architecture traced already, as a warm trainer has it (the trainer traces
  each preset's template at start, and keeps every architecture it has trained);
- **engine, trace included**: the same with this thread's templates forgotten first, so the
  run traces its own: the first run of an architecture nobody trained yet (info);
- **engine, Keras' CallbackList** (info): the engine with ``keras.callbacks.CallbackList``
  in place of ``BatchCallbacks``: what leaving out Keras' per-batch ``pythonify_logs`` buys;
- **NumPy floor**: the same batches, forward pass, cross-entropy gradient and update rule
  (SGD, or Adam with Keras' bias correction) in NumPy float32, no rows, no validation.

Targets: engine ≤ 0.15 × the bare fit and ≤ 4 × the NumPy floor.
Exit status 1 when a target fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from colorclf.core.dataset import Split, stratified_split  # noqa: E402
from colorclf.core.hyperparams import PRESETS, Hyperparams  # noqa: E402
from colorclf.core.rows import epoch_order  # noqa: E402
from colorclf.data.sources import load_source  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "colorData.json"
TARGET_FIT_RATIO = 0.15
TARGET_FLOOR_RATIO = 4.0


def numpy_floor(split: Split, hp: Hyperparams, initial: list[np.ndarray]) -> None:
    """The run's arithmetic in NumPy: Dense(hidden, activation) → Dense(9, softmax), mean
    cross-entropy, SGD or Adam, over the same seeded batches."""
    w1, b1, w2, b2 = (w.astype(np.float32).copy() for w in initial)
    params = [w1, b1, w2, b2]
    slots = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    lr, n, bs = np.float32(hp.learning_rate), len(split.x_train), hp.batch_size
    act = hp.activation
    step = 0
    for epoch in range(hp.epochs):
        order = epoch_order(n, hp.seed, epoch)
        x_all, y_all = split.x_train[order], split.y_train[order]
        for start in range(0, n, bs):
            x, y = x_all[start : start + bs], y_all[start : start + bs]
            z = x @ w1 + b1
            if act == "sigmoid":
                h = 1 / (1 + np.exp(-z))
                dz_of = lambda dh, h=h: dh * h * (1 - h)  # noqa: E731
            elif act == "relu":
                h = np.maximum(z, 0)
                dz_of = lambda dh, z=z: dh * (z > 0)  # noqa: E731
            elif act == "tanh":
                h = np.tanh(z)
                dz_of = lambda dh, h=h: dh * (1 - h * h)  # noqa: E731
            else:
                h = np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
                dz_of = lambda dh, z=z, h=h: dh * np.where(z > 0, 1, h + 1)  # noqa: E731
            logits = h @ w2 + b2
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            d_logits = (p - y) / len(x)
            grads = [None, None, h.T @ d_logits, d_logits.sum(axis=0)]
            dz = dz_of(d_logits @ w2.T)
            grads[0], grads[1] = x.T @ dz, dz.sum(axis=0)
            step += 1
            for param, grad, (m, v) in zip(params, grads, slots, strict=True):
                if hp.optimizer == "adam":
                    m += (grad - m) * np.float32(0.1)
                    v += (grad * grad - v) * np.float32(0.001)
                    alpha = lr * np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
                    param -= alpha * m / (np.sqrt(v) + np.float32(1e-7))
                else:
                    param -= lr * grad


def contenders(split: Split, hp: Hyperparams) -> dict[str, Callable[[], None]]:
    import keras

    from colorclf.train import engine, loop
    from colorclf.train.loop import train
    from colorclf.train.model import build_model

    def bare() -> None:
        model = build_model(hp)
        model.fit(
            split.x_train,
            split.y_train,
            batch_size=hp.batch_size,
            epochs=hp.epochs,
            shuffle=True,
            verbose=0,
        )

    def streamed() -> None:
        rows: list[dict] = []
        train(build_model(hp), split, hp, rows.append)

    def traced() -> None:
        engine._local.templates = None  # this thread's templates: forgotten
        streamed()

    def keras_list() -> None:
        loop.BatchCallbacks = keras.callbacks.CallbackList  # type: ignore[misc]
        try:
            streamed()
        finally:
            loop.BatchCallbacks = BatchCallbacks  # type: ignore[misc]

    from colorclf.train.callback import BatchCallbacks

    initial = build_model(hp).get_weights()
    return {
        "bare fit": bare,
        "engine": streamed,
        "engine, trace included": traced,
        "engine, Keras' CallbackList": keras_list,
        "NumPy floor": lambda: numpy_floor(split, hp, initial),
    }


def measure(split: Split, hp: Hyperparams, repeats: int) -> dict[str, list[float]]:
    runs = contenders(split, hp)
    for fn in runs.values():  # warm-up: imports, Keras' own traces, this thread's template
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for index in range(repeats):
        for name in names if index % 2 == 0 else reversed(names):
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA) if DEFAULT_DATA.exists() else "builtin")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    dataset = load_source(args.data)
    print(
        f"data: {args.data} ({len(dataset)} colours); cores: {os.cpu_count()}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    table: list[tuple[str, str, str, str]] = []
    failed = False
    for name in ("coding-train", "tuned"):
        hp = PRESETS[name].replace(pace="full")
        split = stratified_split(dataset, hp.val_split, hp.seed)
        times = measure(split, hp, args.repeats)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"\n{name}: {hp.epochs} epochs × {-(-len(split.x_train) // hp.batch_size)} batches")
        for contender, values in times.items():
            spread = ", ".join(f"{v:.3f}" for v in values)
            print(f"  {contender:<28} median {med[contender]:.3f} s  [{spread}]")
        checks = (
            ("engine ÷ bare fit", med["engine"] / med["bare fit"], TARGET_FIT_RATIO),
            ("engine ÷ NumPy floor", med["engine"] / med["NumPy floor"], TARGET_FLOOR_RATIO),
            (
                "new architecture, trace included ÷ bare fit",
                med["engine, trace included"] / med["bare fit"],
                None,
            ),
            (
                "engine with Keras' CallbackList ÷ bare fit",
                med["engine, Keras' CallbackList"] / med["bare fit"],
                None,
            ),
        )
        for label, ratio, target in checks:
            if target is None:
                table.append((f"{name}: {label}", f"{ratio:.3f}", "(info)", ""))
                continue
            verdict = "PASS" if ratio <= target else "FAIL"
            failed |= verdict == "FAIL"
            table.append((f"{name}: {label}", f"{ratio:.3f}", f"≤ {target:g}", verdict))
    print(f"\nload at the end {os.getloadavg()[0]:.1f}\n")
    width = max(len(row[0]) for row in table)
    print(f"{'figure':<{width}}  {'value':>7}  {'target':>7}  verdict")
    for row in table:
        print(f"{row[0]:<{width}}  {row[1]:>7}  {row[2]:>7}  {row[3]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
