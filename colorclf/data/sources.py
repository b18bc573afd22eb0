"""Where data sets come from: the built-in synthetic set, the class votes database, a file
path, an upload's bytes, an http(s) URL. Every source yields a ``ColorDataset`` or raises
``DataError`` with a message that says what is wrong and where.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from colorclf import __version__
from colorclf.core.dataset import ColorDataset
from colorclf.core.errors import DataError
from colorclf.data import limits
from colorclf.data.parse import parse_bytes

CODING_TRAIN_URL = (
    "https://raw.githubusercontent.com/CodingTrain/ColorClassifer-TensorFlow.js"
    "/master/colorData.json"
)
_CHUNK = 64 * 1024


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
            check_public_url(spec.detail)
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


def load_url(url: str, timeout: float = 20.0) -> ColorDataset:
    """Download and parse a data set; at most ``limits.MAX_BYTES``, at most ``timeout`` seconds.

    The timeout bounds the whole download, not only each network read, so a server that
    trickles bytes cannot hang the app.
    """
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise DataError(f"not a valid URL: {url!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise DataError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers={"User-Agent": f"colorclf/{__version__}"})
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.strip().isdigit() and int(length) > limits.MAX_BYTES:
                raise DataError(limits.too_big(url, int(length)))
            data = _read_bounded(response, url, deadline, timeout)
    except DataError:
        raise
    except urllib.error.HTTPError as err:
        raise DataError(f"cannot download {url}: HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise DataError(f"cannot download {url}: {_network_reason(err.reason, timeout)}") from None
    except TimeoutError:
        raise DataError(f"cannot download {url}: timed out after {timeout:g} s") from None
    except (OSError, http.client.HTTPException, ValueError) as err:
        raise DataError(f"cannot download {url}: {_network_reason(err, timeout)}") from None
    return parse_bytes(data, url)


def check_public_url(url: str) -> None:
    """Refuse a URL whose host resolves to a loopback, private or link-local address.

    The page downloads on the *server*: on a shared hosted URL a student must not make it
    fetch the host's own or its network's internal services. The command line, run by the
    user on their own machine, does not need this. ``COLORCLF_ALLOW_PRIVATE_URLS=1`` lifts it.
    """
    if os.environ.get("COLORCLF_ALLOW_PRIVATE_URLS") == "1":
        return
    host = urllib.parse.urlsplit(url.strip()).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        raise DataError(f"cannot download {url}: cannot resolve host {host!r}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved:
            raise DataError(
                f"cannot download {url}: {host} is a local or private address, "
                "which the page does not fetch"
            )


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib would also follow one to ftp)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        target = urllib.parse.urljoin(req.full_url, newurl)
        if urllib.parse.urlsplit(target).scheme.lower() not in ("http", "https"):
            raise DataError(f"{req.full_url} redirects to {target!r}, not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read_bounded(response: Any, url: str, deadline: float, timeout: float) -> bytes:
    buffer = bytearray()
    read = getattr(response, "read1", response.read)
    while True:
        if time.monotonic() > deadline:
            raise DataError(f"cannot download {url}: timed out after {timeout:g} s")
        chunk = read(_CHUNK)
        if not chunk:
            return bytes(buffer)
        buffer += chunk
        if len(buffer) > limits.MAX_BYTES:
            raise DataError(limits.too_big(url))


def _network_reason(reason: object, timeout: float) -> str:
    if isinstance(reason, socket.gaierror):
        return "host not found (no network, or a typo in the address?)"
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
