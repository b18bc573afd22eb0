"""The class's own votes: one table in SQLite (one machine) or PostgreSQL (hosted, replicas).

Headless: nothing here imports Streamlit at module level. The label page builds a
``VoteStore`` on the engine of ``st.connection("sql", ...)``; the command line and the
training page use ``get_store()`` / ``load_votes_dataset()`` with the same URL rules.

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

import json
import os
import sqlite3
import sys
import threading
import time
import tomllib
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import ColorclfError, DataError
from colorclf.core.labels import LABELS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = ROOT / "data" / "votes.sqlite"
DB_URL_ENV = "COLORCLF_DB_URL"
MAX_NAME_LENGTH = 40
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Namespace for PostgreSQL advisory locks (two-key form: namespace, hash of contributor).
_PG_LOCK_NAMESPACE = 0x434C4652  # "CLFR"
_LOCK_STRIPES = 64

metadata = sa.MetaData()
_label_list = ", ".join(f"'{label}'" for label in LABELS)  # our constants, not user data
votes = sa.Table(
    "votes",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("r", sa.SmallInteger, nullable=False),
    sa.Column("g", sa.SmallInteger, nullable=False),
    sa.Column("b", sa.SmallInteger, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("contributor", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),  # naive UTC
    sa.CheckConstraint("r BETWEEN 0 AND 255", name="votes_r_range"),
    sa.CheckConstraint("g BETWEEN 0 AND 255", name="votes_g_range"),
    sa.CheckConstraint("b BETWEEN 0 AND 255", name="votes_b_range"),
    sa.CheckConstraint(f"label IN ({_label_list})", name="votes_label_known"),
    sa.Index("votes_contributor_created", "contributor", "created_at"),
)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------------------- SQLite set-up


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Driver autocommit (SQLAlchemy emits BEGIN itself), WAL, a busy timeout."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the file.

    Switching the journal mode needs an exclusive lock, and SQLite answers "database is
    locked" at once (no busy handler) when two connections race to switch a new file, or
    when a connection opens while the last one is checkpointing and removing the WAL file.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.002
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            transient = "locked" in str(err) or "busy" in str(err)
            if not transient or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _sqlite_on_begin(conn: Connection) -> None:
    """``BEGIN IMMEDIATE`` for writes (asked for by an execution option), else ``BEGIN``."""
    mode = "IMMEDIATE" if conn.get_execution_options().get("colorclf_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def _prepare_sqlite(engine: Engine) -> None:
    """Install the listeners once per engine; create the database's folder."""
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DataError(
                f"cannot create the folder {folder} for the vote database: {err.strerror}"
            ) from None
    if not event.contains(engine, "connect", _sqlite_on_connect):
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        # Pooled connections opened before the listener lack the set-up: drop them.
        engine.dispose()


_file_locks: dict[str, threading.Lock] = {}
_file_locks_guard = threading.Lock()


def _sqlite_write_lock(engine: Engine) -> threading.Lock:
    key = str(Path(engine.url.database or ":memory:").expanduser().resolve())
    with _file_locks_guard:
        return _file_locks.setdefault(key, threading.Lock())


# ---------------------------------------------------------------------------- the store


def clean_contributor(raw: object) -> str:
    """A contributor id as stored: control characters become spaces, stripped, 1..40 chars.

    Everything else (quotes, SQL, HTML, emoji) is kept verbatim: queries bind it as a
    parameter and the page shows it as plain text.
    """
    if not isinstance(raw, str):
        raise ColorclfError(f"contributor must be text, not {type(raw).__name__}")
    name = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in raw).strip()
    if not name:
        raise ColorclfError("contributor is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ColorclfError(
            f"contributor name is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
        )
    return name


def _channel(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ColorclfError(f"{name} must be an integer 0..255, not {value!r}")
    number = int(value)
    if not 0 <= number <= 255:
        raise ColorclfError(f"{name} must be in 0..255, not {number}")
    return number


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
            _prepare_sqlite(engine)
            self._sqlite_lock: threading.Lock | None = _sqlite_write_lock(engine)
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
                if not sa.inspect(self.engine).has_table("votes"):
                    raise
            self._schema_ready = True

    @contextmanager
    def _write(self, contributor: str | None = None) -> Iterator[Connection]:
        """A write transaction, serialised as the module docstring explains.

        With ``contributor``, writes of that contributor are serialised (for the rate limit).
        """
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
                                sa.literal(_PG_LOCK_NAMESPACE, sa.Integer),
                                sa.func.hashtext(sa.bindparam("c", contributor)),
                            )
                        )
                    )
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._ensure_schema()
        with self.engine.connect() as conn:
            yield conn

    # -- writing

    def add_vote(self, r: int, g: int, b: int, label: str, contributor: str) -> bool:
        """Store one vote; False (nothing stored) when the contributor is over the limit."""
        if not isinstance(label, str) or label not in LABELS:
            raise ColorclfError(f"unknown label {label!r}: use one of {', '.join(LABELS)}")
        row = {
            "r": _channel("r", r),
            "g": _channel("g", g),
            "b": _channel("b", b),
            "label": label,
            "contributor": clean_contributor(contributor),
        }
        limited = self.min_interval > 0 or self.max_per_minute > 0
        with self._write(row["contributor"] if limited else None) as conn:
            now = self._clock()
            if limited and self._over_limit(conn, row["contributor"], now):
                return False
            conn.execute(votes.insert(), {**row, "created_at": now})
        return True

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
        with self._write() as conn:
            result = conn.execute(votes.delete().where(votes.c.contributor == uid))
        return int(result.rowcount)

    def reset(self) -> int:
        """Delete every vote; returns how many."""
        with self._write() as conn:
            result = conn.execute(votes.delete())
        return int(result.rowcount)

    # -- reading

    def count(self, contributor: str | None = None) -> int:
        """All votes, or one contributor's."""
        query = sa.select(sa.func.count()).select_from(votes)
        if contributor is not None:
            query = query.where(votes.c.contributor == contributor)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def count_by_contributor(self) -> dict[str, int]:
        """Votes per contributor, most first (ties by name)."""
        n = sa.func.count().label("n")
        query = (
            sa.select(votes.c.contributor, n)
            .group_by(votes.c.contributor)
            .order_by(n.desc(), votes.c.contributor)
        )
        with self._read() as conn:
            return {uid: int(count) for uid, count in conn.execute(query)}

    def all_votes(self) -> pd.DataFrame:
        """Every vote in insertion order: columns r, g, b, label, uid."""
        query = sa.select(
            votes.c.r, votes.c.g, votes.c.b, votes.c.label, votes.c.contributor
        ).order_by(votes.c.id)
        with self._read() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(rows, columns=["r", "g", "b", "label", "uid"])
        for channel in ("r", "g", "b"):
            frame[channel] = frame[channel].astype("int64")
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
        frame = self.all_votes()
        entries = [
            {"r": int(r), "g": int(g), "b": int(b), "label": label, "uid": uid}
            for r, g, b, label, uid in frame.itertuples(index=False, name=None)
        ]
        return json.dumps({"entries": entries}, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------------- configuration


def _secrets_files() -> list[Path]:
    """Where Streamlit looks by default, project first: ./.streamlit, the repo's, ~/.streamlit."""
    candidates = [
        Path.cwd() / ".streamlit" / "secrets.toml",
        ROOT / ".streamlit" / "secrets.toml",
        Path.home() / ".streamlit" / "secrets.toml",
    ]
    seen: list[Path] = []
    for path in candidates:
        if path not in seen:
            seen.append(path)
    return seen


def _url_from_secrets(secrets: Any) -> str | None:
    """``[connections.sql] url``, or a URL built from its dialect/host/username/… keys."""
    try:
        section = secrets["connections"]["sql"]
        url = section.get("url")
        if isinstance(url, str) and url.strip():
            return url.strip()
        if not all(section.get(key) for key in ("dialect", "host", "username")):
            return None
        driver = section.get("driver")
        built = sa.engine.URL.create(
            drivername=section["dialect"] + (f"+{driver}" if driver else ""),
            username=section["username"],
            password=section.get("password"),
            host=section["host"],
            port=int(section["port"]) if section.get("port") else None,
            database=section.get("database"),
            query=dict(section.get("query") or {}),
        )
        return built.render_as_string(hide_password=False)
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def _streamlit_secret_url() -> str | None:
    """Inside a running Streamlit app, st.secrets knows every configured secrets location."""
    if "streamlit" not in sys.modules:
        return None
    try:
        import streamlit as st
        from streamlit import runtime

        if not runtime.exists() or not st.secrets.load_if_toml_exists():
            return None
        return _url_from_secrets(st.secrets.to_dict())
    except Exception:  # a broken secrets file: fall back to the files and the default
        return None


def database_url() -> str:
    """``$COLORCLF_DB_URL``, else ``[connections.sql]`` from secrets, else SQLite in data/.

    Secrets: inside a running app whatever ``st.secrets`` holds; otherwise (command line)
    the files Streamlit reads by default: ./.streamlit, the repository's, ~/.streamlit.
    """
    env = os.environ.get(DB_URL_ENV, "").strip()
    if env:
        return env
    url = _streamlit_secret_url()
    if url:
        return url
    for path in _secrets_files():
        try:
            with path.open("rb") as handle:
                url = _url_from_secrets(tomllib.load(handle))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if url:
            return url
    return f"sqlite:///{DEFAULT_DB_PATH}"


_stores: dict[str, VoteStore] = {}
_stores_by_engine: dict[int, VoteStore] = {}
_stores_guard = threading.Lock()


def get_store(url: str | None = None) -> VoteStore:
    """One VoteStore (and engine) per database URL in this process."""
    url = url or database_url()
    with _stores_guard:
        store = _stores.get(url)
        if store is None:
            try:
                engine = sa.create_engine(url, pool_pre_ping=True)
            except (sa.exc.ArgumentError, ImportError) as err:
                raise DataError(f"cannot use the vote database URL: {err}") from None
            store = _stores[url] = VoteStore(engine)
        return store


def store_for_engine(engine: Engine) -> VoteStore:
    """One VoteStore per engine (the page's engine comes from ``st.connection``)."""
    with _stores_guard:
        store = _stores_by_engine.get(id(engine))
        if store is None or store.engine is not engine:
            store = _stores_by_engine[id(engine)] = VoteStore(engine)
        return store


def load_votes_dataset() -> ColorDataset:
    """The class's votes as a data set; DataError if there are none (or no database)."""
    store = get_store(database_url())
    try:
        dataset = store.as_dataset()
    except sa.exc.SQLAlchemyError as err:
        message = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        raise DataError(f"cannot read class votes from {store.description}: {message}") from None
    if len(dataset) == 0:
        raise DataError(f"no class votes stored yet in {store.description}")
    return dataset
