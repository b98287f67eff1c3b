"""A loopback HTTP server for tests: routes from a dict, a thread of its own, a record of everything.

    with LoopbackServer({"/": (200, {"Content-Type": "text/html"}, b"<p>hi</p>")}) as server:
        ... fetch(server.url("/")) ...
        assert server.paths() == ["/"]

A route is `(status, headers, body)` or a callable `(Received) -> (status, headers, body)`. A body is
bytes (sent with a Content-Length), or an iterable / zero-argument callable yielding bytes, each piece
flushed as it comes (a slow drip: sleep between yields), after which the server closes the connection:
that marks the end, or cuts the body short of a Content-Length the headers name. Unknown paths
answer 404.

`connections` records every accepted TCP connection (even one that never sends a request), and
`requests` every request, so a test can assert that something received nothing at all. Other test
packages use it through the `http_server` / `http_server_factory` fixtures.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

Body = bytes | Iterable[bytes] | Callable[[], Iterable[bytes]]
Reply = tuple[int, dict[str, str], Body]


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # as sent, query included
    headers: dict[str, str]  # names lowercased
    client: tuple[str, int]


@dataclass
class LoopbackServer:
    routes: dict[str, Reply | Callable[[Received], Reply]] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0  # 0: an ephemeral port, known after start()
    tls: ssl.SSLContext | None = None  # a server-side context: serve https (SNI names land in `sni`)
    connections: list[tuple[str, int]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackServer:
        if self.tls is not None:
            self.tls.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
        self._server = _Server((self.host, self.port), _Handler, owner=self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False  # a handler stuck in a slow drip must not hold up teardown

    def __init__(self, address: tuple[str, int], handler: type, *, owner: LoopbackServer):
        self.owner = owner
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        self.owner.connections.append(client_address)
        super().process_request(request, client_address)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.owner.tls is not None:  # the handshake happens in the handler's thread, see _Handler.setup
            sock = self.owner.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):  # clients hanging up early is the point
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so tests see pooled connections reused
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        received = Received(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.client_address
        )
        owner.requests.append(received)
        route = owner.routes.get(self.path) or owner.routes.get(self.path.split("?")[0])
        if route is None:
            route = (404, {"Content-Type": "text/plain"}, b"not found")
        status, headers, body = route(received) if callable(route) else route
        self._reply(status, dict(headers), body)

    do_HEAD = do_POST = do_GET

    def _reply(self, status: int, headers: dict[str, str], body: Body) -> None:
        self.send_response(status)
        named = {name.lower() for name in headers}
        streamed = not isinstance(body, bytes)
        if streamed:  # the connection ends with the body: its end, or where a short body stops
            headers.setdefault("Connection", "close")
            self.close_connection = True
        elif not streamed and "content-length" not in named and status not in (204, 304):
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD" or status in (204, 304):
            return
        try:
            for piece in _pieces(body):
                self.wfile.write(piece)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up, as it should on a too-large or slow body


def _pieces(body: Body) -> Iterator[bytes]:
    if isinstance(body, bytes):
        yield body
        return
    yield from body() if callable(body) else body


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A started LoopbackServer with no routes yet: `http_server.routes["/x"] = (200, {...}, b"...")`."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def http_server_factory() -> Iterator[Callable[..., LoopbackServer]]:
    """Start as many servers as a test needs; all stop at teardown."""
    started: list[LoopbackServer] = []

    def make(routes: dict[str, Any] | None = None, **options: Any) -> LoopbackServer:
        server = LoopbackServer(routes or {}, **options).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
