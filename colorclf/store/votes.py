"""The class's own votes: one table in SQLite (one machine) or PostgreSQL (hosted, replicas).

The label page builds a ``VoteStore`` on the engine of ``st.connection("sql", ...)``; the
command line and the training page use ``get_store()`` / ``load_votes_dataset()``
(``colorclf.store.config``) with the same URL rules.

Every query is SQLAlchemy Core with bound parameters. Labels are checked twice: in Python
(``ColorclfError``) and by a CHECK constraint in the database. The per-contributor rate
limit is enforced here, not in the page, and the database is its source of truth:

- SQLite: every write runs in ``BEGIN IMMEDIATE`` (one writer at a time across processes),
  and one lock per database file serialises this process's writers so they never spin in
  SQLite's busy handler. WAL mode lets readers run alongside the writer.
- PostgreSQL: a transaction-scoped advisory lock per contributor, so replicas that share
  the database cannot both pass the limit check for the same contributor.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from colorclf.core.colour import channel
from colorclf.core.dataset import ColorDataset, to_coding_train_json
from colorclf.core.errors import ColorclfError
from colorclf.core.labels import LABELS
from colorclf.store.engines import prepare_sqlite, sqlite_write_lock
from colorclf.store.schema import clean_contributor, metadata, votes

# Namespace for PostgreSQL advisory locks (two-key form: namespace, hash of contributor).
_PG_LOCK_NAMESPACE = 0x434C4652  # "CLFR"
_LOCK_STRIPES = 64


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class VoteStore:
    """Votes (r, g, b, label, contributor) in one ``votes`` table, created on first use.

    ``min_interval`` (seconds between two votes of one contributor) and ``max_per_minute``
    make the rate limit; 0 or None switches that part off. ``clock`` returns naive UTC
    datetimes (tests pass a fake one).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        min_interval: float | None = 0.15,
        max_per_minute: int | None = 120,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.min_interval = float(min_interval or 0.0)
        self.max_per_minute = int(max_per_minute or 0)
        self._clock = clock
        self._is_sqlite = engine.dialect.name == "sqlite"
        self._is_postgres = engine.dialect.name == "postgresql"
        if self._is_sqlite:
            prepare_sqlite(engine)
            self._sqlite_lock: threading.Lock | None = sqlite_write_lock(engine)
        else:
            self._sqlite_lock = None
        self._stripes = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    # -- plumbing

    @property
    def description(self) -> str:
        """Where the votes live, for messages (never shows a password)."""
        url = self.engine.url
        if self._is_sqlite:
            return f"SQLite {url.database or ':memory:'}"
        return url.render_as_string(hide_password=True)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            if sa.inspect(self.engine).has_table("votes"):
                self._schema_ready = True  # a read-only database is read without a write
                return
            try:
                # On SQLite, BEGIN IMMEDIATE: a deferred transaction that reads the schema
                # and then writes fails at once ("database is locked") if another
                # connection wrote in between.
                with self._sqlite_lock or nullcontext(), self.engine.connect() as raw:
                    conn = raw.execution_options(colorclf_write=True)
                    with conn.begin():
                        metadata.create_all(conn, checkfirst=True)
            except sa.exc.DBAPIError:
                # Another process created it between our check and our CREATE.
                inspector = sa.inspect(self.engine)
                if not all(inspector.has_table(name) for name in metadata.tables):
                    raise
            self._schema_ready = True

    def write(
        self, contributor: str | None = None, lock_namespace: int = _PG_LOCK_NAMESPACE
    ) -> AbstractContextManager[Connection]:
        """A write transaction, serialised as the module docstring explains.

        With ``contributor``, writes of that contributor are serialised (for the rate limit);
        on PostgreSQL under an advisory lock in ``lock_namespace`` (one per kind of write).
        """
        return self._write(contributor, lock_namespace)

    @contextmanager
    def _write(self, contributor: str | None, lock_namespace: int) -> Iterator[Connection]:
        self._ensure_schema()
        lock: AbstractContextManager[Any] = nullcontext()
        if self._sqlite_lock is not None:
            lock = self._sqlite_lock
        elif contributor is not None:
            lock = self._stripes[zlib.crc32(contributor.encode()) % _LOCK_STRIPES]
        with lock, self.engine.connect() as raw:
            conn = raw.execution_options(colorclf_write=True) if self._is_sqlite else raw
            with conn.begin():
                if contributor is not None and self._is_postgres:
                    conn.execute(
                        sa.select(
                            sa.func.pg_advisory_xact_lock(
                                sa.literal(lock_namespace, sa.Integer),
                                sa.func.hashtext(sa.bindparam("c", contributor)),
                            )
                        )
                    )
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (the schema exists)."""
        self._ensure_schema()
        with self.engine.connect() as conn:
            yield conn

    # -- writing

    def add_vote(self, r: int, g: int, b: int, label: str, contributor: str) -> bool:
        """Store one vote; False (nothing stored) when the contributor is over the limit."""
        return self.cast_vote(r, g, b, label, contributor) is not None

    def cast_vote(self, r: int, g: int, b: int, label: str, contributor: str) -> int | None:
        """``add_vote`` that returns the stored vote's id (for ``undo_vote``), or None when
        the contributor is over the limit."""
        if not isinstance(label, str) or label not in LABELS:
            raise ColorclfError(f"unknown label {label!r}: use one of {', '.join(LABELS)}")
        row = {
            "r": channel(r, "r"),
            "g": channel(g, "g"),
            "b": channel(b, "b"),
            "label": label,
            "contributor": clean_contributor(contributor),
        }
        limited = self.min_interval > 0 or self.max_per_minute > 0
        with self.write(row["contributor"] if limited else None) as conn:
            now = self._clock()
            if limited and self._over_limit(conn, row["contributor"], now):
                return None
            result = conn.execute(votes.insert(), {**row, "created_at": now})
            return int(result.inserted_primary_key[0])

    def undo_vote(self, vote_id: int, contributor: str) -> bool:
        """Delete one vote by its id, only if ``contributor`` cast it (a page can undo its
        own student's votes only); True when a vote was deleted."""
        name = clean_contributor(contributor)
        with self.write() as conn:
            result = conn.execute(
                votes.delete().where(votes.c.id == int(vote_id), votes.c.contributor == name)
            )
        return int(result.rowcount) == 1

    def _over_limit(self, conn: Connection, contributor: str, now: datetime) -> bool:
        """Too soon after this contributor's last vote, or too many in the last minute."""
        last_minute = votes.c.created_at > now - timedelta(seconds=60)
        recent = sa.func.coalesce(sa.func.sum(sa.case((last_minute, 1), else_=0)), 0)
        in_minute, last = conn.execute(
            sa.select(recent, sa.func.max(votes.c.created_at)).where(
                votes.c.contributor == contributor
            )
        ).one()
        if self.max_per_minute and in_minute >= self.max_per_minute:
            return True
        return bool(
            self.min_interval
            and last is not None
            and (now - last).total_seconds() < self.min_interval
        )

    def remove_contributor(self, uid: str) -> int:
        """Delete every vote of one contributor; returns how many."""
        with self.write() as conn:
            result = conn.execute(votes.delete().where(votes.c.contributor == uid))
        return int(result.rowcount)

    def reset(self) -> int:
        """Delete every vote; returns how many."""
        with self.write() as conn:
            result = conn.execute(votes.delete())
        return int(result.rowcount)

    # -- reading

    def count(self, contributor: str | None = None) -> int:
        """All votes, or one contributor's."""
        query = sa.select(sa.func.count()).select_from(votes)
        if contributor is not None:
            query = query.where(votes.c.contributor == contributor)
        with self.read() as conn:
            return int(conn.execute(query).scalar_one())

    def count_by_contributor(self) -> dict[str, int]:
        """Votes per contributor, most first (ties by name)."""
        n = sa.func.count().label("n")
        query = (
            sa.select(votes.c.contributor, n)
            .group_by(votes.c.contributor)
            .order_by(n.desc(), votes.c.contributor)
        )
        with self.read() as conn:
            return {uid: int(count) for uid, count in conn.execute(query)}

    def all_votes(self) -> pd.DataFrame:
        """Every vote in insertion order: columns r, g, b, label, uid."""
        query = sa.select(
            votes.c.r, votes.c.g, votes.c.b, votes.c.label, votes.c.contributor
        ).order_by(votes.c.id)
        with self.read() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(rows, columns=["r", "g", "b", "label", "uid"])
        for column in ("r", "g", "b"):
            frame[column] = frame[column].astype("int64")
        return frame

    def as_dataset(self) -> ColorDataset:
        """The votes as the data set every other source produces (source ``"votes"``)."""
        frame = self.all_votes()
        index = {name: i for i, name in enumerate(LABELS)}
        return ColorDataset(
            rgb=frame[["r", "g", "b"]].to_numpy(dtype=np.uint8).reshape(-1, 3),
            label=np.array([index[name] for name in frame["label"]], dtype=np.int64),
            contributor=np.array(frame["uid"].tolist(), dtype=object),
            source="votes",
        )

    def export_json(self) -> bytes:
        """The Coding Train's format: ``{"entries": [{"r","g","b","label","uid"}, …]}``."""
        return to_coding_train_json(self.as_dataset())


def _where(url: str | None) -> str:
    if not url:
        return "the votes database"
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return "the votes database"
    if parsed.get_backend_name() == "sqlite":
        return f"the votes file {parsed.database}" if parsed.database else "the votes database"
    return f"the votes database {parsed.render_as_string(hide_password=True)}"


# (words in the driver's message, what is wrong, what to do); first match wins.
_PROBLEMS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("readonly", "read-only"), "{where} is read-only",
     "votes cannot be stored; give the server write access to the file and its folder"),
    (("unable to open database file",), "{where} cannot be opened",
     "check that its folder exists and the server may read and write it"),
    (("locked", "busy"), "{where} is busy (another program holds it)", "try again in a moment"),
    (("not a database", "malformed", "corrupt"), "{where} is damaged or not a SQLite database",
     "move it away to start a new collection, or point COLORCLF_DB_URL at the right one"),
    (("full",), "the disk holding {where} is full", "free some space"),
    (("disk i/o",), "{where} cannot be written (a disk error)", "check the disk"),
    (("password authentication", "authentication failed", "no pg_hba"),
     "{where} refused the login", "check the user and password in its URL (the secrets)"),
    (("connection refused", "could not connect", "could not translate host", "timeout",
      "timed out", "server closed", "terminating connection", "connection to server"),
     "{where} cannot be reached", "check that the database server runs and its URL is right"),
    (("permission denied", "must be owner"), "{where} does not let this user use the votes table",
     "grant the database user access to it"),
    (("does not exist",), "{where} does not exist", "create it, or fix its URL in the secrets"),
)  # fmt: skip


def database_problem(err: BaseException, url: str | None = None) -> str:
    """What is wrong with the votes database and what to do, in one line, from a driver's
    error: never the SQL, its parameters or anything a student typed."""
    if isinstance(err, ColorclfError):
        return str(err)
    original = getattr(err, "orig", None) or err
    text = str(original).lower()
    where = _where(url)
    for words, problem, advice in _PROBLEMS:
        if any(word in text for word in words):
            return f"{problem.format(where=where)}: {advice}"
    return f"{where} failed ({type(original).__name__}): ask whoever runs the server to check it"
