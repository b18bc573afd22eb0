"""The votes table and what a vote may hold: labels are checked twice, in Python
(``ColorclfError``) and by CHECK constraints in the database."""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa

from colorclf.core.errors import ColorclfError
from colorclf.core.labels import LABELS

MAX_NAME_LENGTH = 40

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


def printable(text: str) -> str:
    """``text`` with control characters (NUL, newlines, …) and lone surrogates as spaces."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)


def normalise_name(raw: str) -> str:
    """A name as people see it, one spelling per look: NFKC (full-width letters, ligatures
    and other compatibility forms become the plain ones), control characters become spaces,
    format characters (zero-width spaces and joiners, bidirectional overrides, the BOM),
    surrogates, private-use and unassigned code points are removed, and runs of whitespace
    become one space. So "c" and "c" + a zero-width space are one contributor for the rate
    limit and the teacher's list, and no name can reorder the text around it."""
    text = unicodedata.normalize("NFKC", raw)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            kept.append(" ")
        elif category[0] != "C":
            kept.append(ch)
    return " ".join("".join(kept).split())


def clean_contributor(raw: object) -> str:
    """A contributor id as stored: ``normalise_name``, then 1..40 characters.

    Everything else (quotes, SQL, HTML, emoji) is kept verbatim: queries bind it as a
    parameter and the page shows it as plain text.
    """
    if not isinstance(raw, str):
        raise ColorclfError(f"contributor must be text, not {type(raw).__name__}")
    name = normalise_name(raw)
    if not name:
        raise ColorclfError("contributor is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ColorclfError(
            f"contributor name is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
        )
    return name


# Runs that students shared with the class (the /class board). The hyperparameters and the
# epoch curve are JSON text: a few hundred numbers, read back whole, never queried inside.
shared_runs = sa.Table(
    "shared_runs",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("contributor", sa.Text, nullable=False),
    sa.Column("hyperparams", sa.Text, nullable=False),
    sa.Column("data_source", sa.Text, nullable=False),
    sa.Column("final_val_accuracy", sa.Float),
    sa.Column("final_val_loss", sa.Float),
    sa.Column("best_val_accuracy", sa.Float),
    sa.Column("best_val_loss", sa.Float),
    sa.Column("epochs", sa.Integer, nullable=False),
    sa.Column("seconds", sa.Float),
    sa.Column("curve", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),  # naive UTC
    sa.CheckConstraint("epochs BETWEEN 1 AND 1000", name="shared_runs_epochs_range"),
    sa.Index("shared_runs_contributor_created", "contributor", "created_at"),
)
