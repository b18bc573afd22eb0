"""http(s) downloads the server can make on a stranger's behalf.

On a shared hosted page a student's URL is fetched by the *server*, so every hop is checked:
the host is resolved once, every address it resolves to must be public (``public_only``), and
the connection goes to that checked address (the name only travels in the Host header and in
TLS's SNI), so a DNS answer that changes between the check and the connection (rebinding)
cannot reach loopback. Redirects are followed by hand, each target checked the same way. The
reply is capped in bytes and in total time; no message ever carries the server's bytes (status
lines are named from the code, not the server's reason phrase).
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus

from colorclf import __version__
from colorclf.core.errors import DataError
from colorclf.data import limits

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
ALLOW_PRIVATE_ENV = "COLORCLF_ALLOW_PRIVATE_URLS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: str | IPAddress) -> bool:
    """True for an address on the public internet: not loopback, private, link-local (cloud
    metadata 169.254.169.254), shared (100.64.0.0/10), multicast, reserved or unspecified, and
    no IPv6 form (IPv4-mapped, 6to4, Teredo, NAT64) that embeds an address that is not public.

    Documentation ranges (192.0.2.0/24 …) are not public either: nothing real answers there.
    """
    ip = ipaddress.ip_address(address.split("%")[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: list[ipaddress.IPv4Address] = []
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if ip in _NAT64_LOCAL:
            return False
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if embedded:
            return all(is_public_address(v4) for v4 in embedded)
    return bool(ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified))


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str


def _target(url: str) -> _Target:
    """The parts of an http(s) URL, or a DataError that says what is wrong with it."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise DataError(f"not a valid URL: {url!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise DataError(f"not an http(s) URL: {url!r}")
    path = urllib.parse.quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + urllib.parse.quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return _Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def _resolve(target: _Target, url: str, public_only: bool) -> list[str]:
    """Every address of the host (resolved once); with ``public_only`` all must be public."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise DataError(
            f"cannot download {url}: host not found (no network, or a typo in the address?)"
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise DataError(f"cannot download {url}: host not found")
    if public_only and not all(is_public_address(a) for a in addresses):
        raise DataError(
            f"cannot download {url}: {target.host} is a local or private address, "
            "which the page does not fetch"
        )
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to one already-checked address; the Host header keeps the name."""

    def __init__(self, target: _Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address
        self.live_socket: socket.socket | None = None  # kept after http.client lets go of it

    def connect(self) -> None:
        self.sock = self.live_socket = socket.create_connection(
            (self.address, self.port), self.timeout
        )


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """HTTPS to one checked address; the certificate is checked against the name (SNI)."""

    default_port = 443

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.live_socket = ssl.create_default_context().wrap_socket(
                raw, server_hostname=self.host
            )
        except BaseException:
            raw.close()
            raise


def fetch(url: str, *, public_only: bool, timeout: float = 20.0) -> bytes:
    """The body of ``url`` after at most ``MAX_REDIRECTS`` redirects, at most
    ``limits.MAX_BYTES`` long and within ``timeout`` seconds in all; DataError otherwise.

    ``public_only``: every hop must resolve to public addresses only (the page; lifted by
    ``$COLORCLF_ALLOW_PRIVATE_URLS=1``). The command line fetches what its own user asks for.
    """
    if public_only and os.environ.get(ALLOW_PRIVATE_ENV) == "1":
        public_only = False
    first = url = url.strip()
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        target = _target(url)
        addresses = _resolve(target, first, public_only)
        status, location, body = _get(target, addresses, first, deadline, timeout)
        if status in _REDIRECTS and location is not None:
            nxt = urllib.parse.urljoin(url, location.strip())
            if urllib.parse.urlsplit(nxt).scheme.lower() not in ("http", "https"):
                raise DataError(f"{url} redirects to {nxt!r}, not an http(s) URL")
            url = nxt
            continue
        if status != 200:
            raise DataError(f"cannot download {first}: HTTP {status} {_phrase(status)}".rstrip())
        return body
    raise DataError(f"cannot download {first}: more than {MAX_REDIRECTS} redirects")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _get(
    target: _Target, addresses: list[str], url: str, deadline: float, timeout: float
) -> tuple[int, str | None, bytes]:
    """One GET to the first of ``addresses`` that answers: (status, Location, body)."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error: BaseException | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        conn = kind(target, address, remaining)
        try:
            conn.request(
                "GET",
                target.path,
                headers={"User-Agent": f"colorclf/{__version__}", "Accept-Encoding": "identity"},
            )
            response = conn.getresponse()
            if response.status in _REDIRECTS or response.status != 200:
                return response.status, response.getheader("Location"), b""
            length = response.getheader("Content-Length")
            if length and length.strip().isdigit() and int(length) > limits.MAX_BYTES:
                raise DataError(limits.too_big(url, int(length)))
            return 200, None, _read_bounded(conn, response, url, deadline, timeout)
        except DataError:
            raise
        except TimeoutError:
            raise DataError(f"cannot download {url}: timed out after {timeout:g} s") from None
        except ConnectionRefusedError as err:
            last_error = err
        except ssl.SSLCertVerificationError:
            raise DataError(f"cannot download {url}: its certificate is not valid") from None
        except (OSError, http.client.HTTPException, ValueError) as err:
            last_error = err
        finally:
            conn.close()
    if last_error is None:
        raise DataError(f"cannot download {url}: timed out after {timeout:g} s")
    raise DataError(f"cannot download {url}: {_network_reason(last_error)}")


def _read_bounded(
    conn: _PinnedHTTPConnection,
    response: http.client.HTTPResponse,
    url: str,
    deadline: float,
    timeout: float,
) -> bytes:
    """The body, refused once it passes ``limits.MAX_BYTES`` or the total ``timeout``."""
    buffer = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DataError(f"cannot download {url}: timed out after {timeout:g} s")
        if conn.live_socket is not None:
            conn.live_socket.settimeout(remaining)
        chunk = response.read1(_CHUNK)
        if not chunk:
            return bytes(buffer)
        buffer += chunk
        if len(buffer) > limits.MAX_BYTES:
            raise DataError(limits.too_big(url))


def _network_reason(error: BaseException) -> str:
    """A reason in our words: never the remote server's text."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "the connection was reset"
    if isinstance(error, http.client.HTTPException):
        return "the server's answer is not valid HTTP"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__
