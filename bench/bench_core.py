"""Benchmark of the headless core: training overhead, prediction latency, preset accuracy.

    .venv/bin/python bench/bench_core.py [--data PATH] [--repeats N] [--quick]

All comparisons are measured in this one run, with the contenders interleaved (A B, B A, …)
and the median of the repeats taken, because absolute times wander on a shared machine.

(a) bare ``model.fit`` (one call, validation_data, shuffle) vs ``training.train`` with the
    loss stream and a no-op sink, same configuration → ratio.
(b) latency for one colour: ``Predictor.predict_one`` vs ``model(x)`` vs ``model.predict``,
    and a 64×64 grid through ``Predictor.probabilities``.
(c) both presets on ``--data`` (default: ../shared/datasets/colorData.json if it exists,
    else the built-in set) with a 20 % split, seed 0: validation accuracy and training
    seconds (with early stopping: the best epoch's accuracy, the weights it keeps, and all
    the epochs' seconds), checked against the requirement for ``tuned`` (≥ 0.785 in ≤ 5 s).

Exit status 1 when the requirement is not met (never in ``--quick`` mode, which is a smoke run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from colorclf.core.dataset import ColorDataset, Split, stratified_split  # noqa: E402
from colorclf.core.hyperparams import PRESETS, Hyperparams, preset  # noqa: E402
from colorclf.data.sources import load_source  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "colorData.json"
REQUIRED_ACCURACY = 0.785  # a nearest-neighbour vote scores 0.790 on this split
REQUIRED_SECONDS = 5.0


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(contenders: dict[str, tuple[Callable[[], Any], int]], rounds: int) -> dict:
    """Median seconds per call of each contender, measured round-robin so that load changes on
    a shared machine hit every contender alike. Each contender is ``(fn, calls per round)``;
    one warm-up call each comes first."""
    for fn, _ in contenders.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, (fn, calls) in contenders.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: median(values) for name, values in samples.items()}


def noop(row: dict) -> None:
    return None


# ---------------------------------------------------------------------------- (a)


def bench_fit_vs_train(split: Split, hp: Hyperparams, repeats: int) -> Any:
    """Returns the last model trained by ``train`` (for the prediction benchmark)."""
    import keras

    from colorclf.train.loop import train
    from colorclf.train.model import build_model

    def bare() -> None:
        model = build_model(hp)
        seconds.setdefault("fit", []).append(
            timed(
                lambda: model.fit(
                    split.x_train,
                    split.y_train,
                    batch_size=hp.batch_size,
                    epochs=hp.epochs,
                    validation_data=(split.x_val, split.y_val),
                    shuffle=True,
                    verbose=0,
                )
            )
        )

    def streamed() -> None:
        model = build_model(hp)
        seconds.setdefault("train", []).append(timed(lambda: train(model, split, hp, noop)))
        last[0] = model

    seconds: dict[str, list[float]] = {}
    last: list[Any] = [None]
    # Warm-up (process-wide lazy initialisation), not counted.
    bare()
    streamed()
    seconds.clear()
    for i in range(repeats):
        for run in (bare, streamed) if i % 2 == 0 else (streamed, bare):
            run()
        keras.backend.clear_session(free_memory=False)
    fit_s, train_s = median(seconds["fit"]), median(seconds["train"])
    pair = median([t / f for t, f in zip(seconds["train"], seconds["fit"], strict=True)])
    print(
        f"(a) training, {hp.epochs} epochs × {len(split.x_train)} colours, batch "
        f"{hp.batch_size}, median of {repeats}:"
    )
    print(f"    model.fit (bare, one call)         {fit_s:7.2f} s   {_spread(seconds['fit'])}")
    print(f"    training.train (stream, no-op sink) {train_s:6.2f} s   {_spread(seconds['train'])}")
    print(f"    ratio train / fit: {train_s / fit_s:.2f}× (median of paired ratios {pair:.2f}×)")
    return last[0]


def _spread(values: list[float]) -> str:
    return "[" + " ".join(f"{v:.2f}" for v in values) + "]"


# ---------------------------------------------------------------------------- (b)


def bench_prediction(model: Any, quick: bool) -> None:
    from colorclf.core.dataset import scale_rgb
    from colorclf.train.model import predictor_from_model

    predictor = predictor_from_model(model)
    one = scale_rgb(np.array([[255, 128, 0]]))
    steps = np.linspace(0, 255, 64).round()
    grid = np.array([[r, g, 128] for g in steps for r in steps])  # 64×64 = 4,096 colours
    rounds = 5 if quick else 40
    one_colour = interleaved(
        {
            "predict_one": (lambda: predictor.predict_one(255, 128, 0), 200),
            "call": (lambda: model(one, training=False), 5),
            "predict": (lambda: model.predict(one, verbose=0), 1),
        },
        rounds,
    )
    fast, call, keras_predict = (one_colour[k] for k in ("predict_one", "call", "predict"))
    whole_grid = interleaved(
        {
            "predictor": (lambda: predictor.probabilities(grid), 5),
            "call": (lambda: model(scale_rgb(grid), training=False), 5),
        },
        rounds,
    )
    grid_s, grid_call = whole_grid["predictor"], whole_grid["call"]
    print(f"(b) prediction latency (median per call, {rounds} interleaved rounds):")
    print(f"    Predictor.predict_one   {fast * 1e3:9.3f} ms")
    print(f"    model(x)                {call * 1e3:9.3f} ms   {call / fast:8.0f}× predict_one")
    print(
        f"    model.predict(x)        {keras_predict * 1e3:9.3f} ms   "
        f"{keras_predict / fast:8.0f}× predict_one"
    )
    print(
        f"    64×64 grid (4,096 colours): Predictor.probabilities {grid_s * 1e3:.2f} ms, "
        f"model(grid) {grid_call * 1e3:.2f} ms = {grid_call / grid_s:.1f}× Predictor"
    )


# ---------------------------------------------------------------------------- (c)


def bench_presets(dataset: ColorDataset, repeats: int, quick: bool) -> bool:
    import keras

    from colorclf.train.loop import train
    from colorclf.train.model import build_model

    results: dict[str, dict[str, list[float]]] = {
        name: {"acc": [], "s": [], "cpu": []} for name in PRESETS
    }
    for i in range(repeats):
        names = list(PRESETS) if i % 2 == 0 else list(reversed(PRESETS))
        for name in names:
            hp = preset(name).replace(val_split=0.2, seed=0)
            if quick:
                hp = hp.replace(epochs=min(hp.epochs, 2))
            split = stratified_split(dataset, hp.val_split, hp.seed)
            model = build_model(hp)
            cpu = time.process_time()
            outcome = train(model, split, hp, noop)
            results[name]["cpu"].append(time.process_time() - cpu)
            row = outcome.kept_epoch_row or {}  # with patience: the best epoch's weights
            results[name]["acc"].append(float(row["val_accuracy"]))
            results[name]["s"].append(float(outcome.progress.seconds))
            keras.backend.clear_session(free_memory=False)

    print(
        f"(c) presets on {dataset.source} ({len(dataset)} colours), 20 % validation split, "
        f"seed 0{' — QUICK: at most 2 epochs, not a verdict' if quick else ''}:"
    )
    base = median(results["coding-train"]["s"])
    for name in PRESETS:
        hp = preset(name).replace(epochs=min(preset(name).epochs, 2)) if quick else preset(name)
        acc, secs = results[name]["acc"], results[name]["s"]
        spread = "" if max(acc) == min(acc) else f" (runs: {min(acc):.4f}–{max(acc):.4f})"
        print(
            f"    {name:<13} val_accuracy {median(acc):.4f}{spread}   training "
            f"{median(secs):5.2f} s {_spread(secs)} = {median(secs) / base:.2f}× coding-train "
            f"(CPU {median(results[name]['cpu']):.1f} s)   "
            f"[{hp.hidden_units} {hp.activation}, {hp.optimizer} {hp.learning_rate:g}, "
            f"batch {hp.batch_size}, {hp.epochs} epochs, patience {hp.patience}]"
        )
    acc, secs = median(results["tuned"]["acc"]), median(results["tuned"]["s"])
    ok = acc >= REQUIRED_ACCURACY and secs <= REQUIRED_SECONDS
    verdict = "n/a (quick)" if quick else ("PASS" if ok else "FAIL")
    print(
        f"    requirement: tuned ≥ {REQUIRED_ACCURACY:.3f} in ≤ {REQUIRED_SECONDS:g} s → "
        f"{acc:.4f} in {secs:.2f} s: {verdict}"
    )
    return ok or quick


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=str(DEFAULT_DATA) if DEFAULT_DATA.exists() else "builtin",
        help="data source for (a) and (c) (default: the crowd data if present, else builtin)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (≥ 3)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else max(args.repeats, 3)

    dataset = load_source(args.data)
    import keras
    import tensorflow as tf

    print(
        f"colorclf core benchmark — Keras {keras.__version__}, TensorFlow {tf.__version__}, "
        f"{os.cpu_count()} CPUs, data {dataset.source} ({len(dataset)} colours)"
    )
    print(f"load average at start: {_load()} (above the CPU count, absolute seconds inflate)")
    hp = preset("coding-train").replace(val_split=0.2, seed=0)
    if args.quick:
        hp = hp.replace(epochs=2)
    split = stratified_split(dataset, hp.val_split, hp.seed)
    model = bench_fit_vs_train(split, hp, repeats)
    bench_prediction(model, args.quick)
    ok = bench_presets(dataset, repeats, args.quick)
    print(f"load average at end: {_load()}")
    return 0 if ok else 1


def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
