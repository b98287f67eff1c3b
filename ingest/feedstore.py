"""Feed subscriptions in SQLite under DATA_DIR: the feeds, their HTTP validators and health, and the
entries each has already seen.

One small file shared by the bot and the CLI (`newsdesk feeds ...` may run beside `newsdesk run`), so
it is opened in WAL mode with a busy timeout. Every method is blocking: async callers use a thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT NOT NULL,                    -- canonical feed URL, fetched as is
    library TEXT NOT NULL,                -- whose feed: 'shared' (the CLI's) or 'g<server id>'
    title TEXT NOT NULL DEFAULT '',
    channel_id INTEGER,                   -- where new articles are announced (NULL: nowhere)
    guild_id INTEGER,
    added_at TEXT NOT NULL,
    etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    last_poll_at TEXT NOT NULL DEFAULT '',
    last_ok_at TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    failures INTEGER NOT NULL DEFAULT 0,
    next_poll_at TEXT NOT NULL DEFAULT '', -- '' : due whenever the poll interval says so
    polled INTEGER NOT NULL DEFAULT 0,     -- 0 until the first successful poll (first-poll limit)
    PRIMARY KEY (url, library)
);
CREATE TABLE IF NOT EXISTS seen (
    feed_url TEXT NOT NULL,
    library TEXT NOT NULL,
    entry_url TEXT NOT NULL,              -- canonical URL of the entry's link
    status TEXT NOT NULL,                 -- ingested | fallback | refused | failed | skipped
    seen_at TEXT NOT NULL,
    PRIMARY KEY (feed_url, library, entry_url),
    FOREIGN KEY (feed_url, library) REFERENCES feeds(url, library) ON DELETE CASCADE
);
"""
_COLUMNS = ("title, channel_id, guild_id, added_at, etag, last_modified, last_poll_at, last_ok_at, last_error, "
            "failures, next_poll_at, polled")
# Feeds files made before libraries: a feed added in a server (guild_id set) becomes that server's, one
# added from the command line the shared library's; what each has seen goes with it.
_UPGRADE = f"""
ALTER TABLE feeds RENAME TO feeds_v1;
ALTER TABLE seen RENAME TO seen_v1;
{_SCHEMA}
INSERT INTO feeds (url, library, {_COLUMNS})
    SELECT url, CASE WHEN guild_id IS NULL THEN 'shared' ELSE 'g' || guild_id END, {_COLUMNS} FROM feeds_v1;
INSERT INTO seen (feed_url, library, entry_url, status, seen_at)
    SELECT s.feed_url, f.library, s.entry_url, s.status, s.seen_at FROM seen_v1 s JOIN feeds f ON f.url = s.feed_url;
DROP TABLE seen_v1;
DROP TABLE feeds_v1;
"""


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


def parse_iso(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Feed:
    url: str
    library: str
    title: str
    channel_id: int | None
    guild_id: int | None
    added_at: str
    etag: str = ""
    last_modified: str = ""
    last_poll_at: str = ""
    last_ok_at: str = ""
    last_error: str = ""
    failures: int = 0
    next_poll_at: str = ""
    polled: bool = False
    seen: int = 0  # entries remembered


class FeedStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=10, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(feeds)")}
        if columns and "library" not in columns:
            self._db.executescript(f"BEGIN IMMEDIATE; {_UPGRADE} COMMIT;")  # one transaction: all or nothing
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _run(self, sql: str, args: Iterable[object] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # ---- subscriptions ----------------------------------------------------------------------------

    def add(self, url: str, library: str, title: str, channel_id: int | None = None,
            guild_id: int | None = None) -> bool:
        """Subscribe `library` to a feed; for a feed it already follows, update its title and channel.
        True when it is new. Another library's subscription to the same feed is its own row."""
        with self._transaction() as db:
            existed = db.execute("SELECT 1 FROM feeds WHERE url = ? AND library = ?", (url, library)).fetchone()
            db.execute(
                "INSERT INTO feeds (url, library, title, channel_id, guild_id, added_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(url, library) DO UPDATE SET title = excluded.title, channel_id = excluded.channel_id, "
                "guild_id = excluded.guild_id",
                (url, library, title, channel_id, guild_id, iso(now_utc())),
            )
        return existed is None

    def remove(self, url: str, library: str) -> Feed | None:
        feed = self.get(url, library)
        if feed is not None:
            self._run("DELETE FROM feeds WHERE url = ? AND library = ?", (url, library))
        return feed

    def get(self, url: str, library: str) -> Feed | None:
        rows = self._select("WHERE f.url = ? AND f.library = ?", (url, library))
        return rows[0] if rows else None

    def list(self, library: str | None = None) -> list[Feed]:
        """Every feed, or those of one library."""
        if library is not None:
            return self._select("WHERE f.library = ? ORDER BY f.added_at, f.url", (library,))
        return self._select("ORDER BY f.added_at, f.url")

    def _select(self, tail: str, args: Iterable[object] = ()) -> list[Feed]:
        rows = self._run(
            "SELECT f.url, f.library, f.title, f.channel_id, f.guild_id, f.added_at, f.etag, f.last_modified, "
            "f.last_poll_at, f.last_ok_at, f.last_error, f.failures, f.next_poll_at, f.polled, "
            "(SELECT count(*) FROM seen s WHERE s.feed_url = f.url AND s.library = f.library) FROM feeds f " + tail,
            args,
        )
        return [Feed(*row[:13], polled=bool(row[13]), seen=row[14]) for row in rows]

    # ---- polling state ----------------------------------------------------------------------------

    def record_success(self, feed: Feed, *, title: str | None, etag: str, last_modified: str,
                       when: datetime) -> None:
        self._run(
            "UPDATE feeds SET title = coalesce(?, title), etag = ?, last_modified = ?, last_poll_at = ?, "
            "last_ok_at = ?, last_error = '', failures = 0, next_poll_at = '', polled = 1 "
            "WHERE url = ? AND library = ?",
            (title, etag, last_modified, iso(when), iso(when), feed.url, feed.library),
        )

    def record_failure(self, feed: Feed, *, error: str, when: datetime, retry_at: datetime) -> int:
        """Count one more failure; returns the count."""
        with self._transaction() as db:
            db.execute(
                "UPDATE feeds SET last_poll_at = ?, last_error = ?, failures = failures + 1, next_poll_at = ? "
                "WHERE url = ? AND library = ?",
                (iso(when), error, iso(retry_at), feed.url, feed.library),
            )
            row = db.execute("SELECT failures FROM feeds WHERE url = ? AND library = ?",
                             (feed.url, feed.library)).fetchone()
        return int(row[0]) if row else 0

    def unseen(self, feed: Feed, entry_urls: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(entry_urls))
        seen: set[str] = set()
        for start in range(0, len(wanted), 500):  # SQLite's host-parameter limit
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self._run(f"SELECT entry_url FROM seen WHERE feed_url = ? AND library = ? AND entry_url IN ({marks})",
                             [feed.url, feed.library, *part])
            seen.update(row[0] for row in rows)
        return set(wanted) - seen

    def mark_seen(self, feed: Feed, entries: Iterable[tuple[str, str]]) -> None:
        """Remember (entry_url, status) pairs for a feed."""
        stamp = iso(now_utc())
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO seen (feed_url, library, entry_url, status, seen_at) VALUES (?, ?, ?, ?, ?)",
                [(feed.url, feed.library, url, status, stamp) for url, status in entries],
            )

    def seen_status(self, feed: Feed) -> dict[str, str]:
        return dict(self._run("SELECT entry_url, status FROM seen WHERE feed_url = ? AND library = ?",  # type: ignore[arg-type]
                              (feed.url, feed.library)))

    def last_poll(self) -> str:
        [(latest,)] = self._run("SELECT max(last_poll_at) FROM feeds")
        return latest or ""


def last_poll_at(path: Path) -> str:
    """The last time any feed was polled, for /stats; "" when there are no feeds (the file is not created)."""
    if not path.exists():
        return ""
    store = FeedStore(path)
    try:
        return store.last_poll()
    finally:
        store.close()
