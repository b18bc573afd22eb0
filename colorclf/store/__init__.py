"""The class's own votes: the schema, the SQLite/PostgreSQL engines and which database to use.

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
from colorclf.store.schema import MAX_NAME_LENGTH, clean_contributor, normalise_name
from colorclf.store.votes import VoteStore, database_problem

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_PATH",
    "MAX_NAME_LENGTH",
    "VoteStore",
    "clean_contributor",
    "database_problem",
    "database_url",
    "get_store",
    "load_votes_dataset",
    "normalise_name",
    "store_for_engine",
]
