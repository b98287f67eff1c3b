"""Polling feeds: conditional fetches, new entries by canonical URL, each ingested once, failing feeds
backed off. Used by the bot's poll loop and by `newsdesk feeds`; knows nothing of Discord.

Every request (feeds, robots.txt, pages) goes through one guarded client per poll, whose request hook
spaces requests to the same host FEEDS_HOST_DELAY apart; a semaphore bounds the feeds and pages in
flight (FEEDS_CONCURRENCY). An entry's page goes through `Pipeline.ingest_url`; when the page cannot
be had (an HTTP error, a timeout, no article on it) the entry's own content is ingested instead, but a
link to a blocked address is refused, never worked around.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from newsdesk.settings import FeedSettings, FetchSettings
from vectorstore.records import SHARED

from .errors import BadURLError, BlockedAddressError, ExtractError, FetchError, IngestError, StoreError
from .extract import Article
from .feeds import FEED_ACCEPT, Entry, FeedError, ParsedFeed, discover_feed, entry_article, parse_feed, summarize
from .feedstore import Feed, FeedStore, now_utc, parse_iso
from .fetch import HTML_TYPES, GuardedClient, fetch
from .pipeline import IngestResult, Pipeline
from .urls import canonical_url, site_host

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class NewArticle:
    """An article a poll stored for the first time: what an announcement shows."""

    url: str
    title: str
    site: str
    published: str  # ISO, or "" when unknown
    summary: str
    via: str  # "page", or "feed" when the entry's own content stood in for its page


@dataclass
class FeedReport:
    feed: Feed
    status: str = "ok"  # ok | not_modified | failed
    error: str = ""
    new: list[NewArticle] = field(default_factory=list)
    stored: int = 0  # entries ingested (new, updated or unchanged articles)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (entry URL, why)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0  # older entries of a new feed, marked seen unread
    waiting: int = 0  # new entries left for the next poll (FEEDS_MAX_ENTRIES_PER_POLL, store failures)


@dataclass(frozen=True)
class Subscribed:
    url: str
    title: str
    entries: int
    created: bool  # False: the feed was already there (its channel is updated)


class HostPacer:
    """An httpx request hook: requests to one host start at least `delay` seconds apart."""

    def __init__(self, delay: float):
        self.delay = delay
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, request: httpx.Request) -> None:
        if self.delay <= 0:
            return
        host = request.url.host
        async with self._locks.setdefault(host, asyncio.Lock()):
            wait = self._next.get(host, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next[host] = time.monotonic() + self.delay


def backoff(failures: int, settings: FeedSettings) -> float:
    """Seconds before a feed that failed `failures` times in a row is tried again."""
    return min(settings.backoff_max, settings.poll_interval * 2 ** min(max(failures - 1, 0), 30))


class FeedPoller:
    def __init__(
        self, store: FeedStore, pipeline: Pipeline | None, settings: FeedSettings, fetching: FetchSettings,
        *, clock: Clock = now_utc,
    ):
        self.store = store
        self._pipeline = pipeline  # None: subscriptions only, no polling
        self.settings = settings
        self.fetching = fetching
        self.clock = clock
        self._polling = asyncio.Lock()

    @property
    def can_poll(self) -> bool:
        return self._pipeline is not None

    def attach(self, pipeline: Pipeline) -> None:
        """Give a poller built before the store could be opened its pipeline."""
        self._pipeline = pipeline

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise RuntimeError("this FeedPoller was built without a pipeline; it cannot poll")
        return self._pipeline

    def client(self) -> GuardedClient:
        client = GuardedClient(self.fetching)
        client.http.event_hooks = {"request": [HostPacer(self.settings.host_delay)], "response": []}
        return client

    # ---- subscriptions ----------------------------------------------------------------------------

    async def subscribe(self, url: str, channel_id: int | None = None, guild_id: int | None = None,
                        library: str = SHARED) -> Subscribed:
        """Fetch the feed once and check it parses; store it, for `library`, only then. IngestError says
        why not."""
        async with self.client() as client:
            feed_url, parsed = await self.check(client, url.strip())
        title = parsed.title or site_host(feed_url)
        created = await asyncio.to_thread(self.store.add, feed_url, library, title, channel_id, guild_id)
        log.info("subscribed to %s (%s, %d entries)", feed_url, title, len(parsed.entries))
        return Subscribed(feed_url, title, len(parsed.entries), created)

    async def check(self, client: GuardedClient, url: str) -> tuple[str, ParsedFeed]:
        """(feed URL, parsed feed); a web page that links to a feed leads to that feed."""
        page = await fetch(client, url, accept=FEED_ACCEPT)
        try:
            return canonical_url(page.url), await asyncio.to_thread(parse_feed, page.body, page.charset, page.url)
        except FeedError:
            if page.content_type not in HTML_TYPES:
                raise
            found = await asyncio.to_thread(discover_feed, page.body, page.charset, page.url)
            if found is None:
                raise
        page = await fetch(client, found, accept=FEED_ACCEPT)
        return canonical_url(page.url), await asyncio.to_thread(parse_feed, page.body, page.charset, page.url)

    async def unsubscribe(self, url: str, library: str = SHARED) -> Feed | None:
        """Stop following a feed of `library`; another library's subscription to it is untouched."""
        feed = await asyncio.to_thread(self.store.remove, canonical_url(url.strip()), library)
        if feed is None:  # perhaps spelled exactly as stored
            feed = await asyncio.to_thread(self.store.remove, url.strip(), library)
        return feed

    # ---- polling ----------------------------------------------------------------------------------

    def due(self, feed: Feed, now: datetime) -> bool:
        """Polled once per interval, and not before a failing feed's back-off ends."""
        after = [parse_iso(feed.next_poll_at)]
        if feed.last_poll_at and not feed.next_poll_at:
            after.append(parse_iso(feed.last_poll_at) + timedelta(seconds=self.settings.poll_interval))  # type: ignore[operator]
        return all(moment is None or moment <= now for moment in after)

    async def poll(self, *, force: bool = False) -> list[FeedReport]:
        """Poll every due feed (every feed with force), at most one poll at a time."""
        async with self._polling:
            now = self.clock()
            feeds = [f for f in await asyncio.to_thread(self.store.list) if force or self.due(f, now)]
            if not feeds:
                return []
            slots = asyncio.Semaphore(self.settings.concurrency)
            async with self.client() as client:
                return list(await asyncio.gather(*(self._poll_feed(f, client, slots) for f in feeds)))

    async def run_forever(self, on_reports: Callable[[list[FeedReport]], Awaitable[None] | None] | None = None,
                          *, tick: float | None = None) -> None:
        """Poll due feeds every `tick` seconds (a minute at most, so new feeds start soon) until cancelled."""
        tick = tick or min(60.0, self.settings.poll_interval)
        while True:
            started = time.monotonic()
            reports = await self.poll()
            if reports and on_reports is not None:
                result = on_reports(reports)
                if inspect.isawaitable(result):
                    await result
            await asyncio.sleep(max(0.0, tick - (time.monotonic() - started)))

    async def _poll_feed(self, feed: Feed, client: GuardedClient, slots: asyncio.Semaphore) -> FeedReport:
        report = FeedReport(feed)
        conditional = {k: v for k, v in (("If-None-Match", feed.etag), ("If-Modified-Since", feed.last_modified)) if v}
        try:
            async with slots:
                page = await fetch(client, feed.url, accept=FEED_ACCEPT, headers=conditional)
            if page.status == 304:
                await self._succeeded(feed, None, feed.etag, feed.last_modified)
                report.status = "not_modified"
                return report
            parsed = await asyncio.to_thread(parse_feed, page.body, page.charset, page.url)
        except IngestError as error:
            return await self._failed(report, error.message)
        except Exception as error:  # noqa: BLE001 - one broken feed must not stop the others
            log.exception("polling %s failed", feed.url)
            return await self._failed(report, f"unexpected error: {type(error).__name__}")
        try:
            await self._ingest_entries(report, parsed, client, slots)
        except Exception as error:  # noqa: BLE001 - e.g. the feeds file is locked; entries not marked seen retry
            log.exception("polling %s failed while ingesting its entries", feed.url)
            return await self._failed(report, f"unexpected error: {type(error).__name__}")
        complete = not report.waiting  # else forget the validators: a 304 would hide what is left
        await self._succeeded(feed, parsed.title or None, page.headers.get("etag", "") if complete else "",
                              page.headers.get("last-modified", "") if complete else "")
        log.info("polled %s: %d new, %d refused, %d failed, %d skipped, %d waiting", feed.url, len(report.new),
                 len(report.refused), len(report.failed), report.skipped, report.waiting)
        return report

    async def _succeeded(self, feed: Feed, title: str | None, etag: str, modified: str) -> None:
        await asyncio.to_thread(self.store.record_success, feed, title=title, etag=etag, last_modified=modified,
                                when=self.clock())

    async def _failed(self, report: FeedReport, message: str) -> FeedReport:
        feed, now = report.feed, self.clock()
        retry_at = now + timedelta(seconds=backoff(feed.failures + 1, self.settings))
        failures = await asyncio.to_thread(self.store.record_failure, feed, error=message, when=now,
                                           retry_at=retry_at)
        log.log(logging.WARNING if failures >= 3 else logging.INFO,  # once is weather; thrice is a broken feed
                "feed %s failed (%d in a row, next try %s): %s", feed.url, failures, retry_at.isoformat(), message)
        report.status, report.error = "failed", message
        return report

    async def _ingest_entries(self, report: FeedReport, parsed: ParsedFeed, client: GuardedClient,
                              slots: asyncio.Semaphore) -> None:
        feed = report.feed
        entries = list({e.key: e for e in reversed(parsed.entries)}.values())[::-1]  # first of each URL
        unseen = await asyncio.to_thread(self.store.unseen, feed, [e.key for e in entries])
        fresh = newest_first([e for e in entries if e.key in unseen])
        if not feed.polled:  # a new feed: its newest entries, not its whole archive
            older = fresh[self.settings.first_poll_max :]
            fresh = fresh[: self.settings.first_poll_max]
            await asyncio.to_thread(self.store.mark_seen, feed, [(e.key, "skipped") for e in older])
            report.skipped = len(older)
        report.waiting = max(0, len(fresh) - self.settings.max_entries_per_poll)
        fresh = fresh[: self.settings.max_entries_per_poll]
        site = parsed.title or site_host(feed.url)
        outcomes = await asyncio.gather(*(self._ingest_entry(e, site, client, slots, report) for e in fresh))
        await asyncio.to_thread(self.store.mark_seen, feed, [(e.key, s) for e, s in zip(fresh, outcomes, strict=True) if s])

    async def _ingest_entry(self, entry: Entry, site: str, client: GuardedClient, slots: asyncio.Semaphore,
                            report: FeedReport) -> str | None:
        """Ingest one entry; its seen status, or None to try again next poll."""
        try:
            async with slots:
                result = await self.pipeline.ingest_url(entry.url, client=client, library=report.feed.library,
                                                        feed=report.feed.url)
            report.stored += 1
            if result.status == "new":
                report.new.append(await self._announced(result, "page"))
            return "ingested"
        except (BlockedAddressError, BadURLError) as error:
            log.info("feed %s: refused entry %s: %s", report.feed.url, entry.url, error.message)
            report.refused.append((entry.url, error.message))
            return "refused"
        except StoreError as error:
            log.error("feed %s: could not store %s: %s", report.feed.url, entry.url, error.message)
            report.waiting += 1
            return None
        except (FetchError, ExtractError) as error:
            page_error = error.message
        except Exception:  # noqa: BLE001 - a bug on one page must not lose the others; retried next poll
            log.exception("feed %s: ingesting %s failed", report.feed.url, entry.url)
            report.waiting += 1
            return None
        return await self._fallback(entry, site, page_error, report)

    async def _fallback(self, entry: Entry, site: str, page_error: str, report: FeedReport) -> str | None:
        article = entry_article(entry, site)
        if article is None:
            log.info("feed %s: %s could not be had (%s) and the entry has no text", report.feed.url, entry.url,
                     page_error)
            report.failed.append((entry.url, page_error))
            return "failed"
        log.info("feed %s: %s could not be had (%s); ingesting the entry's own text", report.feed.url, entry.url,
                 page_error)
        try:
            result = await asyncio.to_thread(self.pipeline.ingest_article, article, report.feed.library,
                                             report.feed.url)
        except StoreError as error:
            log.error("feed %s: could not store %s: %s", report.feed.url, entry.url, error.message)
            report.waiting += 1
            return None
        except IngestError as error:
            report.failed.append((entry.url, error.message))
            return "failed"
        report.stored += 1
        if result.status == "new":
            report.new.append(_new_article(result, article))
        return "fallback"

    async def _announced(self, result: IngestResult, via: str) -> NewArticle:
        try:
            chunks = await asyncio.to_thread(self.pipeline.store.chunks_of, result.doc_id)
        except Exception:  # noqa: BLE001 - stored already; an announcement without a summary will do
            log.warning("could not read back %s for its summary", result.url, exc_info=True)
            chunks = []
        body = " ".join(c.text for c in chunks[:2])
        return NewArticle(result.url, result.title, result.site, result.published, summarize(body), via)


def _new_article(result: IngestResult, article: Article) -> NewArticle:
    return NewArticle(result.url, result.title, result.site, result.published, summarize(article.body), "feed")


def newest_first(entries: Sequence[Entry]) -> list[Entry]:
    """Dated entries newest first, then undated ones in feed order (feeds list newest first)."""
    order = {id(e): i for i, e in enumerate(entries)}
    return sorted(entries, key=lambda e: (e.published is not None, e.published or datetime.min, -order[id(e)]),
                  reverse=True)
