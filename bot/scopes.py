"""Channel scopes: what a channel's answers may draw on, within its server's libraries (`/scope set`).

Kept in the bot's SQLite file beside the answers and votes, one row per channel. A thread follows its
channel (the caller passes the parent's id). Blocking: call through asyncio.to_thread from the bot.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from newsdesk.settings import Paths
from vectorstore.records import Scope

SCHEMA = """
CREATE TABLE IF NOT EXISTS scopes (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    sites TEXT NOT NULL,   -- JSON list of site names
    feeds TEXT NOT NULL,   -- JSON list of feed URLs
    set_by INTEGER NOT NULL,
    set_at TEXT NOT NULL
);
"""


class ScopeStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=10, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def get(self, channel_id: int) -> Scope:
        with self._lock:
            row = self._db.execute("SELECT sites, feeds FROM scopes WHERE channel_id = ?", (channel_id,)).fetchone()
        return Scope(tuple(json.loads(row[0])), tuple(json.loads(row[1]))) if row else Scope()

    def set(self, channel_id: int, guild_id: int, scope: Scope, user_id: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO scopes (channel_id, guild_id, sites, feeds, set_by, set_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (channel_id, guild_id, json.dumps(list(scope.sites)), json.dumps(list(scope.feeds)), user_id,
                 datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def clear(self, channel_id: int) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM scopes WHERE channel_id = ?", (channel_id,)).rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._db.close()


def scope_names(scope: Scope, feed_titles: dict[str, str] | None = None) -> str:
    """"The Verge, Wired, Policy feed": the sites, then the feeds by title."""
    return ", ".join([*scope.sites, *((feed_titles or {}).get(url, url) for url in scope.feeds)])


def scope_line(scope: Scope, feed_titles: dict[str, str] | None = None) -> str:
    """What a scoped channel says under its answers: "from: The Verge, Wired"."""
    return "from: " + scope_names(scope, feed_titles)


def feed_titles(data_dir: Path, library: str | None = None) -> dict[str, str]:
    """Feed URL -> title, of one library or all, from the feeds file (blocking)."""
    from ingest.feedstore import FeedStore

    store = FeedStore(Paths(data_dir).feeds_db)
    try:
        return {f.url: f.title for f in store.list(library)}
    finally:
        store.close()
