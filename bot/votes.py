"""The bot's own small SQLite file (Paths(data_dir).bot_db): answers it gave, and 👍 / 👎 votes on them.

Answers are kept so the buttons under a reply (Quotes, 👍, 👎) still work after a restart: a button's
custom_id carries only the answer's row id. A vote row carries the question, the answer text and the
source URLs, so the votes table alone is a ready feedback export. One vote per user and answer (the
primary key); clicking the other thumb changes the vote, clicking the same one again changes nothing.

Answers nobody voted on are pruned after DISCORD_ANSWER_RETENTION_DAYS (`prune`, run by the bot at most
once a day); their buttons then say the answer is gone. Voted answers and the votes stay: they are the
feedback.

Blocking: call these methods through asyncio.to_thread from the bot.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from answer.types import Answer, Citation

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER,
    user_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    mode TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""

VoteOutcome = Literal["recorded", "changed", "unchanged", "unknown"]


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    question: str
    text: str
    citations: list[Citation]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AnswerLog:
    """Answers given and votes received, in one SQLite file. Thread-safe (one connection, one lock)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record_answer(
        self, answer: Answer, *, question: str, user_id: int, guild_id: int | None, channel_id: int | None
    ) -> int:
        citations = json.dumps([c.to_dict() for c in answer.citations], ensure_ascii=False)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO answers (created_at, guild_id, channel_id, user_id, question, answer, mode, note,"
                " citations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), guild_id, channel_id, user_id, question, answer.text, answer.mode, answer.note, citations),
            )
            return int(cursor.lastrowid or 0)

    def prune(self, older_than_days: float, now: datetime | None = None) -> int:
        """Delete answers given more than `older_than_days` ago that nobody voted on; how many went."""
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM answers WHERE created_at < ? AND NOT EXISTS"
                " (SELECT 1 FROM votes WHERE votes.answer_id = answers.id)",
                (cutoff,),
            )
            return cursor.rowcount

    def get_answer(self, answer_id: int) -> StoredAnswer | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, question, answer, citations FROM answers WHERE id = ?", (answer_id,)
            ).fetchone()
        if row is None:
            return None
        fields = Citation.__dataclass_fields__
        citations = [Citation(**{k: tuple(v) if k == "passages" else v for k, v in c.items() if k in fields})
                     for c in json.loads(row[3])]
        return StoredAnswer(row[0], row[1], row[2], citations)

    def vote(self, answer_id: int, user_id: int, vote: int) -> VoteOutcome:
        """Record `vote` (+1 or -1) by `user_id` on an answer: never a second row for the same pair."""
        if vote not in (-1, 1):
            raise ValueError("vote must be +1 or -1")
        with self._lock:
            row = self._db.execute("SELECT question, answer, citations FROM answers WHERE id = ?", (answer_id,)).fetchone()
            if row is None:
                return "unknown"
            previous = self._db.execute(
                "SELECT vote FROM votes WHERE answer_id = ? AND user_id = ?", (answer_id, user_id)
            ).fetchone()
            if previous is not None and previous[0] == vote:
                return "unchanged"
            sources = json.dumps([c["url"] for c in json.loads(row[2])], ensure_ascii=False)
            self._db.execute(
                "INSERT INTO votes (answer_id, user_id, vote, question, answer, sources, voted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                (answer_id, user_id, vote, row[0], row[1], sources, _now()),
            )
            return "recorded" if previous is None else "changed"

    def tally(self, answer_id: int) -> tuple[int, int]:
        """(👍, 👎) counts of an answer."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes WHERE answer_id = ?",
                (answer_id,),
            ).fetchone()
        return int(row[0]), int(row[1])
