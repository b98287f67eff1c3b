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
        assert cli.add("https://a.example/feed", "shared", "A", channel_id=5)
        assert [f.title for f in bot.list()] == ["A"]
        when = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
        [feed] = bot.list()
        assert bot.record_failure(feed, error="down.", when=when, retry_at=when) == 1
        bot.mark_seen(feed, [("https://a.example/1", "ingested")])
        [feed] = cli.list()
        assert (feed.failures, feed.last_error, feed.seen, feed.last_poll_at) == (1, "down.", 1,
                                                                                   "2026-03-12T09:30:00+00:00")
        assert cli.unseen(feed, ["https://a.example/1", "https://a.example/2"]) == {"https://a.example/2"}
        assert cli.remove("https://a.example/feed", "shared") is not None and bot.seen_status(feed) == {}
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
    assert stats["last_poll"] == poller.store.get(url, "shared").last_poll_at == "2026-03-12T12:00:00+00:00"
    assert stats["newest_article"].startswith("2026-03-12") and stats["documents"] == 3


def test_two_libraries_follow_one_feed_each_on_its_own(tmp_path: Path) -> None:
    store = FeedStore(tmp_path / "feeds.sqlite3")
    try:
        assert store.add("https://a.example/feed", "g1", "A", channel_id=5, guild_id=1)
        assert store.add("https://a.example/feed", "g2", "A", channel_id=9, guild_id=2)  # not a takeover of g1's
        assert {(f.library, f.channel_id) for f in store.list()} == {("g1", 5), ("g2", 9)}
        g1 = store.get("https://a.example/feed", "g1")
        store.mark_seen(g1, [("https://a.example/1", "ingested")])
        assert store.unseen(store.get("https://a.example/feed", "g2"), ["https://a.example/1"]) == {"https://a.example/1"}
        assert store.remove("https://a.example/feed", "g2") is not None
        assert [f.library for f in store.list()] == ["g1"] and store.get("https://a.example/feed", "g1").seen == 1
        assert store.remove("https://a.example/feed", "g2") is None
    finally:
        store.close()


def test_a_feeds_file_from_before_libraries_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "feeds.sqlite3"
    with sqlite3.connect(path) as db:  # the schema and rows an older newsdesk wrote
        db.executescript('''
            CREATE TABLE feeds (url TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '', channel_id INTEGER,
                guild_id INTEGER, added_at TEXT NOT NULL, etag TEXT NOT NULL DEFAULT '',
                last_modified TEXT NOT NULL DEFAULT '', last_poll_at TEXT NOT NULL DEFAULT '',
                last_ok_at TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',
                failures INTEGER NOT NULL DEFAULT 0, next_poll_at TEXT NOT NULL DEFAULT '',
                polled INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE seen (feed_url TEXT NOT NULL REFERENCES feeds(url) ON DELETE CASCADE,
                entry_url TEXT NOT NULL, status TEXT NOT NULL, seen_at TEXT NOT NULL,
                PRIMARY KEY (feed_url, entry_url));
            INSERT INTO feeds (url, title, guild_id, added_at, polled) VALUES
                ('https://cli.example/feed', 'CLI', NULL, '2026-01-01', 1),
                ('https://server.example/feed', 'Server', 77, '2026-01-02', 1);
            INSERT INTO seen VALUES ('https://server.example/feed', 'https://server.example/1', 'ingested', 'x');
        ''')
    store = FeedStore(path)
    try:
        assert {(f.url, f.library, f.polled) for f in store.list()} == {
            ("https://cli.example/feed", "shared", True), ("https://server.example/feed", "g77", True)}
        assert store.get("https://server.example/feed", "g77").seen == 1  # what it had seen came along
    finally:
        store.close()
    FeedStore(path).close()  # opening it again changes nothing
