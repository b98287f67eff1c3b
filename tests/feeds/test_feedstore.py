"""The subscriptions file: shared by the bot and the CLI, and the source of /stats' last poll."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.feedpoll import FeedPoller
from ingest.feedstore import FeedStore, last_poll_at
from newsdesk.wiring import Services
from tests.feeds.conftest import FeedSite, feed_settings, feed_text


def test_two_processes_worth_of_connections_share_one_file(tmp_path: Path) -> None:
    bot, cli = FeedStore(tmp_path / "feeds.sqlite3"), FeedStore(tmp_path / "feeds.sqlite3")
    try:
        assert cli.add("https://a.example/feed", "A", channel_id=5)
        assert [f.title for f in bot.list()] == ["A"]
        when = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
        assert bot.record_failure("https://a.example/feed", error="down.", when=when, retry_at=when) == 1
        bot.mark_seen("https://a.example/feed", [("https://a.example/1", "ingested")])
        [feed] = cli.list()
        assert (feed.failures, feed.last_error, feed.seen, feed.last_poll_at) == (1, "down.", 1,
                                                                                   "2026-03-12T09:30:00+00:00")
        assert cli.unseen("https://a.example/feed", ["https://a.example/1", "https://a.example/2"]) == {
            "https://a.example/2"}
        assert cli.remove("https://a.example/feed") is not None and bot.seen_status("https://a.example/feed") == {}
    finally:
        bot.close()
        cli.close()


def test_last_poll_is_empty_without_feeds_and_creates_nothing(tmp_path: Path) -> None:
    assert last_poll_at(tmp_path / "feeds.sqlite3") == ""
    assert not (tmp_path / "feeds.sqlite3").exists()


@pytest.mark.asyncio
async def test_stats_show_the_last_poll(tmp_path: Path, poller: FeedPoller, site: FeedSite) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    await poller.subscribe(url)
    services = Services(feed_settings(tmp_path, site.server.port), store_retries=0)
    assert services.stats()["last_poll"] == ""

    await poller.poll()

    stats = services.stats()
    assert stats["last_poll"] == poller.store.get(url).last_poll_at == "2026-03-12T12:00:00+00:00"
    assert stats["newest_article"].startswith("2026-03-12") and stats["documents"] == 3
