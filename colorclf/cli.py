"""The command line: ``python -m colorclf data|train|evaluate|predict|export|runs``.

The training options are generated from ``core.hyperparams.PARAMS`` (one ``--flag`` per setting,
with its help text and range), so the table stays the single source of truth.

A mistake a user can make (a bad file, URL, number or model file) ends with exactly one line
``colorclf: error: …`` on stderr and exit status 2, never a traceback. TensorFlow is imported
only by the commands that need it (not by ``data``), through ``colorclf.train``, which
silences its C++ log spam.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from colorclf.commands import (
    PROG,
    cmd_data,
    cmd_evaluate,
    cmd_export,
    cmd_predict,
    cmd_runs,
    cmd_train,
)
from colorclf.core.colour import channel
from colorclf.core.errors import ColorclfError
from colorclf.core.hyperparams import DEFAULT_PRESET, PARAMS, PRESETS, Param
from colorclf.core.text import one_line

EXIT_USAGE = 2
# Extra spellings for a few flags (the flag itself always comes from Param.flag).
FLAG_ALIASES: dict[str, tuple[str, ...]] = {"hidden_units": ("--hidden",)}


class UsageError(ColorclfError):
    """A command line argparse could not understand."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage and exiting, so errors stay one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# ---------------------------------------------------------------------------- helpers


def _param_type(param: Param) -> Callable[[str], object]:
    """An argparse ``type`` that parses and range-checks one setting with the table's rules."""

    def convert(raw: str) -> object:
        try:
            value = param.parse(raw)
            param.check(value)
        except ColorclfError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    convert.__name__ = param.name  # argparse names the type in some messages
    return convert


def _param_help(param: Param) -> str:
    if param.kind is str:
        allowed = f"one of {', '.join(param.choices)}"
    else:
        low = "" if param.minimum is None else _number(param.minimum)
        high = "" if param.maximum is None else _number(param.maximum)
        allowed = f"{low}–{high}"
    return f"{param.help} ({allowed}; default: from the preset)"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _channel_type(name: str) -> Callable[[str], int]:
    """An argparse ``type`` for one colour channel: a whole number, then the store's check."""

    def convert(raw: str) -> int:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value.is_integer()):
            raise argparse.ArgumentTypeError(f"{name} must be a whole number 0..255, not {raw!r}")
        try:
            return channel(int(value), name)
        except ColorclfError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = name
    return convert


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="The Coding Train's colour classifier on the command line.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="Summarise a data set: rows, skips, labels.")
    data.add_argument("source", metavar="SOURCE", help='"builtin", "votes", a file or a URL')
    data.add_argument("--json", action="store_true", help="print one JSON object")
    data.set_defaults(run=cmd_data)

    train = commands.add_parser("train", help="Train a model and report its accuracy.")
    train.add_argument(
        "--data", default="builtin", metavar="SOURCE", help="data (default: builtin)"
    )
    train.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        choices=tuple(PRESETS),
        help=f"starting settings; flags override them (default: {DEFAULT_PRESET})",
    )
    for param in PARAMS:
        metavar = "{" + ",".join(param.choices) + "}" if param.choices else param.name.upper()
        train.add_argument(
            param.flag,
            *FLAG_ALIASES.get(param.name, ()),
            dest=param.name,
            type=_param_type(param),
            default=None,
            metavar=metavar,
            help=_param_help(param),
        )
    train.add_argument("--save", metavar="PATH.keras", help="write the trained model here")
    train.add_argument(
        "--json", action="store_true", help="print one JSON object at the end (no progress)"
    )
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="Accuracy of a saved model on a data set.")
    evaluate.add_argument("--model", required=True, metavar="PATH", help="a .keras file")
    evaluate.add_argument("--data", required=True, metavar="SOURCE", help="data to score on")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="Name one colour with a saved model.")
    predict.add_argument("--model", required=True, metavar="PATH", help="a .keras file")
    for name in ("r", "g", "b"):
        predict.add_argument(name, type=_channel_type(name), metavar=name.upper(), help="0..255")
    predict.add_argument("--json", action="store_true", help="print one JSON object")
    predict.set_defaults(run=cmd_predict)

    export = commands.add_parser(
        "export", help="Write a saved model for TensorFlow.js (model.json + weights .bin)."
    )
    export.add_argument("--model", required=True, metavar="PATH", help="a .keras file")
    export.add_argument(
        "--tfjs", required=True, metavar="DIR", help="folder for model.json and the .bin"
    )
    export.set_defaults(run=cmd_export)

    runs = commands.add_parser(
        "runs", help="List the runs shared with the class (the /class board), best first."
    )
    runs.add_argument("--json", action="store_true", help="print one JSON object")
    runs.set_defaults(run=cmd_runs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0, or 2 for a user's mistake)."""
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help
            return done.code if isinstance(done.code, int) else 0
        return int(args.run(args))
    except ColorclfError as error:
        sys.stdout.flush()
        print(f"{PROG}: error: {one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # e.g. `colorclf data builtin | head -1`: the reader left; nothing more to say.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - avoid a second error at exit
        return 0
