"""Server-side requests: every hop checked, the checked address is the one connected to.

Two local HTTP servers on 127.0.0.1 play the internet: "public" (reached only through a fake
public address, 1.1.1.1, that the patched network routes to it) and "internal" (the host's
own service, which must never be asked anything). The resolver is patched per test.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colorclf.core.errors import DataError
from colorclf.data import fetch as fetch_module
from colorclf.data.fetch import is_public_address
from colorclf.data.sources import SourceKind, SourceSpec, load_source

PUBLIC_IP = "1.1.1.1"  # a public address that is no documentation range
SECRET = "INTERNAL-SECRET-7f3a"
GOOD = json.dumps({"entries": [{"r": 1, "g": 2, "b": 3, "label": "red-ish", "uid": "pub"}]})


class _Server:
    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                status, headers, body = routes.get(self.path, (404, {}, SECRET.encode()))
                self.send_response(status, SECRET if status >= 400 else None)
                for key, value in headers.items():
                    self.send_header(key, value.format(internal=owner.internal_port))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.internal_port = 0
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


INTERNAL_TARGETS = [
    "http://127.0.0.1:{internal}/secret",
    "http://localhost:{internal}/secret",
    "http://[::1]:{internal}/secret",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/secret",
    "http://100.64.0.1/secret",
    "http://[::ffff:127.0.0.1]:{internal}/secret",
    "http://[2002:7f00:1::1]/secret",
    "http://internal.test:{internal}/secret",
]


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """The fake internet: names → answers (a list per call), 1.1.1.1 → the public server."""
    internal = _Server({"/secret": (200, {}, SECRET.encode())})
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {
        "/colors.json": (200, {}, GOOD.encode()),
        "/to-public": (302, {"Location": "http://public.test/colors.json"}, b""),
        "/missing": (404, {}, SECRET.encode()),
        "/loop": (302, {"Location": "/loop"}, b""),
    }
    for i, target in enumerate(INTERNAL_TARGETS):
        for code in (301, 302, 307):
            routes[f"/hop{i}-{code}"] = (code, {"Location": target}, b"")
    public = _Server(routes)
    public.internal_port = internal.port
    answers: dict[str, list[str]] = {"public.test": [PUBLIC_IP], "internal.test": ["10.9.9.9"]}
    lookups: list[str] = []
    connects: list[tuple[str, int]] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.create_connection

    def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list:
        lookups.append(host)
        queue = answers.get(host)
        if queue is None:
            return real_getaddrinfo(host, port, *args, **kwargs)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer.split(",")
        ]

    def create_connection(address: tuple[str, int], *args: object, **kwargs: object):
        connects.append(address)
        host, _port = address
        if host == PUBLIC_IP:
            return real_connect(("127.0.0.1", public.port), *args, **kwargs)
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    # The public server listens on its own port; the fake public address answers on port 80.
    yield {
        "public": public,
        "internal": internal,
        "answers": answers,
        "lookups": lookups,
        "connects": connects,
    }
    public.close()
    internal.close()


def _page(url: str):
    return load_source(SourceSpec(SourceKind.URL, url), public_only=True)


def test_a_public_url_loads_through_the_checked_address(net: dict) -> None:
    ds = _page("http://public.test/colors.json")
    assert ds.contributor.tolist() == ["pub"]
    assert net["connects"] == [(PUBLIC_IP, 80)]
    assert net["public"].requests == ["/colors.json"]
    # A redirect to another public name is followed.
    assert _page("http://public.test/to-public").contributor.tolist() == ["pub"]


@pytest.mark.parametrize("index", range(len(INTERNAL_TARGETS)))
@pytest.mark.parametrize("code", [301, 302, 307])
def test_every_redirect_hop_is_checked(net: dict, index: int, code: int) -> None:
    with pytest.raises(DataError, match="local or private address") as info:
        _page(f"http://public.test/hop{index}-{code}")
    assert net["internal"].requests == []
    assert all(host == PUBLIC_IP for host, _ in net["connects"])
    assert SECRET not in str(info.value)


def test_a_rebinding_name_is_resolved_once(net: dict) -> None:
    """The first answer is public, every later one loopback: only the first is ever used."""
    net["answers"]["rebind.test"] = [PUBLIC_IP, "127.0.0.1"]
    ds = _page("http://rebind.test/colors.json")
    assert ds.contributor.tolist() == ["pub"]
    assert net["lookups"].count("rebind.test") == 1
    assert net["connects"] == [(PUBLIC_IP, 80)]
    assert net["internal"].requests == []


def test_a_name_with_any_private_answer_is_refused(net: dict) -> None:
    net["answers"]["mixed.test"] = [f"{PUBLIC_IP},127.0.0.1"]
    with pytest.raises(DataError, match=r"mixed\.test is a local or private address"):
        _page(f"http://mixed.test:{net['internal'].port}/secret")
    assert net["connects"] == []


def test_server_bytes_never_reach_the_message(net: dict) -> None:
    with pytest.raises(DataError) as info:
        _page("http://public.test/missing")
    assert str(info.value) == "cannot download http://public.test/missing: HTTP 404 Not Found"
    with pytest.raises(DataError, match="more than 5 redirects"):
        _page("http://public.test/loop")


def test_the_command_line_still_fetches_loopback(net: dict) -> None:
    internal = net["internal"]
    url = f"http://127.0.0.1:{internal.port}/secret"
    with pytest.raises(DataError, match="is missing the CSV column"):  # fetched, not refused
        load_source(url)
    assert internal.requests == ["/secret"]


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/",
        "http://[::1",
        "https://[fe80::1%25/x",
        "http://host:99999/x",
        "http://host:port/x",
    ],
)
def test_malformed_urls_get_one_message(url: str) -> None:
    with pytest.raises(DataError, match="not a valid URL"):
        _page(url)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_any_link_text_is_refused_or_fetched_never_a_crash(tail: str) -> None:
    """Whatever follows ``http://`` in a link's ``data=``, the page either refuses it with
    one message or connects to a public address: never loopback, never another exception."""
    connects: list[object] = []

    def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port or 80))]

    def create_connection(address: object, *args: object, **kwargs: object) -> None:
        connects.append(address)
        raise ConnectionRefusedError

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        patch.setattr(socket, "create_connection", create_connection)
        for url in (f"http://{tail}", f"https://{tail}/c.json", tail):
            with pytest.raises(DataError):
                _page(url)
    assert connects == []


PRIVATE_V4 = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "192.0.2.0/24",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PRIVATE_V4), st.integers(min_value=0, max_value=2**32 - 1))
def test_no_private_address_passes_in_any_form(network: str, bits: int) -> None:
    net4 = ipaddress.ip_network(network)
    v4 = net4[bits % net4.num_addresses]
    forms = [
        v4,
        ipaddress.IPv6Address(f"::ffff:{v4}"),  # IPv4-mapped
        ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80)),  # 6to4
        ipaddress.IPv6Address((0x64FF9B << 96) | int(v4)),  # NAT64
        ipaddress.IPv6Address((0x20010000 << 96) | (int(v4) ^ 0xFFFFFFFF)),  # Teredo client
    ]
    assert not any(is_public_address(form) for form in forms)


@pytest.mark.parametrize(
    "address", ["::1", "fe80::1", "fc00::1", "ff02::1", "::", "64:ff9b:1::a00:1", "2001:db8::1"]
)
def test_private_ipv6_is_refused(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    ["1.1.1.1", "8.8.8.8", "140.82.112.3", "2606:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101"],
)
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(address)


def test_the_allow_switch_lifts_the_check(net: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fetch_module.ALLOW_PRIVATE_ENV, "1")
    with pytest.raises(DataError, match="is missing the CSV column"):
        _page(f"http://127.0.0.1:{net['internal'].port}/secret")
