"""The class's votes and shared runs: schema, SQLite/PostgreSQL engines, which database.

Neither Streamlit nor Keras at import (the label page hands in its ``st.connection`` engine).
"""

from colorclf.store.config import (
    DB_URL_ENV,
    DEFAULT_DB_PATH,
    database_url,
    get_store,
    load_votes_dataset,
    store_for_engine,
)
from colorclf.store.runs import RunBoard, SharedRun, ShareRefused, shared_run_from_epochs
from colorclf.store.schema import MAX_NAME_LENGTH, clean_contributor, normalise_name
from colorclf.store.votes import VoteStore, database_problem

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_PATH",
    "MAX_NAME_LENGTH",
    "RunBoard",
    "ShareRefused",
    "SharedRun",
    "VoteStore",
    "clean_contributor",
    "database_problem",
    "database_url",
    "get_store",
    "load_votes_dataset",
    "normalise_name",
    "shared_run_from_epochs",
    "store_for_engine",
]
