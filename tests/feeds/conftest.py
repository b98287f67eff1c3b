"""A loopback news site with feeds (ETag / Last-Modified, 304s) and short article pages, and a feed
poller over a real embedded store in tmp_path with the real embedder."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

import pytest

from ingest.feedpoll import FeedPoller
from ingest.feedstore import FeedStore
from ingest.pipeline import Pipeline
from newsdesk.settings import Paths, Settings
from tests.bot.conftest import world  # noqa: F401 - the bot tests' SimCord world, for test_bot_feeds.py
from tests.conftest import make_settings
from tests.support.httpserver import LoopbackServer, Received, Reply

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml"
HTML = {"Content-Type": "text/html; charset=utf-8"}

# path -> (title, site, ISO date, paragraphs). Short, so that embedding them takes a moment.
ARTICLES: dict[str, tuple[str, str, str, list[str]]] = {
    "/news/halcyon-ohio": (
        "Halcyon Labs opens a chip plant in Ohio", "The AI Wire", "2026-03-12T09:30:00+00:00",
        ["Halcyon Labs will build its low-power inference chips at a new plant outside Columbus, Ohio, the company "
         "said on Thursday. The plant is expected to employ 900 people when it opens in 2027.",
         "The start-up raised $400 million last year. Its chief executive said making chips at home shortens the "
         "wait for customers who run language models in their own data centres."],
    ),
    "/news/mistral-european": (
        "Mistral trains a model on *European* data only", "The AI Wire", "2026-03-11T14:00:00+00:00",
        ["Mistral said its newest model was trained only on text from European sources, in 24 languages, to meet "
         "the expectations of public-sector customers in the European Union.",
         "The Paris company did not say how large the model is. It will be offered through its own platform and "
         "through two European cloud providers from April."],
    ),
    "/blog/second-model": (
        "Our second open model", "Frontier Labs", "2026-03-05T12:00:00+00:00",
        ["Today we release our second open-weights model, a 12-billion-parameter model trained on 9 trillion "
         "tokens, under the Apache 2.0 licence, with its training recipe.",
         "It beats our first model on every benchmark we track while costing the same to serve on one GPU."],
    ),
    "/blog/sparse-experts": (
        "Scaling sparse experts", "Frontier Labs", "2026-03-09T12:00:00+00:00",
        ["Routing in sparse mixtures of experts decides which experts see each token. We compare top-1 and top-2 "
         "gates over 64 experts and find that top-2 trains more stably at every scale we tried.",
         "The gap closes when the load-balancing loss is tuned, which we describe in the appendix."],
    ),
    "/blog/evals": (
        "Why x<y matters for evals", "Frontier Labs", "2026-03-01T12:00:00+00:00",
        ["Comparing two evaluation scores means little without their confidence intervals. On small benchmarks a "
         "difference of two points is often noise, as bootstrapping the test set shows.",
         "We now report intervals for every score we publish."],
    ),
    "/blog/hiring": (
        "Hiring: research engineers", "Frontier Labs", "2026-02-20T12:00:00+00:00",
        ["We are hiring research engineers to work on training infrastructure, evaluation and data pipelines, in "
         "our offices in Oslo and Lisbon or remotely within Europe.",
         "Experience with distributed training is a plus but not required."],
    ),
}


def article_page(title: str, site: str, date: str, paragraphs: list[str]) -> bytes:
    from html import escape

    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    text = Template((FEEDS / "article.html").read_text()).substitute(
        title=escape(title), site=escape(site), date=date, body=body
    )
    return text.encode("utf-8")


def feed_text(name: str, base: str) -> bytes:
    return Template((FEEDS / name).read_text()).safe_substitute(base=base).encode("utf-8")


@dataclass
class FeedSite:
    """Feeds served with validators (304 when If-None-Match matches) and the article pages above."""

    server: LoopbackServer
    bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # feed path -> (body, content type)
    times: list[tuple[str, float]] = field(default_factory=list)  # (path, monotonic) of every request

    def url(self, path: str) -> str:
        return self.server.url(path)

    def serve_feed(self, path: str, body: bytes, content_type: str = RSS) -> str:
        self.bodies[path] = (body, content_type)
        self.server.routes[path] = self._feed_route(path)
        return self.url(path)

    def _feed_route(self, path: str) -> Callable[[Received], Reply]:
        def reply(received: Received) -> Reply:
            self.times.append((received.path, time.monotonic()))
            body, content_type = self.bodies[path]
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers = {"ETag": etag, "Last-Modified": "Thu, 12 Mar 2026 10:00:00 GMT"}
            if received.headers.get("if-none-match") == etag:
                return 304, headers, b""
            return 200, {**headers, "Content-Type": content_type}, body

        return reply

    def serve_page(self, path: str, title: str, site: str, date: str, paragraphs: list[str]) -> None:
        page = article_page(title, site, date, paragraphs)

        def reply(received: Received) -> Reply:
            self.times.append((received.path, time.monotonic()))
            return 200, HTML, page

        self.server.routes[path] = reply

    def requests_for(self, path: str) -> list[Received]:
        return [r for r in self.server.requests if r.path.split("?")[0] == path]

    def page_requests(self) -> list[str]:
        return [r.path for r in self.server.requests if r.path.startswith(("/news/", "/blog/"))]


@pytest.fixture
def site(http_server: LoopbackServer) -> FeedSite:
    site = FeedSite(http_server)
    http_server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
    for path, (title, name, date, paragraphs) in ARTICLES.items():
        site.serve_page(path, title, name, date, paragraphs)
    return site


class Clock:
    """The poller's idea of now; tests move it by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def feed_settings(tmp_path: Path, port: int, *, allow: tuple[int, ...] = (), fetch_timeout: float = 5,
                  **feeds: Any) -> Settings:
    """Settings that let the fetcher reach the loopback site's port (and `allow`'s) and no other."""
    ports = "|".join(str(p) for p in (port, *allow))
    fetch = {"allow_networks": [f"127.0.0.1/32:{ports}"], "timeout": fetch_timeout}
    return make_settings(tmp_path, fetch=fetch, feeds={"host_delay": 0, **feeds})


@pytest.fixture
def make_poller(tmp_path: Path, site: FeedSite, embedder: Any, clock: Clock) -> Iterator[Callable[..., FeedPoller]]:
    """FeedPoller over a fresh embedded store; keyword arguments are FEEDS_ settings (and feed_settings')."""
    from vectorstore.store import open_store

    made: list[FeedStore] = []

    def make(**feeds: Any) -> FeedPoller:
        settings = feed_settings(tmp_path, site.server.port, **feeds)
        store = open_store(settings.chroma, settings.data_dir, embedder, retries=0)
        feed_store = FeedStore(Paths(settings.data_dir).feeds_db)
        made.append(feed_store)
        return FeedPoller(feed_store, Pipeline(store, settings.chunk, settings.fetch), settings.feeds, settings.fetch,
                          clock=clock)

    yield make
    for feed_store in made:
        feed_store.close()


@pytest.fixture
def poller(make_poller: Callable[..., FeedPoller]) -> FeedPoller:
    return make_poller()
