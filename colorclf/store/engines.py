"""SQLite set-up: driver autocommit, WAL, a busy timeout, ``BEGIN IMMEDIATE`` for writes and
one lock per database file for this process's writers (see ``colorclf.store.votes``)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from colorclf.core.errors import DataError

SQLITE_BUSY_TIMEOUT_MS = 10_000


def read_only_reason(database: str) -> str | None:
    """Why this process cannot write the SQLite file ``database`` (None: it can): the file
    or its folder is not writable. A database that cannot be written can still be read."""
    path = Path(database).expanduser()
    if not path.is_file():
        return None
    if not os.access(path, os.W_OK):
        return f"the votes file {path} is read-only"
    if not os.access(path.parent, os.W_OK):
        return f"the folder of the votes file {path} is read-only"
    return None


def _sqlite_on_do_connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict) -> None:
    """A read-only votes file is opened read-only (``mode=ro``); in a read-only folder where
    no other process can be writing (no ``-wal`` file), also ``immutable=1``, because a
    WAL-mode file needs a ``-shm`` file next to it that cannot be created there."""
    if not cargs or not isinstance(cargs[0], str) or cargs[0].startswith("file:"):
        return
    database = cargs[0]
    if database in ("", ":memory:") or read_only_reason(database) is None:
        return
    path = Path(database).expanduser().resolve()
    query = "mode=ro"
    if not os.access(path.parent, os.W_OK) and not Path(f"{path}-wal").exists():
        query += "&immutable=1"
    cargs[0] = f"file:{urllib.parse.quote(str(path))}?{query}"
    cparams["uri"] = True


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Driver autocommit (SQLAlchemy emits BEGIN itself), WAL, a busy timeout. A read-only
    file keeps its journal mode (switching it is a write)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        try:
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.OperationalError as err:
            if "readonly" not in str(err) and "read-only" not in str(err):
                raise
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


def prepare_sqlite(engine: Engine) -> None:
    """Install the listeners once per engine; create the database's folder."""
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().parent
        try:
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DataError(
                f"cannot create the folder {folder} for the vote database: {err.strerror}"
            ) from None
    if not event.contains(engine, "connect", _sqlite_on_connect):
        event.listen(engine, "do_connect", _sqlite_on_do_connect)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        # Pooled connections opened before the listener lack the set-up: drop them.
        engine.dispose()


_file_locks: dict[str, threading.Lock] = {}
_file_locks_guard = threading.Lock()


def sqlite_write_lock(engine: Engine) -> threading.Lock:
    key = str(Path(engine.url.database or ":memory:").expanduser().resolve())
    with _file_locks_guard:
        return _file_locks.setdefault(key, threading.Lock())
