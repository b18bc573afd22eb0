"""Where data sets come from: the built-in synthetic set, the class votes database, a file
path, an upload's bytes, an http(s) URL. Every source yields a ``ColorDataset`` or raises
``DataError`` with a message that says what is wrong and where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import DataError
from colorclf.data import limits
from colorclf.data.fetch import fetch
from colorclf.data.parse import parse_bytes

CODING_TRAIN_URL = (
    "https://raw.githubusercontent.com/CodingTrain/ColorClassifer-TensorFlow.js"
    "/master/colorData.json"
)


class SourceKind(StrEnum):
    """Where a data set comes from; the page's radio and the command line both pick one."""

    BUILTIN = "builtin"
    UPLOAD = "upload"
    URL = "url"
    VOTES = "votes"
    PATH = "path"


@dataclass(frozen=True)
class SourceSpec:
    """One data source: its kind; ``detail``: the URL, the path, an upload's file name or the
    vote database's URL (empty: the default database); ``content``: an upload's bytes."""

    kind: SourceKind
    detail: str = ""
    content: bytes | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        """The command line's SOURCE: ``"builtin"``, ``"votes"``, an http(s) URL or a path."""
        stripped = text.strip()
        if stripped in (SourceKind.BUILTIN, SourceKind.VOTES):
            return cls(SourceKind(stripped))
        if stripped.lower().startswith(("http://", "https://")):
            return cls(SourceKind.URL, stripped)
        return cls(SourceKind.PATH, text)


def load_source(source: SourceSpec | str, *, public_only: bool = False) -> ColorDataset:
    """The one dispatcher of the page and the command line (text is read by ``SourceSpec.parse``).

    ``public_only``: refuse URLs of local or private hosts (the page downloads on the server).
    """
    spec = SourceSpec.parse(source) if isinstance(source, str) else source
    if spec.kind is SourceKind.BUILTIN:
        from colorclf.data.builtin import builtin_dataset

        return builtin_dataset()
    if spec.kind is SourceKind.VOTES:
        from colorclf.store import load_votes_dataset

        return load_votes_dataset(spec.detail) if spec.detail else load_votes_dataset()
    if spec.kind is SourceKind.URL:
        if public_only:
            return load_url(spec.detail, public_only=True)
        return load_url(spec.detail)
    if spec.kind is SourceKind.UPLOAD:
        return parse_bytes(spec.content or b"", spec.detail or "upload")
    return load_path(spec.detail)


def load_path(path: str | Path) -> ColorDataset:
    """Read and parse a JSON or CSV file (at most ``limits.MAX_BYTES``)."""
    p = Path(path)
    name = str(path)
    try:
        if not p.exists():
            raise DataError(f"no such file: {name}")
        if p.is_dir():
            raise DataError(f"{name} is a directory, not a data file")
        size = p.stat().st_size
        if size > limits.MAX_BYTES:
            raise DataError(limits.too_big(name, size))
        with p.open("rb") as handle:
            data = handle.read(limits.MAX_BYTES + 1)
    except OSError as err:
        raise DataError(f"cannot read {name}: {err.strerror or err}") from None
    return parse_bytes(data, name)


def load_url(url: str, timeout: float = 20.0, *, public_only: bool = False) -> ColorDataset:
    """Download and parse a data set; at most ``limits.MAX_BYTES``, at most ``timeout`` seconds.

    The timeout bounds the whole download (every redirect hop included), not only each
    network read, so a server that trickles bytes cannot hang the app. ``public_only``: see
    ``colorclf.data.fetch``.
    """
    url = url.strip()
    return parse_bytes(fetch(url, public_only=public_only, timeout=timeout), url)
