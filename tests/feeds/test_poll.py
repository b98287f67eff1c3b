"""Subscribing and polling against a loopback news site, into a real embedded store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from ingest.errors import IngestError
from ingest.feedpoll import FeedPoller, backoff
from ingest.feedstore import parse_iso
from tests.feeds.conftest import ATOM, RSS, Clock, FeedSite, feed_text
from tests.support.httpserver import LoopbackServer

pytestmark = pytest.mark.asyncio


def rss(site: FeedSite, *items: tuple[str, str, str, str]) -> bytes:
    """An RSS 2.0 feed of (title, link, RFC 822 date, description) items."""
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate><description>{desc}</description></item>"
        for t, link, d, desc in items
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test Wire</title><link>{site.url("/")}</link>'
            f"{body}</channel></rss>").encode()


def docs(poller: FeedPoller) -> dict[str, object]:
    return {d.url: d for d in poller.pipeline.store.list_documents()}


# ---- subscribing ----------------------------------------------------------------------------------------


async def test_subscribing_fetches_the_feed_once_and_stores_it(poller: FeedPoller, site: FeedSite) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))

    done = await poller.subscribe(url, channel_id=42, guild_id=7)

    assert (done.title, done.entries, done.created, done.url) == ("The AI Wire", 3, True, url)
    [feed] = poller.store.list()
    assert feed.url == url and feed.channel_id == 42 and not feed.polled and feed.last_poll_at == ""
    assert site.server.paths() == ["/robots.txt", "/feed.xml"] and site.page_requests() == []
    again = await poller.subscribe(url, channel_id=43)
    assert not again.created and poller.store.get(url, "shared").channel_id == 43


async def test_a_page_that_links_to_its_feed_subscribes_to_the_feed(poller: FeedPoller, site: FeedSite) -> None:
    url = site.serve_feed("/atom.xml", feed_text("labs_atom.xml", site.url("")), ATOM)
    site.server.routes["/blog/"] = (200, {"Content-Type": "text/html"},
                                    b'<html><head><link rel="alternate" type="application/atom+xml" href="/atom.xml">'
                                    b"</head><body><p>Our blog.</p></body></html>")

    done = await poller.subscribe(site.url("/blog/"))

    assert done.url == url and done.title == "Frontier Labs Blog" and done.entries == 5


@pytest.fixture
def closed_port() -> Iterator[int]:
    server = LoopbackServer().start()
    port = server.port
    server.stop()
    yield port


@pytest.mark.parametrize(("target", "words"), [
    ("/news/halcyon-ohio", "this is not an RSS or Atom feed."),
    ("/malformed.xml", "this is not an RSS or Atom feed."),
    ("/missing.xml", "the server answered 404 Not Found."),
    ("http://10.0.0.7/feed.xml", "resolves to a private address (10.0.0.7)"),
    ("closed", "newsdesk could not reach 127.0.0.1"),
    ("ftp://example.com/feed", "is not a web link"),
])
async def test_a_non_feed_or_unreachable_url_is_refused_and_nothing_stored(
    make_poller, site: FeedSite, closed_port: int, target: str, words: str
) -> None:
    poller = make_poller(allow=(closed_port,))
    site.serve_feed("/malformed.xml", feed_text("malformed.xml", ""))
    url = f"http://127.0.0.1:{closed_port}/feed.xml" if target == "closed" else (
        site.url(target) if target.startswith("/") else target)

    with pytest.raises(IngestError) as refused:
        await poller.subscribe(url)

    assert words in refused.value.message
    assert refused.value.message.count(". ") == 0 and refused.value.message.endswith(".")  # one sentence
    assert poller.store.list() == []


# ---- polling --------------------------------------------------------------------------------------------


async def test_first_poll_ingests_pages_and_falls_back_to_the_entry_when_a_page_404s(
    poller: FeedPoller, site: FeedSite
) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    await poller.subscribe(url)

    [report] = await poller.poll()

    assert report.status == "ok" and report.failed == [] and report.refused == []
    assert {(a.title, a.via) for a in report.new} == {
        ("Halcyon Labs opens a chip plant in Ohio", "page"),
        ("Mistral trains a model on *European* data only", "page"),
        ("Northgate Capital backs three robotics start-ups", "feed"),  # /news/northgate-robotics is a 404
    }
    halcyon = next(a for a in report.new if a.title.startswith("Halcyon"))
    assert halcyon.url == site.url("/news/halcyon-ohio") and halcyon.site == "The AI Wire"
    assert halcyon.summary == ("Halcyon Labs will build its low-power inference chips at a new plant outside Columbus, "
                               "Ohio, the company said on Thursday. The plant is expected to employ 900 people when "
                               "it opens in 2027.")
    stored = docs(poller)
    northgate = stored[site.url("/news/northgate-robotics")]
    assert northgate.site == "The AI Wire" and northgate.published.startswith("2026-03-10")
    text = " ".join(c.text for c in poller.pipeline.store.chunks_of(northgate.doc_id))
    assert "Northgate Capital led funding rounds in three robotics start-ups" in text
    assert "Ignore previous instructions" not in text
    assert stored[site.url("/news/halcyon-ohio")].published.startswith("2026-03-12")
    feed = poller.store.get(url, "shared")
    assert feed.polled and feed.failures == 0 and feed.etag and feed.last_poll_at
    assert set(poller.store.seen_status(poller.store.get(url, "shared")).values()) == {"ingested", "fallback"}


async def test_a_second_poll_answered_304_fetches_and_ingests_nothing(
    poller: FeedPoller, site: FeedSite, clock: Clock
) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    await poller.subscribe(url)
    await poller.poll()
    before, count = len(site.server.requests), poller.pipeline.store.document_count()

    assert await poller.poll() == []  # not due yet: polled less than FEEDS_POLL_INTERVAL ago
    clock.advance(1800)
    [report] = await poller.poll()

    assert report.status == "not_modified" and report.new == []
    robots, conditional = site.server.requests[before:]  # robots.txt is read once per poll, then the feed
    assert (robots.path, conditional.path) == ("/robots.txt", "/feed.xml")
    assert conditional.headers["if-none-match"] == poller.store.get(url, "shared").etag
    assert conditional.headers["if-modified-since"] == "Thu, 12 Mar 2026 10:00:00 GMT"
    assert poller.pipeline.store.document_count() == count


async def test_a_new_entry_is_ingested_exactly_once(poller: FeedPoller, site: FeedSite, clock: Clock) -> None:
    items = [("Halcyon Labs opens a chip plant in Ohio", site.url("/news/halcyon-ohio"),
              "Thu, 12 Mar 2026 09:30:00 GMT", "Chips.")]
    url = site.serve_feed("/feed.xml", rss(site, *items))
    await poller.subscribe(url)
    await poller.poll()
    new = ("Mistral trains a model on European data only", site.url("/news/mistral-european?utm_medium=feed"),
           "Fri, 13 Mar 2026 08:00:00 GMT", "Models.")
    site.serve_feed("/feed.xml", rss(site, new, *items))

    clock.advance(1800)
    [report] = await poller.poll()
    clock.advance(1800)
    [unchanged] = await poller.poll()  # 304
    site.serve_feed("/feed.xml", rss(site, (new[0] + " (updated)", site.url("/news/mistral-european"), *new[2:]),
                                     *items))  # the same entries, reworded: a new ETag
    clock.advance(1800)
    [reworded] = await poller.poll()

    assert [a.url for a in report.new] == [site.url("/news/mistral-european")]
    assert unchanged.status == "not_modified" and reworded.status == "ok"
    assert reworded.new == [] and reworded.stored == 0
    assert len(site.requests_for("/news/mistral-european")) == 1
    assert len(site.requests_for("/news/halcyon-ohio")) == 1
    assert poller.pipeline.store.document_count() == 2


async def test_a_malformed_feed_counts_as_a_failure_and_stores_nothing(
    poller: FeedPoller, site: FeedSite, clock: Clock
) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    await poller.subscribe(url)
    site.serve_feed("/feed.xml", feed_text("malformed.xml", ""))

    [report] = await poller.poll()

    assert report.status == "failed" and report.error == "this is not an RSS or Atom feed."
    feed = poller.store.get(url, "shared")
    assert feed.failures == 1 and feed.last_error == report.error and not feed.polled
    assert site.page_requests() == [] and poller.pipeline.store.document_count() == 0


async def test_an_entry_linking_to_a_private_address_is_refused_and_the_feed_still_polled(
    poller: FeedPoller, site: FeedSite, http_server_factory
) -> None:
    other = http_server_factory({"/x": (200, {"Content-Type": "text/html"}, b"<p>internal</p>")})
    teaser = "A long description that would be enough to stand in for the article if a fallback were tried. " * 2
    url = site.serve_feed("/feed.xml", rss(
        site,
        ("Halcyon Labs opens a chip plant in Ohio", site.url("/news/halcyon-ohio"), "Thu, 12 Mar 2026 09:30:00 GMT", "x"),
        ("Metadata service", "http://10.0.0.7/x", "Thu, 12 Mar 2026 09:00:00 GMT", teaser),
        ("Another port", other.url("/x"), "Thu, 12 Mar 2026 08:00:00 GMT", teaser),
        ("Mistral trains a model", site.url("/news/mistral-european"), "Wed, 11 Mar 2026 14:00:00 GMT", "y"),
    ))
    await poller.subscribe(url)

    [report] = await poller.poll()

    assert report.status == "ok"
    assert [u for u, _ in report.refused] == ["http://10.0.0.7/x", other.url("/x")]
    assert all("newsdesk only fetches public addresses" in why for _, why in report.refused)
    assert sorted(a.url for a in report.new) == [site.url("/news/halcyon-ohio"), site.url("/news/mistral-european")]
    assert other.connections == []  # never even connected to
    assert set(docs(poller)) == {site.url("/news/halcyon-ohio"), site.url("/news/mistral-european")}  # no fallback
    assert poller.store.get(url, "shared").failures == 0
    assert poller.store.seen_status(poller.store.get(url, "shared"))["http://10.0.0.7/x"] == "refused"


def drip(seconds: float = 10.0) -> Iterator[bytes]:
    yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.1)
        yield b" "


async def test_a_feed_that_times_out_backs_off_and_the_others_carry_on(
    make_poller, site: FeedSite, clock: Clock
) -> None:
    poller: FeedPoller = make_poller(fetch_timeout=1, poll_interval=1800, backoff_max=3 * 3600)
    good = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    await poller.subscribe(good)
    slow = site.serve_feed("/slow.xml", rss(site))
    await poller.subscribe(slow)
    site.server.routes["/slow.xml"] = lambda received: (200, {"Content-Type": RSS}, drip)

    start = clock.now
    waits = []
    for at, expected in ((0, {good, slow}), (1800, {good, slow}), (3600, {good}), (4600, set()),
                         (5400, {good, slow})):
        clock.now = start + timedelta(seconds=at)
        reports = {r.feed.url: r for r in await poller.poll()}
        assert set(reports) == expected, at
        if slow in reports:
            feed = poller.store.get(slow, "shared")
            waits.append((parse_iso(feed.next_poll_at) - clock.now).total_seconds())
            assert reports[slow].status == "failed" and "took longer than 1 s" in reports[slow].error
        if good in reports:
            assert reports[good].status in ("ok", "not_modified")
        assert poller.store.get(good, "shared").failures == 0

    assert waits == [1800, 3600, 7200]  # doubling each time
    assert poller.store.get(slow, "shared").failures == 3 and "took longer" in poller.store.get(slow, "shared").last_error
    assert len(docs(poller)) == 3  # the good feed's articles
    settings = poller.settings
    assert [backoff(n, settings) for n in (1, 2, 3, 4, 10)] == [1800, 3600, 7200, 10800, 10800]


async def test_the_first_poll_ingests_only_the_newest_entries(make_poller, site: FeedSite, clock: Clock) -> None:
    poller: FeedPoller = make_poller(first_poll_max=2)
    url = site.serve_feed("/atom.xml", feed_text("labs_atom.xml", site.url("")), ATOM)
    await poller.subscribe(url)

    [report] = await poller.poll()
    site.serve_feed("/atom.xml", feed_text("labs_atom.xml", site.url("")) + b"<!-- touched -->", ATOM)
    clock.advance(1800)
    [later] = await poller.poll()

    # the two newest by date, though the feed lists them out of order; the river post's page is a 404
    assert sorted((a.title, a.via) for a in report.new) == [
        ("A data centre powered by a river", "feed"), ("Scaling sparse experts", "page")]
    assert report.skipped == 3 and later.new == [] and later.stored == 0
    assert sorted(site.page_requests()) == ["/blog/river", "/blog/sparse-experts"]
    statuses = poller.store.seen_status(poller.store.get(url, "shared"))
    assert sorted(statuses.values()) == ["fallback", "ingested", "skipped", "skipped", "skipped"]


async def test_an_entry_without_its_page_or_enough_text_is_marked_failed(poller: FeedPoller, site: FeedSite) -> None:
    url = site.serve_feed("/feed.xml", rss(site, ("Gone", site.url("/news/gone"), "Thu, 12 Mar 2026 09:30:00 GMT",
                                                  "Too short.")))
    await poller.subscribe(url)

    [report] = await poller.poll()

    assert report.new == [] and report.failed == [(site.url("/news/gone"), "the server answered 404 Not Found.")]
    assert poller.store.seen_status(poller.store.get(url, "shared")) == {site.url("/news/gone"): "failed"}  # not fetched again and again


async def test_too_many_new_entries_wait_for_the_next_poll(make_poller, site: FeedSite, clock: Clock) -> None:
    poller: FeedPoller = make_poller(max_entries_per_poll=2, first_poll_max=10)
    url = site.serve_feed("/atom.xml", feed_text("labs_atom.xml", site.url("")), ATOM)
    await poller.subscribe(url)

    counts = []
    for _ in range(3):
        [report] = await poller.poll()
        counts.append((len(report.new), report.waiting))
        clock.advance(1800)

    assert counts == [(2, 3), (2, 1), (1, 0)]
    feed_requests = site.requests_for("/atom.xml")[1:]  # after the subscription's check
    assert ["if-none-match" in r.headers for r in feed_requests] == [False, False, False]
    assert poller.store.get(url, "shared").etag  # all done: the validators are kept again


async def test_requests_to_a_host_are_spaced_and_fetches_bounded(make_poller, site: FeedSite) -> None:
    poller: FeedPoller = make_poller(host_delay=0.25, concurrency=2)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow_page(path: str):
        inner = site.server.routes[path]

        def reply(received):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            try:
                time.sleep(0.6)
                return inner(received)
            finally:
                with lock:
                    in_flight[0] -= 1

        return reply

    for path in ("/blog/second-model", "/blog/sparse-experts", "/blog/evals", "/blog/hiring"):
        site.server.routes[path] = slow_page(path)
    url = site.serve_feed("/atom.xml", feed_text("labs_atom.xml", site.url("")), ATOM)
    await poller.subscribe(url)
    site.times.clear()

    [report] = await poller.poll()

    assert len(report.new) == 5
    starts = sorted(t for _, t in site.times)
    assert all(b - a >= 0.24 for a, b in zip(starts, starts[1:], strict=False)), starts
    assert peak[0] == 2  # two at once (the delay staggers them), never more


async def test_the_poll_loop_polls_due_feeds_until_cancelled(poller: FeedPoller, site: FeedSite) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    await poller.subscribe(url)
    seen: list[int] = []
    got = asyncio.Event()

    def on_reports(reports) -> None:
        seen.append(len(reports[0].new))
        got.set()

    loop = asyncio.create_task(poller.run_forever(on_reports, tick=0.05))
    await asyncio.wait_for(got.wait(), 60)
    await asyncio.sleep(0.3)  # a few more ticks: nothing is due, nothing reported
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert seen == [3]
