"""Fake DNS and a fake socket connect for the guarded fetcher (GuardedClient's resolver and opener)."""

from __future__ import annotations

import ipaddress
from typing import Any

from httpcore import AnyIOBackend

from tests.support.httpserver import LoopbackServer


class FakeDNS:
    """Answers names from a dict; a list of answers is used one per lookup, the last one repeating."""

    def __init__(self, answers: dict[str, Any]):
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answer = self.answers[host]
        if isinstance(answer, list) and answer and isinstance(answer[0], list):
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer if isinstance(answer, list) else [answer]


class RoutingOpener:
    """The socket connect, for tests: records every (ip, port) and sends the test-net addresses in
    `routes` to a loopback server instead; anything else non-loopback fails the test."""

    def __init__(self, routes: dict[str, LoopbackServer] | None = None):
        self.routes = routes or {}
        self.opened: list[tuple[str, int]] = []

    async def __call__(self, ip: str, port: int, timeout: float | None = None, *args: Any) -> Any:
        self.opened.append((ip, port))
        if ip in self.routes:
            return await AnyIOBackend().connect_tcp("127.0.0.1", self.routes[ip].port, timeout)
        assert ipaddress.ip_address(ip).is_loopback, f"a test tried to connect to {ip}"
        return await AnyIOBackend().connect_tcp(ip, port, timeout, *args)
