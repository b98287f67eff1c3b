"""Which URLs and addresses newsdesk may reach, and an httpx transport that connects to no others.

`parse_target` reads a URL's host the way browsers and inet_aton do (`http://0x7f000001/` is
127.0.0.1), so an address written in the URL is refused before any I/O. But a URL names a host, and
what matters is the address the socket reaches, so the real check lives in the network backend:
`GuardedBackend.connect_tcp` resolves the name once, refuses unless every answer is public, and
connects to the checked IP itself. Redirect hops and new pooled connections all pass through it, and
no second DNS answer (rebinding) is ever asked for. TLS still gets the name for SNI and certificate
checks, because httpcore passes the origin's host to `start_tls`, not our IP. httpx has no option
for a network backend; `GuardedTransport` swaps its pool for one that has ours.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpcore
import httpx
import idna
from httpcore import AnyIOBackend, AsyncNetworkBackend, AsyncNetworkStream

from newsdesk.settings import Allowance

from .errors import BadURLError, BlockedAddressError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to. May be sync or async; tests pass fakes.
Resolver = Callable[[str, int], Awaitable[Iterable[str | IPAddress]] | Iterable[str | IPAddress]]
# (checked ip, port, timeout, local_address, socket_options) -> stream. Only ever given checked IPs.
Opener = Callable[..., Awaitable[AsyncNetworkStream]]

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# The IANA special-purpose registries' "not globally reachable" blocks, most specific first.
_V4_BLOCKS: list[tuple[ipaddress.IPv4Network, str]] = [
    (_V4("0.0.0.0/8"), "unspecified"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "reserved"),  # the retired 6to4 relay anycast
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
]
_V6_BLOCKS: list[tuple[ipaddress.IPv6Network, str]] = [
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("64:ff9b:1::/48"), "private"),  # local-use NAT64
    (_V6("100::/64"), "reserved"),  # discard-only
    (_V6("2001::/23"), "reserved"),  # IETF protocol assignments, Teredo included
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("5f00::/16"), "reserved"),  # SRv6 SIDs
    (_V6("fc00::/7"), "private"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "private"),  # the retired site-local block
    (_V6("ff00::/8"), "multicast"),
]
_GLOBAL_UNICAST = _V6("2000::/3")
_NAT64 = _V6("64:ff9b::/96")
_SIXTOFOUR = _V6("2002::/16")
_TEREDO = _V6("2001::/32")
_V4_IN_V6 = _V6("::/96")  # IPv4-compatible (deprecated)
_TRANSLATED = _V6("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


def embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 form carries (mapped, compatible, translated, NAT64, 6to4, Teredo)."""
    if addr.ipv4_mapped is not None:
        return [addr.ipv4_mapped]
    if addr.sixtofour is not None:
        return [addr.sixtofour]
    if addr.teredo is not None:
        return list(addr.teredo)
    if addr in _NAT64 or addr in _TRANSLATED or (addr in _V4_IN_V6 and int(addr) > 1):
        return [ipaddress.IPv4Address(addr.packed[-4:])]
    return []


def classify(addr: IPAddress) -> str | None:
    """Why newsdesk must not connect to `addr` ("loopback", "private", ...), or None if it is public."""
    if isinstance(addr, ipaddress.IPv4Address):
        return next((reason for net, reason in _V4_BLOCKS if addr in net), None)
    addr = ipaddress.IPv6Address(int(addr))  # drop any %scope
    for inner in embedded_ipv4(addr):
        if (reason := classify(inner)) is not None:
            return reason
    if addr.ipv4_mapped is not None:
        return None  # the socket reaches the IPv4 address itself, which is public
    reason = next((reason for net, reason in _V6_BLOCKS if addr in net), None)
    if reason is None and addr not in _GLOBAL_UNICAST and addr not in _NAT64:
        reason = "reserved"  # outside 2000::/3 nothing is allocated for public use
    return reason


_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]*|[0-9]+)")


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Read `host` the way browsers (WHATWG URL) and inet_aton do: `127.1`, `2130706433`, `0x7f.0.0.1`,
    `0177.0.0.1`, a trailing dot. None when the host is a name; ValueError when it ends in a number
    but is no address (`1.2.3.999`), which browsers refuse rather than look up."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not _NUMBER.fullmatch(parts[-1]):
        return None
    if len(parts) > 4 or not all(_NUMBER.fullmatch(part) for part in parts):
        raise ValueError(f"{host} is not a valid IPv4 address")
    numbers = [_number(part) for part in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"{host} is not a valid IPv4 address")
    value = numbers[-1]
    for index, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)  # ValueError for 08, as inet_aton
    return int(part)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host string denotes by itself (IPv6 with or without brackets, any IPv4 form)."""
    host = host.strip("[]")
    if ":" in host:
        return ipaddress.IPv6Address(host)
    return parse_ipv4(host)


def blocked_reason(addr: IPAddress, port: int, allowances: Sequence[Allowance]) -> str | None:
    """None if newsdesk may connect to addr:port, else why not. FETCH_ALLOW_NETWORKS wins."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if any(allowance.permits(addr, port) for allowance in allowances):
        return None
    return classify(addr)


def blocked_message(target: str, addr: IPAddress, reason: str) -> str:
    article = "an" if reason[0] in "aeiou" else "a"
    return f"{target} resolves to {article} {reason} address ({addr}); newsdesk only fetches public addresses."


@dataclass(frozen=True)
class Target:
    """One URL as newsdesk will request it."""

    url: str  # what httpx is given: canonical host, no fragment
    shown: str  # as the caller or the Location header wrote it, for messages
    scheme: str
    host: str  # IDNA ASCII name, or the address
    port: int
    netloc: str
    ip: IPAddress | None

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"


def parse_target(url: str) -> Target:
    """Read a URL as a browser would, so the host we check is the host a browser would reach."""
    shown = url.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in shown):
        raise BadURLError(f"{shown!r} contains control characters, so it is not a link newsdesk fetches.", url=url)
    try:
        parts = urlsplit(shown)
    except ValueError:  # an unclosed [ or a netloc that NFKC turns into another one
        raise BadURLError(f"{shown} is not a link newsdesk can read.", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise BadURLError(f"{shown} is not a web link; newsdesk only fetches http:// and https:// pages.", url=url)
    if "@" in parts.netloc:
        raise BadURLError("newsdesk does not fetch links with a user name or password in them (user:pass@).", url=url)
    if not parts.netloc or any(c in parts.netloc for c in "\\% \t"):
        raise BadURLError(f"{shown} has no readable host name.", url=url)
    try:
        hostname, port = parts.hostname or "", parts.port
        ip: IPAddress | None = None
        if parts.netloc.startswith("["):
            ip = ipaddress.IPv6Address(hostname)
            host = str(ip)
        else:
            if not hostname.isascii():
                hostname = idna.uts46_remap(hostname, std3_rules=False)
            ip = parse_ipv4(hostname)
            host = str(ip) if ip else hostname.removesuffix(".")
            if not host.isascii():
                host = idna.encode(host).decode("ascii")
            if not ip and not _HOST_NAME.fullmatch(host):
                raise ValueError(host)
    except (ValueError, idna.IDNAError):
        raise BadURLError(f"{shown} has no readable host name or port.", url=url) from None
    if port == 0:
        raise BadURLError(f"{shown} names port 0, which no web server listens on.", url=url)
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    target_url = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(target_url, shown, scheme, host, port or _DEFAULT_PORTS[scheme], netloc, ip)


def check_target(target: Target, allowances: Sequence[Allowance]) -> None:
    """Refuse a URL whose host is written as a blocked address (names wait for the connect)."""
    if target.ip is not None and (reason := blocked_reason(target.ip, target.port, allowances)):
        raise BlockedAddressError(blocked_message(target.shown, target.ip, reason), url=target.shown)


class AddressBlocked(BlockedAddressError):
    """Raised by the backend at connect time; `fetch` rewords it with the URL being fetched."""

    def __init__(self, host: str, address: IPAddress, reason: str):
        super().__init__(blocked_message(host, address, reason))
        self.host, self.address, self.reason = host, address, reason


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer, asked once per connection."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise httpcore.ConnectError(f"{host} could not be resolved ({error.strerror})") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(AsyncNetworkBackend):
    """An httpcore network backend that only opens TCP connections to checked, public addresses."""

    def __init__(
        self, allowances: Sequence[Allowance] = (), resolver: Resolver | None = None, opener: Opener | None = None
    ):
        self.allowances = list(allowances)
        self.resolver: Resolver = resolver or system_resolver
        self._anyio = AnyIOBackend()
        self.opener: Opener = opener or self._anyio.connect_tcp

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            literal = parse_ip_literal(host)
        except ValueError as error:
            raise httpcore.ConnectError(str(error)) from None
        if literal is not None:
            return [literal]
        answer = self.resolver(host, port)
        if inspect.isawaitable(answer):
            answer = await answer
        addresses = [ipaddress.ip_address(a) if isinstance(a, str) else a for a in answer]  # type: ignore[union-attr]
        if not addresses:
            raise httpcore.ConnectError(f"{host} could not be resolved")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        addresses = await self.resolve(host, port)
        for addr in addresses:  # every answer must pass, so no answer can be chosen by an attacker
            if (reason := blocked_reason(addr, port, self.allowances)) is not None:
                log.info("refused to connect to %s (%s, %s)", host, addr, reason)
                raise AddressBlocked(host, addr, reason)
        error: Exception | None = None
        for addr in addresses:
            if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
                addr = addr.ipv4_mapped
            try:
                return await self.opener(str(addr), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None):
        raise httpcore.ConnectError("newsdesk does not fetch over unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._anyio.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's roots), built once: loading them takes ~35 ms."""
    return ssl.create_default_context(cafile=certifi.where())


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the guarded backend under its connection pool; no proxy, ever."""

    def __init__(self, backend: GuardedBackend, *, limits: httpx.Limits | None = None):
        super().__init__(verify=_ssl_context(), trust_env=False)
        limits = limits or httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=5.0)
        # httpx 0.28 keeps its pool as `_pool` and offers no network_backend option; replace it.
        assert isinstance(self._pool, httpcore.AsyncConnectionPool)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend,
        )
