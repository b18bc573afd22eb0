"""The command line's commands: ``data``, ``train``, ``evaluate``, ``predict``, ``export`` and
``runs``, each taking argparse's namespace (``colorclf.cli`` builds the parser) and returning
the exit status; a user's mistake raises ``ColorclfError`` (one line, exit 2)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from colorclf.core.errors import ColorclfError, ModelFileError
from colorclf.core.hyperparams import PARAMS, Hyperparams, preset
from colorclf.core.labels import LABELS
from colorclf.core.links import format_value
from colorclf.core.predict import cross_entropy
from colorclf.core.text import count, one_line

if TYPE_CHECKING:
    import keras

    from colorclf.core.dataset import ColorDataset
    from colorclf.core.predict import Predictor
    from colorclf.core.rows import Row

PROG = "colorclf"


def _finite_or_none(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, indent=2, allow_nan=False))


def _load_data(source: str) -> ColorDataset:
    from colorclf.data.sources import load_source

    return load_source(source)


# ---------------------------------------------------------------------------- model files


def load_model_file(path: str | os.PathLike[str]) -> keras.Model:
    """Load a colour classifier saved as ``.keras`` with every check of
    ``train.modelfile.load_model_file`` (safe mode: no code runs from the file).

    Raises ModelFileError for a missing, oversized, corrupt or wrongly shaped file. The model
    is loaded without its optimiser (``compile=False``): the CLI only predicts and evaluates.
    """
    from colorclf.train.modelfile import load_model_file as load

    return load(path, compile=False)


def _predictor(model: keras.Model, name: str) -> Any:
    from colorclf.train.model import predictor_from_model

    try:
        return predictor_from_model(model)
    except ModelFileError as error:
        raise ModelFileError(f"{name}: {error}") from None


# ---------------------------------------------------------------------------- data


def cmd_data(args: argparse.Namespace) -> int:
    from colorclf.data.export import describe

    summary = describe(_load_data(args.source))
    if args.json:
        _print_json(summary)
        return 0
    print(f"source: {summary['source']}")
    print(f"rows kept: {summary['rows']}")
    print(f"rows skipped: {summary['skipped_total']}")
    for reason, skipped in summary["skipped"].items():
        print(f"  {reason}: {skipped}")
    print(f"contributors: {summary['contributors']}")
    print("rows per label:")
    width = max(len(name) for name in LABELS)
    for name, labelled in summary["labels"].items():
        print(f"  {name:<{width}}  {labelled}")
    return 0


# ---------------------------------------------------------------------------- train


def hyperparams_from_args(args: argparse.Namespace) -> Hyperparams:
    """The preset, with every explicitly given flag overriding it."""
    overrides = {p.name: getattr(args, p.name) for p in PARAMS if getattr(args, p.name) is not None}
    # Nobody watches a terminal's chart: the command line trains at full pace unless asked.
    overrides.setdefault("pace", "full")
    return preset(args.preset).replace(**overrides)


def cmd_train(args: argparse.Namespace) -> int:
    hp = hyperparams_from_args(args)
    save = Path(args.save) if args.save else None
    if save is not None:
        if save.suffix.lower() != ".keras":
            raise ColorclfError(f"--save: {args.save} must end in .keras")
        parent = save.parent if str(save.parent) else Path(".")
        if not parent.is_dir():
            raise ColorclfError(f"--save: the folder {parent} does not exist")
        if save.is_dir():
            raise ColorclfError(f"--save: {args.save} is a folder")
    dataset = _load_data(args.data)

    from colorclf.core.dataset import data_warning, stratified_split
    from colorclf.core.rows import batches_per_epoch
    from colorclf.train.console import ProgressSink
    from colorclf.train.loop import train

    split = stratified_split(dataset, hp.val_split, hp.seed)
    if len(split.x_train) == 0:
        raise ColorclfError(f"{args.data}: no rows left to train on")
    warning = data_warning(dataset, hp.val_split)
    if warning is not None:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    from colorclf.train.model import build_model

    model = build_model(hp)
    batches = batches_per_epoch(len(split.x_train), hp.batch_size)
    # Progress goes to stdout, or to stderr with --json (stdout then holds only the JSON);
    # a bar only on a terminal, plain per-epoch lines otherwise (none with --json).
    stream = sys.stderr if args.json else sys.stdout
    tty = stream.isatty()
    sink: Callable[[Row], None]
    if args.json and not tty:

        def sink(row: Row) -> None:
            return None
    else:
        sink = ProgressSink(hp.epochs, batches, stream, bar=tty)
    outcome = train(model, split, hp, sink)
    progress = outcome.progress
    # With patience the model holds the best epoch's weights at the end: report that epoch.
    restored = outcome.last_weights is not None
    last = outcome.kept_epoch_row or {}

    if save is not None:
        try:
            model.save(save)
        except OSError as error:
            raise ColorclfError(f"--save: cannot write {save}: {error.strerror or error}") from None

    result: dict[str, Any] = {
        "loss": last.get("loss"),
        "accuracy": last.get("accuracy"),
        "val_loss": last.get("val_loss"),
        "val_accuracy": last.get("val_accuracy"),
        "epochs": progress.epoch,
        "best_epoch": progress.best_epoch,
        "stopped_early": progress.stopped_early,
        "steps": progress.step,
        "seconds": progress.seconds,
        "hyperparams": {"preset": args.preset, **hp.as_dict()},
        "data": {
            "source": args.data,
            "rows": len(dataset),
            "train_rows": len(split.x_train),
            "val_rows": len(split.x_val),
        },
        "saved": str(save) if save is not None else None,
    }
    result = {k: _finite_or_none(v) for k, v in result.items()}
    if args.json:
        _print_json(result)
    else:
        val = result["val_accuracy"]
        print(
            f"trained {count(result['epochs'], 'epoch')} ({count(result['steps'], 'step')}) "
            f"in {result['seconds']:.1f} s on {count(len(split.x_train), 'colour')}; validation "
            f"accuracy {'n/a' if val is None else f'{val:.3f}'} on "
            f"{count(len(split.x_val), 'colour')}"
        )
        if progress.stopped_early:
            print(f"stopped early at epoch {progress.epoch} (best: epoch {progress.best_epoch})")
        elif restored:
            print(f"kept the weights of the best epoch, {progress.best_epoch}")
        if save is not None:
            print(f"saved {save}")
    return 0


# ---------------------------------------------------------------------------- evaluate


def evaluation(predictor: Predictor, dataset: ColorDataset) -> dict[str, Any]:
    """Overall and per-label accuracy (correct/total; ``None`` for labels without rows), from
    the same confusion matrix the page shows, and the mean cross-entropy."""
    from colorclf.views.matrix import confusion_matrix, per_class_accuracy

    per_class = per_class_accuracy(confusion_matrix(predictor, dataset.rgb, dataset.label))
    per_label: dict[str, dict[str, Any]] = {
        row.label: {
            "correct": int(row.correct),
            "total": int(row.colours),
            "accuracy": float(row.accuracy) if row.colours else None,
        }
        for row in per_class.itertuples(index=False)
    }
    total = len(dataset)
    correct = sum(entry["correct"] for entry in per_label.values())
    return {
        "accuracy": correct / total if total else None,
        "correct": correct,
        "total": total,
        "loss": cross_entropy(predictor.probabilities(dataset.rgb), dataset.label)
        if total
        else None,
        "per_label": per_label,
    }


def cmd_evaluate(args: argparse.Namespace) -> int:
    dataset = _load_data(args.data)
    model = load_model_file(args.model)
    result = evaluation(_predictor(model, args.model), dataset)
    result = {"model": args.model, "data": {"source": args.data, "rows": len(dataset)}, **result}
    if args.json:
        _print_json(result)
        return 0
    acc = result["accuracy"]
    print(
        f"accuracy: {'n/a' if acc is None else f'{acc:.3f}'} "
        f"({result['correct']}/{result['total']}) on {args.data}"
    )
    width = max(len(name) for name in LABELS)
    for name, entry in result["per_label"].items():
        share = "n/a" if entry["accuracy"] is None else f"{entry['accuracy']:.3f}"
        print(f"  {name:<{width}}  {share:>5}  ({entry['correct']}/{entry['total']})")
    return 0


# ---------------------------------------------------------------------------- predict


def cmd_predict(args: argparse.Namespace) -> int:
    model = load_model_file(args.model)
    label, probabilities = _predictor(model, args.model).predict_one(args.r, args.g, args.b)
    if args.json:
        _print_json(
            {"rgb": [args.r, args.g, args.b], "label": label, "probabilities": probabilities}
        )
        return 0
    print(f"rgb({args.r}, {args.g}, {args.b}) is {label}")
    width = max(len(name) for name in LABELS)
    for name, p in probabilities.items():
        print(f"  {name:<{width}}  {p:.4f}  {'█' * round(p * 30)}")
    return 0


# ---------------------------------------------------------------------------- export


def cmd_export(args: argparse.Namespace) -> int:
    from colorclf.core.tfjs import INPUT_SCALING, check_tfjs_folder, write_tfjs

    check_tfjs_folder(args.tfjs)  # before TensorFlow's import: a mistake costs no wait
    predictor = _predictor(load_model_file(args.model), args.model)
    for path in write_tfjs(predictor, args.tfjs):
        print(f"wrote {path}")
    print(f"TensorFlow.js layers model, {INPUT_SCALING}: tf.loadLayersModel('model.json')")
    return 0


# ---------------------------------------------------------------------------- runs


def _shared_runs() -> tuple[str, list[Any]]:
    """Where the board lives and its runs, best first; DataError when it cannot be read."""
    import sqlalchemy as sa

    from colorclf.core.errors import DataError
    from colorclf.store import RunBoard, get_store

    store = get_store()
    try:
        return store.description, RunBoard(store).runs()
    except sa.exc.SQLAlchemyError as err:
        message = one_line(getattr(err, "orig", None) or err)
        raise DataError(f"cannot read shared runs from {store.description}: {message}") from None


def _run_record(rank: int, run: Any) -> dict[str, Any]:
    return {
        "rank": rank,
        "id": run.id,
        "name": run.contributor,
        **run.metrics(),
        "epochs": run.epochs,
        "seconds": run.seconds,
        "data": run.data_source,
        "hyperparams": run.hyperparams.as_dict(),
        "shared_at": run.created_at.isoformat() + "Z" if run.created_at else None,
        "curve": run.curve,
    }


def cmd_runs(args: argparse.Namespace) -> int:
    where, runs = _shared_runs()
    records = [_run_record(rank, run) for rank, run in enumerate(runs, start=1)]
    if args.json:
        _print_json({"database": where, "runs": records})
        return 0
    if not records:
        print(f"no shared runs yet in {where}")
        return 0

    def number(value: float | None, digits: int) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    print(f"{count(len(records), 'shared run')} in {where}, best first")
    print(
        f"{'#':>3}  {'best acc':>8}  {'final acc':>9}  {'val loss':>8}  {'epochs':>6}  "
        f"{'seconds':>7}  name / settings / data"
    )
    for record in records:
        hp = record["hyperparams"]
        settings = (
            f"{hp['optimizer']} lr {format_value(hp['learning_rate'])}, "
            f"{hp['hidden_units']} {hp['activation']}, batch {hp['batch_size']}"
        )
        print(
            f"{record['rank']:>3}  {number(record['best_val_accuracy'], 3):>8}  "
            f"{number(record['final_val_accuracy'], 3):>9}  "
            f"{number(record['final_val_loss'], 4):>8}  {record['epochs']:>6}  "
            f"{number(record['seconds'], 1):>7}  {record['name']} / {settings} / "
            f"{record['data']}"
        )
    return 0
