"""One declarative table of training settings.

Every hyperparameter is described once, in ``PARAMS``; the page's widgets, the command
line's options and the shareable link's query parameters are all generated from it
(TensorFlow Playground's ``state.ts``, for colours).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from colorclf.core.errors import ColorclfError


@dataclass(frozen=True)
class Param:
    """One setting: its name (attribute, query parameter, ``--flag``), label and valid values;
    for numbers, the widget's ``step`` and display ``format`` (None: Streamlit's default)."""

    name: str
    label: str
    kind: type
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    step: float = 1
    format: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, raw: object) -> object:
        """Convert a raw value (text from a URL or the command line, or a widget value).

        Raises ColorclfError when it is not of the right type at all.
        """
        if self.kind is str:
            text = str(raw).strip().lower()
            if text not in self.choices:
                raise ColorclfError(f"{self.name}: {raw!r} is not one of {', '.join(self.choices)}")
            return text
        try:
            number = float(str(raw).strip()) if not isinstance(raw, (int, float)) else float(raw)
        except ValueError:
            raise ColorclfError(f"{self.name}: {raw!r} is not a number") from None
        if not math.isfinite(number):
            raise ColorclfError(f"{self.name}: {raw!r} is not a finite number")
        if self.kind is int:
            if number != int(number):
                raise ColorclfError(f"{self.name}: {raw!r} is not a whole number")
            return int(number)
        return number

    def clamp(self, value: object) -> object:
        """The nearest valid value (numbers only; choices are checked by ``parse``)."""
        if self.kind is str:
            return value
        low = self.minimum if self.minimum is not None else -math.inf
        high = self.maximum if self.maximum is not None else math.inf
        clamped = min(max(value, low), high)  # type: ignore[type-var]
        return self.kind(clamped)

    def check(self, value: object) -> None:
        """Raise ColorclfError when ``value`` is outside the valid range."""
        if self.kind is str:
            self.parse(value)
            return
        if self.clamp(value) != value:
            raise ColorclfError(
                f"{self.name} must be between {_fmt(self.minimum)} and {_fmt(self.maximum)}, "
                f"got {_fmt(value)}"
            )


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


PARAMS: tuple[Param, ...] = (
    Param(
        "epochs",
        "Epochs",
        int,
        "One epoch: the network sees every training colour once. More epochs, more practice.",
        1,
        200,
    ),
    Param(
        "batch_size",
        "Batch size",
        int,
        "A batch: the colours the network looks at before it adjusts its weights once.",
        1,
        1024,
    ),
    Param(
        "learning_rate",
        "Learning rate",
        float,
        "How big each adjustment of the weights is: too small learns slowly, too big "
        "jumps about and may never settle. The tutorial uses 0.25 with SGD.",
        1e-4,
        10.0,
        step=0.001,
        format="%.4f",
    ),
    Param(
        "hidden_units",
        "Hidden units",
        int,
        "Neurons between the colour and the answer: more can learn finer borders.",
        1,
        256,
    ),
    Param(
        "activation",
        "Activation",
        str,
        "How a hidden neuron turns its sum into its output (the bend that lets the "
        "network draw curved borders between names).",
        choices=("sigmoid", "relu", "tanh", "elu"),
    ),
    Param(
        "optimizer",
        "Optimizer",
        str,
        "The rule for adjusting the weights: sgd (the tutorial's) or adam (adapts its steps).",
        choices=("sgd", "adam"),
    ),
    Param(
        "val_split",
        "Validation split",
        float,
        "Validation: the share of colours kept out of training, to check the network on "
        "colours it never saw (has it learnt the names, or the colours by heart?).",
        0.05,
        0.5,
        step=0.01,
        format="%.2f",
    ),
    Param(
        "seed", "Seed", int, "Same seed, same run: weights, split and batch order.", 0, 2**31 - 1
    ),
    Param(
        "patience",
        "Patience",
        int,
        "Early stopping: epochs without a better validation loss before training stops and "
        "goes back to the best epoch's weights (0: off).",
        0,
        200,
    ),
    Param(
        "pace",
        "Pace",
        str,
        "live: the run is slowed to a watchable speed (about two epochs a second) so you can "
        "see the loss fall; full: as fast as the machine goes.",
        choices=("live", "full"),
    ),
)
PARAMS_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}


@dataclass(frozen=True)
class Hyperparams:
    """A complete, valid training configuration. Defaults are the Coding Train tutorial's."""

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 0.25
    hidden_units: int = 16
    activation: str = "sigmoid"
    optimizer: str = "sgd"
    val_split: float = 0.1
    seed: int = 0
    patience: int = 0
    # How fast the run is shown, not what it learns: two runs that differ only in pace are
    # the same run (presets, the runs table and the model compare equal).
    pace: str = dataclasses.field(default="live", compare=False)

    def __post_init__(self) -> None:
        for param in PARAMS:
            param.check(getattr(self, param.name))

    def replace(self, **changes: object) -> Hyperparams:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, object], base: Hyperparams | None = None
    ) -> tuple[Hyperparams, list[str]]:
        """Read settings from text or numbers, clamping out-of-range values.

        Returns the configuration and one notice per value that was clamped or ignored, so
        a page can show what it changed instead of failing. Unknown names are ignored.
        """
        settings = (base or cls()).as_dict()
        notices: list[str] = []
        for name, raw in values.items():
            param = PARAMS_BY_NAME.get(name)
            if param is None or raw is None:
                continue
            try:
                value = param.parse(raw)
            except ColorclfError as error:
                notices.append(f"{error}; kept {_fmt(settings[name])}")
                continue
            clamped = param.clamp(value)
            if clamped != value:
                notices.append(
                    f"{name}={_fmt(value)} is outside {_fmt(param.minimum)}–"
                    f"{_fmt(param.maximum)}; using {_fmt(clamped)}"
                )
            settings[name] = clamped
        return cls(**settings), notices  # type: ignore[arg-type]


PRESETS: dict[str, Hyperparams] = {
    # The tutorial: Dense(16, sigmoid) → Dense(9, softmax), SGD 0.25, 10 epochs, batch 32.
    "coding-train": Hyperparams(),
    # More accurate on the crowd data; with early stopping (the best epoch's weights). On
    # colorData.json, 20 % split, seed 0 (`train --preset tuned --val-split 0.2 --seed 0`):
    # 0.787 validation accuracy, best epoch 19 of 25 trained, 3.5 s on 2 shared cores; a
    # 21-nearest-neighbour vote scores 0.790 there, the tutorial's network 0.69.
    "tuned": Hyperparams(
        epochs=30,
        batch_size=128,
        learning_rate=0.02,
        hidden_units=64,
        activation="relu",
        optimizer="adam",
        val_split=0.1,
        seed=0,
        patience=6,
    ),
}
DEFAULT_PRESET = "coding-train"
# ``live``: this many epochs a second at most, so the tutorial's 10 epochs animate for ~5 s.
LIVE_EPOCHS_PER_SECOND = 2.0
# A class trains at once: with more than this many runs at once, the live panels redraw, and
# the trainer hands a paced run's rows over, proportionally less often (load_factor).
FULL_RATE_RUNS = 3


def load_factor(active_runs: int) -> float:
    """How many times less often than at their full rate the live runs are drawn and chunked
    while ``active_runs`` train at once (bench/bench_class.py: thirty pages at ten frames a
    second, fed ten chunks a second each, starved the server)."""
    return max(1.0, active_runs / FULL_RATE_RUNS)


# The name of settings that are no preset's (the Preset box shows it once a setting changes).
CUSTOM = "custom"


def preset_name_of(hp: Hyperparams) -> str:
    """The preset whose settings are exactly ``hp``, else ``CUSTOM``."""
    return next((name for name, settings in PRESETS.items() if settings == hp), CUSTOM)


def preset(name: str) -> Hyperparams:
    try:
        return PRESETS[name]
    except KeyError:
        raise ColorclfError(
            f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}"
        ) from None
