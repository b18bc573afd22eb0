"""Runs shared with the class: one ``shared_runs`` table next to the votes, in the same database.

A ``RunBoard`` works through its ``VoteStore``'s engine and transactions, so it inherits the
SQLite write serialisation and, on PostgreSQL, a per-contributor advisory lock (in its own
namespace): replicas that share the database cannot both pass the limits for one student.
Every query binds its values; names are stored verbatim (``clean_contributor``) and shown as
plain text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from colorclf.core.errors import ColorclfError
from colorclf.core.hyperparams import Hyperparams
from colorclf.core.text import count, one_line
from colorclf.store.schema import clean_contributor, printable, shared_runs
from colorclf.store.votes import VoteStore

CURVE_KEYS: tuple[str, ...] = ("loss", "val_loss", "accuracy", "val_accuracy")
MAX_CURVE_EPOCHS = 1000
MAX_SOURCE_LENGTH = 200
_PG_RUNS_LOCK_NAMESPACE = 0x434C5255  # "CLRU": share limits, apart from the votes' locks


class ShareRefused(ColorclfError):
    """A share the limits turned down (too soon, too many); the message says which."""


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _finite(value: object) -> float | None:
    """A finite float, else None (a run that diverged has NaN losses)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class SharedRun:
    """One run on the class board. ``curve`` maps each of ``CURVE_KEYS`` to a per-epoch list."""

    contributor: str
    hyperparams: Hyperparams
    data_source: str
    curve: dict[str, list[float | None]]
    seconds: float | None = None
    id: int | None = None
    created_at: datetime | None = None

    @property
    def epochs(self) -> int:
        return len(self.curve.get("val_loss") or self.curve.get("loss") or [])

    def metrics(self) -> dict[str, float | None]:
        """Final and best validation accuracy and loss (None when a run has no finite one)."""
        accuracy = [v for v in self.curve.get("val_accuracy", []) if v is not None]
        loss = [v for v in self.curve.get("val_loss", []) if v is not None]
        last = {key: (self.curve.get(key) or [None])[-1] for key in ("val_accuracy", "val_loss")}
        return {
            "final_val_accuracy": last["val_accuracy"],
            "final_val_loss": last["val_loss"],
            "best_val_accuracy": max(accuracy) if accuracy else None,
            "best_val_loss": min(loss) if loss else None,
        }


def shared_run_from_epochs(
    contributor: str,
    hyperparams: Hyperparams,
    data_source: str,
    epoch_rows: Sequence[Mapping[str, Any]],
) -> SharedRun:
    """A run to share from its epoch rows (``Run.epoch_rows()``); the batch history stays out."""
    curve = {key: [_finite(row.get(key)) for row in epoch_rows] for key in CURVE_KEYS}
    seconds = _finite(epoch_rows[-1].get("seconds")) if epoch_rows else None
    return SharedRun(contributor, hyperparams, data_source, curve, seconds)


def _checked(run: SharedRun) -> dict[str, Any]:
    """The row to insert, or ColorclfError: bounded text and curves, finite numbers only."""
    if not isinstance(run.hyperparams, Hyperparams):
        raise ColorclfError("a shared run needs its hyperparameters")
    source = one_line(printable(str(run.data_source)))[:MAX_SOURCE_LENGTH] or "unknown"
    lengths = {len(run.curve.get(key) or []) for key in CURVE_KEYS}
    if len(lengths) != 1 or not 1 <= lengths.pop() <= MAX_CURVE_EPOCHS:
        raise ColorclfError(
            f"a shared run needs 1..{MAX_CURVE_EPOCHS} finished epochs, the same number per curve"
        )
    curve = {key: [_finite(v) for v in run.curve[key]] for key in CURVE_KEYS}
    checked = SharedRun(run.contributor, run.hyperparams, source, curve, _finite(run.seconds))
    return {
        "contributor": clean_contributor(run.contributor),
        "hyperparams": json.dumps(run.hyperparams.as_dict(), sort_keys=True),
        "data_source": source,
        **checked.metrics(),
        "epochs": checked.epochs,
        "seconds": checked.seconds,
        "curve": json.dumps(curve, allow_nan=False),
    }


def _from_row(row: Any) -> SharedRun:
    raw_hp = json.loads(row.hyperparams)
    hyperparams, _ = Hyperparams.from_mapping(raw_hp if isinstance(raw_hp, dict) else {})
    raw_curve = json.loads(row.curve)
    curve = {key: [_finite(v) for v in raw_curve.get(key, [])] for key in CURVE_KEYS}
    return SharedRun(
        contributor=row.contributor,
        hyperparams=hyperparams,
        data_source=row.data_source,
        curve=curve,
        seconds=row.seconds,
        id=int(row.id),
        created_at=row.created_at,
    )


class RunBoard:
    """The class board's runs, in the database of ``store``.

    Limits, per contributor: ``min_interval`` seconds between two shares and at most
    ``max_per_contributor`` runs on the board; and at most ``max_runs`` runs in all (a full
    board must be cleared by the teacher). 0 or None switches a limit off.
    """

    def __init__(
        self,
        store: VoteStore,
        *,
        min_interval: float | None = 5.0,
        max_per_contributor: int | None = 20,
        max_runs: int | None = 2000,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.min_interval = float(min_interval or 0.0)
        self.max_per_contributor = int(max_per_contributor or 0)
        self.max_runs = int(max_runs or 0)
        self._clock = clock

    @property
    def description(self) -> str:
        return self.store.description

    def share(self, run: SharedRun) -> int:
        """Store ``run``; returns its id. ShareRefused when a limit says no, ColorclfError
        for a run that cannot be stored."""
        row = _checked(run)
        who = row["contributor"]
        with self.store.write(who, _PG_RUNS_LOCK_NAMESPACE) as conn:
            now = self._clock()
            self._check_limits(conn, who, now)
            result = conn.execute(shared_runs.insert(), {**row, "created_at": now})
            return int(result.inserted_primary_key[0])

    def _check_limits(self, conn: sa.Connection, who: str, now: datetime) -> None:
        mine, last = conn.execute(
            sa.select(sa.func.count(), sa.func.max(shared_runs.c.created_at)).where(
                shared_runs.c.contributor == who
            )
        ).one()
        if self.max_per_contributor and mine >= self.max_per_contributor:
            raise ShareRefused(
                f"you have shared {count(mine, 'run')}, the most one person may; ask your teacher "
                "to remove one"
            )
        if self.min_interval and last is not None:
            wait = self.min_interval - (now - last).total_seconds()
            if wait > 0:
                raise ShareRefused(f"you shared a run just now; try again in {math.ceil(wait)} s")
        if self.max_runs:
            total = conn.execute(sa.select(sa.func.count()).select_from(shared_runs)).scalar_one()
            if total >= self.max_runs:
                raise ShareRefused(
                    f"the class board is full ({count(total, 'run')}); ask your teacher to clear it"
                )

    def runs(self) -> list[SharedRun]:
        """Every shared run, best first: best validation accuracy, then lower loss, then oldest."""
        query = sa.select(shared_runs).order_by(
            sa.case((shared_runs.c.best_val_accuracy.is_(None), 1), else_=0),
            shared_runs.c.best_val_accuracy.desc(),
            shared_runs.c.best_val_loss.asc(),
            shared_runs.c.id,
        )
        with self.store.read() as conn:
            return [_from_row(row) for row in conn.execute(query)]

    def count(self) -> int:
        with self.store.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(shared_runs)).scalar_one()
            )

    def remove(self, run_id: int) -> int:
        """Delete one shared run; returns how many rows went (0 or 1)."""
        with self.store.write() as conn:
            result = conn.execute(shared_runs.delete().where(shared_runs.c.id == int(run_id)))
        return int(result.rowcount)

    def clear(self) -> int:
        """Delete every shared run; returns how many."""
        with self.store.write() as conn:
            result = conn.execute(shared_runs.delete())
        return int(result.rowcount)
