"""A loopback stand-in for an OpenAI-compatible chat server, scripted by the test.

    with LLMServer() as server:
        server.script(Reply("Nvidia shipped it [1]."), Fail(500), Hang(5), Respond(lambda req: ...))
        llm = LLMSettings(model="openai:gpt-4o-mini", base_url=server.base_url, api_key="test")
        ...
        server.requests[0].messages  # what the client sent

Implements POST .../chat/completions: a JSON reply, or Server-Sent Events when the request asks for
`stream: true`. Each request takes the next behaviour from the queue; an unscripted request gets a 500
(and is still recorded), so a test that makes more calls than it scripted fails loudly. Handler threads
are daemons and hangs end when the server closes, so a hung request never outlives its test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """Answer with `text` (after `delay` seconds)."""

    text: str
    delay: float = 0.0
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Fail:
    """Answer with an HTTP error status and an OpenAI-style error body."""

    status: int = 500
    message: str = "internal error"


@dataclass(frozen=True)
class Hang:
    """Accept the request, then say nothing for `seconds` (or until the server closes) and drop it."""

    seconds: float


@dataclass(frozen=True)
class Malformed:
    """Status 200 with a body that is not a chat completion."""

    body: str = '{"choices": [{"message": '
    content_type: str = "application/json"


Behaviour = Reply | Fail | Hang | Malformed


@dataclass(frozen=True)
class Respond:
    """Decide from the request: `make(request)` returns the behaviour (e.g. cite the source it got)."""

    make: Callable[[RecordedRequest], Behaviour | str]


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] | None
    at: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def text(self) -> str:
        """Every message's content, joined: what the prompt said, for `in` assertions."""
        parts = []
        for message in self.messages:
            content = message.get("content", "")
            if isinstance(content, list):  # content blocks
                content = "\n".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
            parts.append(str(content))
        return "\n".join(parts)

    def content_of(self, role: str) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)


class LLMServer:
    """A threaded HTTP server on 127.0.0.1 (an ephemeral port) that plays back scripted behaviours."""

    def __init__(self, *, model: str = "gpt-4o-mini"):
        self.model = model
        self.requests: list[RecordedRequest] = []
        self.default: Behaviour = Fail(500, "unscripted request")
        self._queue: deque[Behaviour | Respond] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="llmserver", daemon=True)

    # -- lifecycle
    def start(self) -> LLMServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the test's side
    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *behaviours: Behaviour | Respond | str) -> None:
        """Queue behaviours; a plain string is a Reply."""
        with self._lock:
            self._queue.extend(Reply(b) if isinstance(b, str) else b for b in behaviours)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- the handler's side
    def _next(self, request: RecordedRequest) -> Behaviour:
        with self._lock:
            self.requests.append(request)
            behaviour = self._queue.popleft() if self._queue else self.default
        if isinstance(behaviour, Respond):
            made = behaviour.make(request)
            behaviour = Reply(made) if isinstance(made, str) else made
        return behaviour


def _completion(model: str, text: str, finish_reason: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None) -> bytes:
    body = {
        "id": "chatcmpl-loopback",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _handler_for(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            request = RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            behaviour = server._next(request)
            self._play(behaviour, bool(body and body.get("stream")))

        def _play(self, behaviour: Behaviour, stream: bool) -> None:
            if isinstance(behaviour, Hang):
                server._closing.wait(behaviour.seconds)
                self.close_connection = True
                return
            if isinstance(behaviour, Fail):
                self._send(behaviour.status, {"error": {"message": behaviour.message, "type": "server_error"}})
                return
            if isinstance(behaviour, Malformed):
                self._send_bytes(200, behaviour.body.encode(), behaviour.content_type)
                return
            if behaviour.delay:
                server._closing.wait(behaviour.delay)
            if stream:
                self._stream(behaviour)
            else:
                self._send(200, _completion(server.model, behaviour.text, behaviour.finish_reason))

        def _stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(_chunk(server.model, {"role": "assistant", "content": ""}, None))
            words = reply.text.split(" ")
            for i, word in enumerate(words):
                self.wfile.write(_chunk(server.model, {"content": word if i == 0 else " " + word}, None))
            self.wfile.write(_chunk(server.model, {}, reply.finish_reason))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            self._send_bytes(status, json.dumps(payload).encode(), "application/json")

        def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
