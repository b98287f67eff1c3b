"""Fetch one page through the guarded client: redirects followed by hand, robots.txt, limits, sniffing.

`check_url` reads a URL the way a browser would (numeric hosts included) and refuses what newsdesk
never fetches; `fetch` re-checks every redirect hop, and the connection itself is checked again by
`netguard.GuardedBackend`, which is what actually keeps the host's own network out of reach.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from protego import Protego

from newsdesk.settings import FetchSettings

from .errors import (
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
from .netguard import (
    AddressBlocked,
    GuardedBackend,
    GuardedTransport,
    Opener,
    Resolver,
    Target,
    blocked_message,
    check_target,
    parse_target,
)

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
ARTICLE_TYPES = HTML_TYPES | {"text/plain", "application/pdf"}
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/xml", "text/xml"})
ROBOTS_TOKEN = "newsdeskbot"
_DESCRIBED = {ARTICLE_TYPES: "an article (HTML, plain text or PDF)", FEED_TYPES: "a feed (RSS, Atom or XML)",
              HTML_TYPES: "a web page (HTML)"}
_REDIRECTS = {301, 302, 303, 307, 308}
_ROBOTS_TIMEOUT = 5.0  # robots.txt that does not answer in time (or a quarter of the budget) is absent
_ROBOTS_MAX_BYTES = 512_000  # what Google reads of a robots.txt; the rest is ignored
_CROSS_ORIGIN_DROP = ("authorization", "cookie", "proxy-authorization")
_MAGIC = [(b"%PDF", "a PDF document"), (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"), (b"PK\x03\x04", "a ZIP archive"),
          (b"PK\x05\x06", "a ZIP archive"), (b"\x1f\x8b", "gzip-compressed data")]


@dataclass(frozen=True)
class FetchedPage:
    url: str  # final URL after redirects
    requested_url: str
    status: int  # 200, or 304 when conditional headers matched
    content_type: str  # bare media type, lowercased
    charset: str | None  # from the Content-Type header, if any
    body: bytes  # decoded bytes, <= max_bytes
    headers: Mapping[str, str]  # response headers (ETag, Last-Modified)


def check_url(url: str, settings: FetchSettings) -> None:
    """Refuse, without any I/O, what newsdesk never fetches: other schemes, credentials, unreadable
    hosts and hosts written as a blocked address. Names are checked when they are connected to."""
    check_target(parse_target(url), settings.allowances)


class GuardedClient:
    """The one way newsdesk makes HTTP requests to pages: an httpx client on the guarded transport,
    with no proxy from the environment, the bot's User-Agent and a robots.txt cache per origin.
    `resolver` and `opener` replace DNS and the socket connect (tests); both only see checked data."""

    def __init__(self, settings: FetchSettings, *, resolver: Resolver | None = None, opener: Opener | None = None):
        self.settings = settings
        self.allowances = settings.allowances
        self.backend = GuardedBackend(self.allowances, resolver=resolver, opener=opener)
        self.http = httpx.AsyncClient(
            transport=GuardedTransport(self.backend),
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._robots: dict[str, Protego | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> GuardedClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()


async def fetch(
    client: GuardedClient,
    url: str,
    *,
    accept: frozenset[str] = ARTICLE_TYPES,
    headers: Mapping[str, str] | None = None,
) -> FetchedPage:
    """GET one page within the client's limits, or raise the FetchError that says why not."""
    settings = client.settings
    target = parse_target(url)
    check_target(target, client.allowances)
    wanted = {"Accept": ",".join(sorted(accept)) + ",*/*;q=0.1", **(headers or {})}
    try:
        async with asyncio.timeout(settings.timeout):
            response, final = await _follow(client, target, wanted, robots=settings.respect_robots)
            try:
                page = await _read_page(response, final, url, accept, settings.max_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        raise FetchTimeoutError(_too_slow(settings), url=url) from None
    log.info("fetched %s (%d, %s, %d bytes)", page.url, page.status, page.content_type, len(page.body))
    return page


async def _follow(
    client: GuardedClient, target: Target, headers: Mapping[str, str], *, robots: bool
) -> tuple[httpx.Response, Target]:
    """Send the request and follow redirects by hand, checking each hop like the first."""
    first_origin, seen = target.origin, {target.url}
    for hop in range(client.settings.max_redirects + 1):
        if robots and not await _robots_allow(client, target):
            raise RobotsDisallowedError(
                f"robots.txt of {target.netloc} disallows newsdesk from fetching this page.", url=target.shown
            )
        if target.origin != first_origin:
            headers = {k: v for k, v in headers.items() if k.lower() not in _CROSS_ORIGIN_DROP}
        response = await _send(client, target, headers)
        location = response.headers.get("location")
        if response.status_code not in _REDIRECTS or not location:
            return response, target
        await response.aclose()
        if hop == client.settings.max_redirects:
            break
        target = parse_target(urljoin(target.url, location))
        check_target(target, client.allowances)
        if target.url in seen:
            raise TooManyRedirectsError("the page redirects in a loop.", url=target.shown)
        seen.add(target.url)
    raise TooManyRedirectsError(
        f"the page redirected more than {client.settings.max_redirects} times.", url=target.shown
    )


async def _send(client: GuardedClient, target: Target, headers: Mapping[str, str]) -> httpx.Response:
    request = client.http.build_request("GET", target.url, headers=headers)
    try:
        return await client.http.send(request, stream=True)
    except AddressBlocked as error:
        raise BlockedAddressError(
            blocked_message(target.shown, error.address, error.reason), url=target.shown
        ) from error
    except httpx.TimeoutException:
        raise FetchTimeoutError(_too_slow(client.settings), url=target.shown) from None
    except httpx.InvalidURL:
        raise BadURLError(f"{target.shown} is not a link newsdesk can read.", url=target.shown) from None
    except httpx.HTTPError as error:
        log.info("could not fetch %s: %r", target.url, error)
        raise FetchError(f"newsdesk could not reach {target.netloc}.", url=target.shown) from error


async def _robots_allow(client: GuardedClient, target: Target) -> bool:
    origin = target.origin
    if origin not in client._robots:
        async with client._robots_locks.setdefault(origin, asyncio.Lock()):
            if origin not in client._robots:
                client._robots[origin] = await _load_robots(client, parse_target(origin + "/robots.txt"))
    rules = client._robots[origin]
    return rules is None or rules.can_fetch(target.url, ROBOTS_TOKEN)


async def _load_robots(client: GuardedClient, target: Target) -> Protego | None:
    """The origin's rules, or None (allow all) when it has none or they cannot be read: 4xx means
    none, and a 5xx, timeout or broken robots.txt is forgiven rather than blocking the page. A blocked
    address is forgiven too: the page's own request is checked again at its own connect."""
    try:
        async with asyncio.timeout(min(_ROBOTS_TIMEOUT, client.settings.timeout / 4)):
            response, _ = await _follow(client, target, {"Accept": "text/plain"}, robots=False)
            try:
                if response.status_code != 200:
                    log.info("%s answered %d; no robots rules", target.url, response.status_code)
                    return None
                body, _ = await _read_body(response, _ROBOTS_MAX_BYTES)
            finally:
                await response.aclose()
    except (FetchError, TimeoutError) as error:
        log.info("could not read %s (%s); no robots rules", target.url, error)
        return None
    return Protego.parse(body.decode("utf-8", "replace"))


async def _read_page(
    response: httpx.Response, target: Target, requested: str, accept: frozenset[str], max_bytes: int
) -> FetchedPage:
    status = response.status_code
    if status >= 300 and status != 304:
        phrase = httpx.codes.get_reason_phrase(status) or response.reason_phrase
        raise HTTPStatusError(f"the server answered {status} {phrase}.".replace(" .", "."), url=target.shown)
    media, charset = _parse_content_type(response.headers.get("content-type", ""))
    if status == 304:
        return FetchedPage(target.url, requested, status, media, charset, b"", response.headers)
    if media and media not in accept:
        raise ContentTypeError(f"the server sent {media}, not {_describe(accept)}.", url=target.shown)
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise TooLargeError(f"the page is larger than {_size(max_bytes)}.", url=target.shown)
    body, complete = await _read_body(response, max_bytes)
    if not complete:
        raise TooLargeError(f"the page is larger than {_size(max_bytes)}.", url=target.shown)
    media = _sniff(media, charset, body, accept, target)
    return FetchedPage(target.url, requested, status, media, charset, body, response.headers)


async def _read_body(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """Up to max_bytes of the decoded body, and whether that was all of it."""
    coding = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
    coding = [c for c in coding if c and c != "identity"]
    if len(coding) > 1 or (coding and coding[0] not in ("gzip", "x-gzip", "deflate")):
        raise ContentTypeError(
            f"the server compressed the page as {', '.join(coding)}, which newsdesk does not read.",
            url=str(response.url),
        )
    inflater = _Inflater(coding[0] if coding else "identity")
    body = bytearray()
    try:
        async for raw in response.aiter_raw():  # raw, so that decoding is ours and bounded
            body += inflater.decode(raw, max_bytes + 1 - len(body))
            if len(body) > max_bytes:
                return bytes(body[:max_bytes]), False
    except httpx.HTTPError as error:
        log.info("reading %s failed: %r", response.url, error)
        raise FetchError("the connection broke off before the whole page arrived.", url=str(response.url)) from error
    return bytes(body), True


class _Inflater:
    """One content-coding, decoded with zlib's max_length so output never outruns the cap.

    Written here because httpx's decoders inflate each network chunk whole: 64 KiB of gzip becomes
    64 MB in one step, and stacked codings (`gzip, gzip`) multiply that."""

    def __init__(self, coding: str):
        self.coding = coding
        self._started = False
        self._zlib = self._new(raw=False)

    def _new(self, *, raw: bool) -> zlib._Decompress:
        if self.coding == "deflate":  # servers send zlib-wrapped or raw deflate; take both
            return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def decode(self, data: bytes, room: int) -> bytes:
        if self.coding == "identity":
            return data
        out = bytearray()
        while data and len(out) < room:
            try:
                out += self._zlib.decompress(data, room - len(out))
            except zlib.error:
                if self.coding != "deflate" or self._started:
                    raise ContentTypeError("the server sent a corrupt compressed page.") from None
                self._zlib = self._new(raw=True)
                self._started = True
                continue
            self._started = True
            if not self._zlib.eof:
                data = self._zlib.unconsumed_tail
            elif self._zlib.unused_data.startswith(b"\x1f\x8b"):  # another gzip member follows
                data, self._zlib = self._zlib.unused_data, self._new(raw=False)
            else:
                data = b""
        return bytes(out)


def _parse_content_type(value: str) -> tuple[str, str | None]:
    media, *params = value.split(";")
    charset = None
    for param in params:
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset" and val.strip().strip("\"'"):
            charset = val.strip().strip("\"'").lower()
    return media.strip().lower(), charset


def _sniff(media: str, charset: str | None, body: bytes, accept: frozenset[str], target: Target) -> str:
    """The media type the bytes bear out; a label that the first bytes contradict is refused."""
    head = body[:1024]
    kind = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    wide = (charset or "").startswith(("utf-16", "utf-32")) or head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if kind is None and b"\x00" in head and not wide:
        kind = "binary data"
    if media == "application/pdf":
        if not body.startswith(b"%PDF"):
            raise ContentTypeError("the server labelled the page a PDF, but it is not one.", url=target.shown)
        return media
    if not media:  # no label: go by the bytes, as browsers do
        if kind == "a PDF document":
            media = "application/pdf"
        elif kind is None:
            text = head.lstrip().lower()
            media = "text/html" if text.startswith((b"<!doctype html", b"<html")) or b"<body" in text else (
                "application/xml" if text.startswith((b"<?xml", b"<rss", b"<feed")) else "text/plain"
            )
        if media not in accept or kind:
            raise ContentTypeError(f"the server sent {kind or media}, not {_describe(accept)}.", url=target.shown)
        return media
    if kind is not None:
        raise ContentTypeError(f"the server labelled the page {media} but sent {kind}.", url=target.shown)
    return media


def _describe(accept: frozenset[str]) -> str:
    return _DESCRIBED.get(accept) or "one of " + ", ".join(sorted(accept))


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB"


def _too_slow(settings: FetchSettings) -> str:
    return f"the page took longer than {settings.timeout:g} s to download."
