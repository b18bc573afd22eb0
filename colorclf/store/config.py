"""Which vote database: ``$COLORCLF_DB_URL``, else the secrets' ``[connections.sql]``, else
SQLite in ``data/``; one ``VoteStore`` per URL or engine in this process."""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import DataError
from colorclf.store.votes import VoteStore, database_problem

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DB_PATH = ROOT / "data" / "votes.sqlite"
DB_URL_ENV = "COLORCLF_DB_URL"


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


def database_url(secrets: Mapping[str, Any] | None = None) -> str:
    """``$COLORCLF_DB_URL``, else ``[connections.sql]`` from secrets, else SQLite in data/.

    Secrets: ``secrets`` when given (a running app passes what ``st.secrets`` holds: it knows
    every configured location); otherwise the files Streamlit reads by default: ./.streamlit,
    the repository's, ~/.streamlit.
    """
    env = os.environ.get(DB_URL_ENV, "").strip()
    if env:
        return env
    url = _url_from_secrets(secrets) if secrets is not None else None
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


def load_votes_dataset(url: str | None = None) -> ColorDataset:
    """The class's votes (in ``url``, else ``database_url()``) as a data set; DataError if there
    are none (or no database)."""
    store = get_store(url or database_url())
    try:
        dataset = store.as_dataset()
    except sa.exc.SQLAlchemyError as err:
        problem = database_problem(err, store.engine.url.render_as_string(hide_password=True))
        raise DataError(f"cannot read class votes: {problem}") from None
    if len(dataset) == 0:
        raise DataError(f"no class votes stored yet in {store.description}")
    return dataset
