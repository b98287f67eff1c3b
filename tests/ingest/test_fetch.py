"""The guarded fetcher against real HTTP from loopback servers, and against fake DNS.

The servers listen on 127.0.0.1. A test that expects a refusal does not allow loopback (or allows only
another port) and asserts the server received no connection at all: refusing after connecting would
be too late. Names are answered by `FakeDNS`, never by real DNS, and any connection to a non-loopback
address goes through `RoutingOpener`, which hands a test-net address to a loopback server instead.
"""

from __future__ import annotations

import gzip
import ipaddress
import re
import shutil
import ssl
import struct
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from ingest import netguard
from ingest.errors import (
    BadURLError,
    BlockedAddressError,
    ContentTypeError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    RobotsDisallowedError,
    TooLargeError,
    TooManyRedirectsError,
)
from ingest.fetch import ARTICLE_TYPES, FEED_TYPES, GuardedClient, check_url, fetch
from ingest.netguard import classify, parse_ipv4
from newsdesk.settings import FetchSettings
from tests.support.httpserver import LoopbackServer, Received
from tests.support.netfakes import FakeDNS, RoutingOpener

pytestmark = pytest.mark.asyncio

HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGE = "<html><head><title>Café</title></head><body><p>Nvidia shipped it.</p></body></html>".encode()


def make_settings(*allow: str, **fields: Any) -> FetchSettings:
    return FetchSettings(_env_file=None, allow_networks=list(allow), **fields)  # type: ignore[call-arg]


def only(server: LoopbackServer) -> str:
    """An allowance for this one server's port, and no other port of loopback."""
    return f"127.0.0.1/32:{server.port}"


@pytest.fixture
def servers() -> Iterator[Any]:
    started: list[LoopbackServer] = []

    def make(routes: dict[str, Any] | None = None) -> LoopbackServer:
        started.append(LoopbackServer(routes or {}).start())
        return started[-1]

    yield make
    for server in started:
        server.stop()


# --- addresses -------------------------------------------------------------------------------------

LOOPBACK_FORMS = [
    "http://127.0.0.1:{port}/", "http://2130706433:{port}/", "http://0x7f000001:{port}/", "http://127.1:{port}/",
    "http://0177.0.0.1:{port}/", "http://0x7f.1:{port}/", "http://127.0.0.1.:{port}/", "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/", "http://[::ffff:7f00:1]:{port}/", "http://[0:0:0:0:0:ffff:7f00:1]:{port}/",
    "http://[::127.0.0.1]:{port}/", "http://[64:ff9b::7f00:1]:{port}/", "http://[2002:7f00:1::]:{port}/",
    "http://１２７.０.０.１:{port}/", "http://localhost:{port}/", "http://LOCALHOST.:{port}/",
]


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
async def test_every_form_of_loopback_is_refused_without_a_connection(servers, form: str) -> None:
    server = servers({"/": (200, HTML, PAGE), "/robots.txt": (404, {}, b"")})
    url = form.format(port=server.port)
    async with GuardedClient(make_settings()) as client:  # loopback not allowed; robots on
        with pytest.raises(BlockedAddressError) as caught:
            await fetch(client, url)
    assert caught.value.message.startswith(f"{url} resolves to a loopback address (")
    assert caught.value.message.endswith("; newsdesk only fetches public addresses.")
    assert server.connections == [] and server.requests == []


@pytest.mark.parametrize("form", [f for f in LOOPBACK_FORMS if "localhost" not in f.lower()])
async def test_check_url_refuses_literal_forms_without_io(form: str) -> None:
    with pytest.raises(BlockedAddressError, match="loopback"):
        check_url(form.format(port=8080), make_settings())


async def test_blocked_message_names_url_and_address() -> None:
    with pytest.raises(BlockedAddressError) as caught:
        check_url("http://10.0.0.5/", make_settings())
    assert caught.value.message == (
        "http://10.0.0.5/ resolves to a private address (10.0.0.5); newsdesk only fetches public addresses."
    )


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.5", "private"), ("172.16.3.4", "private"), ("192.168.1.1", "private"), ("127.8.9.10", "loopback"),
        ("169.254.169.254", "link-local"), ("100.64.0.1", "shared (carrier-grade NAT)"), ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"), ("240.0.0.1", "reserved"), ("255.255.255.255", "broadcast"),
        ("192.0.2.1", "documentation"), ("198.51.100.1", "documentation"), ("203.0.113.7", "documentation"),
        ("198.18.0.1", "benchmarking"), ("192.0.0.8", "reserved"), ("::", "unspecified"), ("::1", "loopback"),
        ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fe80::1", "link-local"), ("fe80::1%2", "link-local"),
        ("ff02::1", "multicast"), ("2001:db8::1", "documentation"), ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"), ("::a00:1", "private"), ("64:ff9b::a00:1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"), ("64:ff9b:1::1", "private"), ("2002:a00:1::1", "private"),
        ("2002:a9fe:a9fe::", "link-local"), ("2001:0:808:808:0:0:80ff:fffe", "loopback"),  # Teredo client 127.0.0.1
        ("2001:0:808:808::f7f7:f7f7", "reserved"),  # Teredo to a public client: still a tunnel, refused
        ("::1.2.3.4", "reserved"), ("3fff::1", "documentation"), ("100::1", "reserved"), ("::ffff:0:8.8.8.8", "reserved"),
    ],
)
async def test_classify_refuses(address: str, reason: str) -> None:
    assert classify(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
                "2002:808:808::1"],
)
async def test_classify_passes_public(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("127.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
     ("0x7f.0.0.1", "127.0.0.1"), ("10.1", "10.0.0.1"), ("192.168.257", "192.168.1.1"), ("0", "0.0.0.0"),
     ("1.2.3.4.", "1.2.3.4"), ("example.com", None), ("1.example", None), ("0x7f.example", None)],
)
async def test_parse_ipv4_reads_every_numeric_form(host: str, expected: str | None) -> None:
    parsed = parse_ipv4(host)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize("url", ["http://1.2.3.256/", "http://08.0.0.1/", "http://1.2.3.4.5/", "http://example.1/"])
async def test_numeric_hosts_that_are_no_address_are_bad_urls(url: str) -> None:
    with pytest.raises(BadURLError):
        check_url(url, make_settings())


async def test_a_name_answering_a_private_address_is_refused_before_connecting() -> None:
    dns = FakeDNS({"intranet.example": ["93.184.216.34", "10.0.0.5"]})  # one bad answer is enough
    opener = RoutingOpener()
    async with GuardedClient(make_settings(respect_robots=False), resolver=dns, opener=opener) as client:
        with pytest.raises(BlockedAddressError) as caught:
            await fetch(client, "http://intranet.example/news")
    assert caught.value.message == ("http://intranet.example/news resolves to a private address (10.0.0.5); "
                                    "newsdesk only fetches public addresses.")
    assert opener.opened == []


# --- redirects -------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/admin", "http://0x7f000001:{port}/admin",
                                    "http://internal.example:{port}/admin", "http://10.0.0.5/admin",
                                    "http://[::ffff:127.0.0.1]:{port}/admin"])
async def test_redirect_to_loopback_on_another_port_is_refused(servers, target: str) -> None:
    inside = servers({"/admin": (200, HTML, b"secret")})
    location = target.format(port=inside.port)
    outside = servers({"/": (302, {"Location": location}, b""), "/robots.txt": (404, {}, b"")})
    dns = FakeDNS({"internal.example": "127.0.0.1"})
    async with GuardedClient(make_settings(only(outside)), resolver=dns) as client:
        with pytest.raises(BlockedAddressError, match="^" + re.escape(f"{location} resolves to a")):
            await fetch(client, outside.url("/"))
    assert outside.paths() == ["/robots.txt", "/"]
    assert inside.connections == []


async def test_redirects_are_followed_up_to_the_limit(servers) -> None:
    routes: dict[str, Any] = {f"/r{i}": (301, {"Location": f"/r{i + 1}"}, b"") for i in range(5)}
    routes["/r5"] = (200, HTML, PAGE)
    server = servers(routes)
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        page = await fetch(client, server.url("/r0"))
    assert page.url == server.url("/r5") and page.requested_url == server.url("/r0")


async def test_one_redirect_too_many_is_refused(servers) -> None:
    server = servers({f"/r{i}": (307, {"Location": f"/r{i + 1}"}, b"") for i in range(10)})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        with pytest.raises(TooManyRedirectsError, match="^the page redirected more than 5 times.$"):
            await fetch(client, server.url("/r0"))
    assert server.paths() == [f"/r{i}" for i in range(6)]


async def test_redirect_loop_is_refused(servers) -> None:
    server = servers({"/a": (302, {"Location": "/b"}, b""), "/b": (302, {"Location": "/a"}, b"")})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        with pytest.raises(TooManyRedirectsError, match="^the page redirects in a loop.$"):
            await fetch(client, server.url("/a"))
    assert server.paths() == ["/a", "/b"]


# --- DNS rebinding -----------------------------------------------------------------------------------

async def test_rebinding_inside_one_fetch_is_refused_at_the_new_connection(servers) -> None:
    """The name first answers 203.0.113.7 (allowed here as the stand-in for a public host, and routed to
    a loopback server by the opener), then 127.0.0.1. The redirect needs a new connection, whose lookup
    gets 127.0.0.1: refused, and the loopback server behind 127.0.0.1 never hears from us."""
    internal = servers({"/next": (200, HTML, b"internal secrets")})
    public = servers({"/start": (301, {"Location": "/next", "Connection": "close"}, b"")})
    dns = FakeDNS({"rebind.example": [["203.0.113.7"], ["127.0.0.1"]]})
    opener = RoutingOpener({"203.0.113.7": public})
    settings = make_settings("203.0.113.7/32", respect_robots=False)
    async with GuardedClient(settings, resolver=dns, opener=opener) as client:
        with pytest.raises(BlockedAddressError, match="loopback address \\(127.0.0.1\\)"):
            await fetch(client, f"http://rebind.example:{internal.port}/start")
    assert public.paths() == ["/start"]
    assert dns.lookups == ["rebind.example", "rebind.example"]  # once per connection, never to re-check
    assert opener.opened == [("203.0.113.7", internal.port)]  # the checked address itself, not the name
    assert internal.connections == []


async def test_rebinding_between_fetches_is_refused_for_the_new_pooled_connection(servers) -> None:
    internal = servers({"/": (200, HTML, b"internal secrets")})
    public = servers({"/": (200, {**HTML, "Connection": "close"}, PAGE)})
    dns = FakeDNS({"rebind.example": [["203.0.113.7"], ["127.0.0.1"]]})
    opener = RoutingOpener({"203.0.113.7": public})
    settings = make_settings("203.0.113.7/32", respect_robots=False)
    async with GuardedClient(settings, resolver=dns, opener=opener) as client:
        first = await fetch(client, f"http://rebind.example:{internal.port}/")
        with pytest.raises(BlockedAddressError):
            await fetch(client, f"http://rebind.example:{internal.port}/")
    assert first.body == PAGE
    assert opener.opened == [("203.0.113.7", internal.port)]
    assert internal.connections == []


# --- size, time, type --------------------------------------------------------------------------------

async def test_too_large_with_content_length_is_refused_before_the_body(servers) -> None:
    server = servers({"/": (200, HTML, b"x" * 1_500_000)})
    async with GuardedClient(make_settings(only(server), max_bytes=1_000_000, respect_robots=False)) as client:
        with pytest.raises(TooLargeError, match="^the page is larger than 1 MB.$"):
            await fetch(client, server.url("/"))


async def test_too_large_without_content_length_stops_at_the_cap(servers) -> None:
    sent = []

    def body() -> Iterator[bytes]:
        for _ in range(400):  # 40 MB if nobody stopped reading
            sent.append(1)
            yield b"y" * 100_000

    server = servers({"/": (200, HTML, body)})
    async with GuardedClient(make_settings(only(server), max_bytes=1_000_000, respect_robots=False)) as client:
        with pytest.raises(TooLargeError, match="^the page is larger than 1 MB.$"):
            await fetch(client, server.url("/"))
    time.sleep(0.2)
    assert len(sent) < 400


def _gzip_of_zeros(gib: int = 1) -> bytes:
    """A gzip stream of `gib` GiB of zeros, built in a blink from one repeated deflate block."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    deflate.compress(zeros)
    deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)  # same bytes for every MiB now
    crc = 0
    for _ in range(1024 * gib):
        crc = zlib.crc32(zeros, crc)
    blocks = block * (1024 * gib - 1)
    first = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = first.compress(zeros) + first.flush(zlib.Z_FULL_FLUSH)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head + blocks + first.flush()
            + struct.pack("<II", crc, (gib << 30) & 0xFFFFFFFF))


async def test_gzip_bomb_is_refused_early_and_small(servers) -> None:
    bomb = _gzip_of_zeros()
    assert len(bomb) < 1_100_000  # under the cap, so the Content-Length check lets it through
    server = servers({"/": (200, {**HTML, "Content-Encoding": "gzip"}, bomb)})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        started = time.monotonic()
        with pytest.raises(TooLargeError, match="^the page is larger than 5 MB.$"):
            await fetch(client, server.url("/"))
        assert time.monotonic() - started < 0.5  # inflating the whole GiB takes seconds
        tracemalloc.start()
        try:
            with pytest.raises(TooLargeError):
                await fetch(client, server.url("/"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 40_000_000  # a few copies of the 5 MB cap, not 64 MB or more per network read


async def test_stacked_gzip_is_refused(servers) -> None:
    body = gzip.compress(gzip.compress(PAGE))
    server = servers({"/": (200, {**HTML, "Content-Encoding": "gzip, gzip"}, body)})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        with pytest.raises(ContentTypeError, match="compressed the page as gzip, gzip"):
            await fetch(client, server.url("/"))


async def test_slow_drip_is_cut_by_the_wall_clock(servers) -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(40):
            yield b"<"
            time.sleep(0.5)

    server = servers({"/": (200, HTML, drip)})
    async with GuardedClient(make_settings(only(server), timeout=1.5, respect_robots=False)) as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError, match="^the page took longer than 1.5 s to download.$"):
            await fetch(client, server.url("/"))
    assert 1.4 < time.monotonic() - started < 2.5


async def test_wrong_content_type_is_refused(servers) -> None:
    server = servers({"/logo.png": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n....")})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        with pytest.raises(ContentTypeError) as caught:
            await fetch(client, server.url("/logo.png"))
        assert caught.value.message == "the server sent image/png, not an article (HTML, plain text or PDF)."
        with pytest.raises(ContentTypeError, match="not a feed \\(RSS, Atom or XML\\)"):
            await fetch(client, server.url("/logo.png"), accept=FEED_TYPES)


@pytest.mark.parametrize(
    ("label", "body", "message"),
    [
        ("text/html", b"\x89PNG\r\n\x1a\n\x00\x00", "the server labelled the page text/html but sent a PNG image."),
        ("text/html", b"%PDF-1.7\n...", "the server labelled the page text/html but sent a PDF document."),
        ("text/html", b"\xff\xd8\xff\xe0JFIF", "the server labelled the page text/html but sent a JPEG image."),
        ("text/plain", b"PK\x03\x04zip", "the server labelled the page text/plain but sent a ZIP archive."),
        ("text/html", b"\x1f\x8b\x08\x00", "the server labelled the page text/html but sent gzip-compressed data."),
        ("text/html", b"<html>" + b"\x00" * 8 + b"</html>", "the server labelled the page text/html but sent binary data."),
        ("application/pdf", b"<html>not a pdf</html>", "the server labelled the page a PDF, but it is not one."),
    ],
)
async def test_binary_under_a_text_label_is_refused(servers, label: str, body: bytes, message: str) -> None:
    server = servers({"/": (200, {"Content-Type": label}, body)})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        with pytest.raises(ContentTypeError) as caught:
            await fetch(client, server.url("/"))
    assert caught.value.message == message


async def test_http_error_status_is_refused(servers) -> None:
    server = servers()
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        with pytest.raises(HTTPStatusError, match="^the server answered 404 Not Found.$"):
            await fetch(client, server.url("/missing"))


# --- URLs --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "url",
    ["http://user:pass@{host}/", "http://user@{host}/", "http://evil.example\\@{host}/", "ftp://{host}/file",
     "file:///etc/passwd", "javascript:alert(1)", "data:text/html,<p>hi</p>", "{host}/no-scheme", "http:///path",
     "http://{host}:0/", "http://[::1/", "http://example.com\uff03@{host}/", "http://{host}:99999/",
     "http://exa mple.com/", "http://a..b/", ""],
)
async def test_bad_urls_are_refused_without_a_connection(servers, url: str) -> None:
    server = servers({"/": (200, HTML, PAGE)})
    url = url.format(host=f"127.0.0.1:{server.port}")
    with pytest.raises(BadURLError):
        check_url(url, make_settings(only(server)))
    async with GuardedClient(make_settings(only(server))) as client:
        with pytest.raises(BadURLError):
            await fetch(client, url)
    assert server.connections == []


async def test_credentials_message() -> None:
    with pytest.raises(BadURLError, match="user name or password"):
        check_url("https://alice:secret@example.com/", make_settings())


# --- robots.txt --------------------------------------------------------------------------------------

ROBOTS = b"User-agent: *\nDisallow: /nobody\n\nUser-agent: newsdeskbot\nDisallow: /private\n"


async def test_robots_disallow_is_honoured_and_cached(servers) -> None:
    server = servers({"/robots.txt": (200, {"Content-Type": "text/plain"}, ROBOTS),
                      "/private/a": (200, HTML, PAGE), "/public": (200, HTML, PAGE), "/nobody": (200, HTML, PAGE)})
    async with GuardedClient(make_settings(only(server))) as client:
        with pytest.raises(RobotsDisallowedError) as caught:
            await fetch(client, server.url("/private/a"))
        assert caught.value.message == (
            f"robots.txt of 127.0.0.1:{server.port} disallows newsdesk from fetching this page."
        )
        await fetch(client, server.url("/public"))
        await fetch(client, server.url("/nobody"))  # the newsdeskbot group replaces the * group
    assert server.paths() == ["/robots.txt", "/public", "/nobody"]
    assert server.requests[0].headers["user-agent"].startswith("newsdeskbot/")


async def test_robots_disallow_applies_to_redirect_targets(servers) -> None:
    server = servers({"/robots.txt": (200, {"Content-Type": "text/plain"}, ROBOTS),
                      "/go": (302, {"Location": "/private/x"}, b"")})
    async with GuardedClient(make_settings(only(server))) as client:
        with pytest.raises(RobotsDisallowedError):
            await fetch(client, server.url("/go"))
    assert server.paths() == ["/robots.txt", "/go"]


@pytest.mark.parametrize("status", [404, 403, 500, 503])
async def test_unreadable_robots_allows(servers, status: int) -> None:
    server = servers({"/robots.txt": (status, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n"),
                      "/private": (200, HTML, PAGE)})
    async with GuardedClient(make_settings(only(server))) as client:
        assert (await fetch(client, server.url("/private"))).body == PAGE


async def test_robots_can_be_ignored(servers) -> None:
    server = servers({"/robots.txt": (200, {}, ROBOTS), "/private": (200, HTML, PAGE)})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        await fetch(client, server.url("/private"))
    assert server.paths() == ["/private"]


# --- the happy paths ---------------------------------------------------------------------------------

async def test_html_page_with_charset(servers) -> None:
    server = servers({"/robots.txt": (404, {}, b""), "/story": (200, {"Content-Type": 'text/html; charset="UTF-8"',
                                                                      "ETag": '"v1"'}, PAGE)})
    settings = make_settings(only(server))
    async with GuardedClient(settings) as client:
        page = await fetch(client, server.url("/story#comments"))
    assert page.status == 200 and page.body == PAGE
    assert (page.content_type, page.charset) == ("text/html", "utf-8")
    assert page.url == server.url("/story") and page.requested_url == server.url("/story#comments")
    assert page.headers["etag"] == '"v1"'
    sent = server.requests[-1].headers
    assert sent["user-agent"] == settings.user_agent
    assert "text/html" in sent["accept"] and sent["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_page_is_decoded(servers, coding: str) -> None:
    body = {"gzip": gzip.compress(PAGE), "deflate": zlib.compress(PAGE),
            "raw-deflate": zlib.compress(PAGE, wbits=-zlib.MAX_WBITS)}[coding]
    server = servers({"/": (200, {**HTML, "Content-Encoding": coding.removeprefix("raw-")}, body)})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        assert (await fetch(client, server.url("/"))).body == PAGE


async def test_not_modified_passes_through(servers) -> None:
    def story(request: Received) -> tuple[int, dict[str, str], bytes]:
        if request.headers.get("if-none-match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {**HTML, "ETag": '"v1"'}, PAGE

    server = servers({"/story": story})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        page = await fetch(client, server.url("/story"), headers={"If-None-Match": '"v1"'})
    assert page.status == 304 and page.body == b"" and page.headers["etag"] == '"v1"'


async def test_plain_text_and_pdf_are_articles(servers) -> None:
    server = servers({"/a.txt": (200, {"Content-Type": "text/plain"}, b"Plain words."),
                      "/a.pdf": (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%...")})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        assert (await fetch(client, server.url("/a.txt"))).content_type == "text/plain"
        assert (await fetch(client, server.url("/a.pdf"))).content_type == "application/pdf"
    assert ARTICLE_TYPES >= {"text/plain", "application/pdf", "text/html"}


async def test_environment_proxy_is_ignored(servers, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = servers()
    server = servers({"/": (200, HTML, PAGE)})
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy.url())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        assert (await fetch(client, server.url("/"))).body == PAGE
    assert proxy.connections == [] and len(server.connections) == 1


async def test_robots_that_hang_are_given_up_on(servers) -> None:
    def hang() -> Iterator[bytes]:
        time.sleep(3)
        yield b"User-agent: *\nDisallow: /\n"

    server = servers({"/robots.txt": (200, {"Content-Type": "text/plain", "Content-Length": "26"}, hang),
                      "/page": (200, HTML, PAGE)})
    async with GuardedClient(make_settings(only(server), timeout=2.0)) as client:
        started = time.monotonic()
        assert (await fetch(client, server.url("/page"))).body == PAGE
    assert time.monotonic() - started < 1.5  # robots gets a quarter of the budget, the page the rest


async def test_international_names_reach_the_resolver_as_ascii() -> None:
    dns = FakeDNS({"xn--bcher-kva.example": "10.1.2.3"})
    async with GuardedClient(make_settings(respect_robots=False), resolver=dns, opener=RoutingOpener()) as client:
        with pytest.raises(BlockedAddressError, match="private address \\(10.1.2.3\\)"):
            await fetch(client, "https://Bücher.example/")
    assert dns.lookups == ["xn--bcher-kva.example"]


@pytest.fixture(scope="module")
def news_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for news.example, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=news.example",
         "-addext", "subjectAltName=DNS:news.example"],
        check=True, capture_output=True,
    )
    return cert, key


async def test_tls_verifies_and_sends_the_name_while_connecting_to_the_checked_address(
    servers, news_cert: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = news_cert
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server = LoopbackServer({"/": (200, HTML, PAGE)}, tls=server_tls).start()
    try:
        monkeypatch.setattr(netguard, "_ssl_context", lambda: ssl.create_default_context(cafile=cert))
        dns = FakeDNS({"news.example": "127.0.0.1"})
        opener = RoutingOpener()
        async with GuardedClient(make_settings(only(server), respect_robots=False), resolver=dns, opener=opener) as c:
            page = await fetch(c, f"https://news.example:{server.port}/")
            with pytest.raises(FetchError):  # the certificate names news.example, not the address
                await fetch(c, f"https://127.0.0.1:{server.port}/")
    finally:
        server.stop()
    assert page.body == PAGE
    assert opener.opened == [("127.0.0.1", server.port)] * 2
    assert server.sni == ["news.example", None]
    assert server.requests[0].headers["host"] == f"news.example:{server.port}"


async def test_a_body_cut_short_is_a_fetch_error(servers) -> None:
    server = servers({"/": (200, {**HTML, "Content-Length": "5000"}, [b"<html>only part"])})
    async with GuardedClient(make_settings(only(server), respect_robots=False)) as client:
        with pytest.raises(FetchError, match="^the connection broke off before the whole page arrived.$"):
            await fetch(client, server.url("/"))
