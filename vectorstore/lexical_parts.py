"""The two halves of the lexical index: a bm25s base and a small delta, with their row metadata.

Both score with Lucene BM25 (bm25s's default): idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
tf part = tf / (tf + k1 * (1 - b + b * len / avglen)). The base's scores are bm25s's precomputed
matrix; the delta is scored here with the base's average length and the combined document
frequencies, so a new article ranks as it would in a rebuilt index (a separately built bm25s index
would use the delta's own, tiny, statistics and bury new articles).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s
import numpy as np

from .text import sentence_keys

if TYPE_CHECKING:
    from .records import ChunkRecord


@dataclass(frozen=True)
class Stats:
    docs: int = 0
    avg_len: float = 0.0
    df: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def df_of(self, tid: int) -> int:
        return int(self.df[tid]) if tid < len(self.df) else 0


@dataclass(frozen=True)
class PartRows:
    """Columnar metadata of indexed chunks, one row each."""

    chunk_ids: list[str]
    doc_ids: list[str]
    site_names: list[str]
    site_codes: np.ndarray  # int32, codes into the index's site list (-1 until assigned)
    ts: np.ndarray  # float64 epoch seconds, NaN when the date is unknown
    tokens: list[np.ndarray]
    sentences: list[np.ndarray]  # uint64 keys of the chunk body's sentences (`vectorstore.text.sentence_keys`)
    library_names: list[str]
    library_codes: np.ndarray  # int32, codes into the index's library list (-1 until assigned)
    feed_names: list[str]  # the feed each chunk's article came through ("" : none)
    feed_codes: np.ndarray  # int32, codes into the index's feed list (-1 until assigned)

    @classmethod
    def empty(cls) -> PartRows:
        return cls([], [], [], np.zeros(0, np.int32), np.zeros(0, np.float64), [], [], [], np.zeros(0, np.int32),
                   [], np.zeros(0, np.int32))

    @classmethod
    def from_chunks(cls, chunks: Sequence[ChunkRecord], tokens: list[np.ndarray]) -> PartRows:
        ts = np.array([np.nan if c.published_ts is None else c.published_ts for c in chunks], dtype=np.float64)
        return cls([c.chunk_id for c in chunks], [c.doc_id for c in chunks], [c.site for c in chunks],
                   np.full(len(chunks), -1, np.int32), ts, tokens, [sentence_keys(c.text) for c in chunks],
                   [c.library for c in chunks], np.full(len(chunks), -1, np.int32),
                   [c.feed for c in chunks], np.full(len(chunks), -1, np.int32))

    @property
    def size(self) -> int:
        return len(self.chunk_ids)

    def with_codes(self, sites: list[str], libraries: list[str], feeds: list[str]) -> PartRows:
        """Assign site, library and feed codes, appending unseen names to `sites`, `libraries`, `feeds`."""
        return replace(self, site_codes=_codes(self.site_names, sites),
                       library_codes=_codes(self.library_names, libraries), feed_codes=_codes(self.feed_names, feeds))

    def select(self, keep: np.ndarray) -> PartRows:
        idx = np.flatnonzero(keep)
        return PartRows([self.chunk_ids[i] for i in idx], [self.doc_ids[i] for i in idx],
                        [self.site_names[i] for i in idx], self.site_codes[idx], self.ts[idx],
                        [self.tokens[i] for i in idx], [self.sentences[i] for i in idx],
                        [self.library_names[i] for i in idx], self.library_codes[idx],
                        [self.feed_names[i] for i in idx], self.feed_codes[idx])

    def drop_docs(self, doc_ids: set[str]) -> PartRows:
        if not doc_ids:
            return self
        return self.select(np.array([d not in doc_ids for d in self.doc_ids], dtype=bool))

    def concat(self, other: PartRows) -> PartRows:
        return PartRows(self.chunk_ids + other.chunk_ids, self.doc_ids + other.doc_ids,
                        self.site_names + other.site_names, np.concatenate([self.site_codes, other.site_codes]),
                        np.concatenate([self.ts, other.ts]), self.tokens + other.tokens,
                        self.sentences + other.sentences, self.library_names + other.library_names,
                        np.concatenate([self.library_codes, other.library_codes]),
                        self.feed_names + other.feed_names, np.concatenate([self.feed_codes, other.feed_codes]))


def _codes(names: list[str], table: list[str]) -> np.ndarray:
    index = {name: i for i, name in enumerate(table)}
    for name in names:
        if name not in index:
            index[name] = len(table)
            table.append(name)
    return np.array([index[name] for name in names], dtype=np.int32)


def _stats(tokens: list[np.ndarray], vocab_size: int) -> Stats:
    df = np.zeros(vocab_size, dtype=np.int64)
    for row in tokens:
        df[np.unique(row)] += 1
    avg = float(np.mean([len(t) for t in tokens])) if tokens else 0.0
    return Stats(len(tokens), avg, df)


def idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Part:
    rows: PartRows
    alive: np.ndarray  # bool per row: False once its document was deleted or replaced
    stats: Stats
    bm25: bm25s.BM25 | None = None  # the base
    postings: dict[int, tuple[np.ndarray, np.ndarray]] | None = None  # the delta: tid -> (rows, tf part)

    @classmethod
    def empty(cls) -> Part:
        return cls(PartRows.empty(), np.zeros(0, bool), Stats())

    def live_count(self) -> int:
        return int(self.alive.sum())

    def dead_share(self) -> float:
        return 1.0 - self.live_count() / self.rows.size if self.rows.size else 0.0

    def live_rows(self) -> PartRows:
        return self.rows.select(self.alive)

    def live_site_codes(self) -> set[int]:
        return set(np.unique(self.rows.site_codes[self.alive]).tolist())

    def without(self, doc_ids: set[str]) -> Part:
        if not doc_ids or not self.rows.size:
            return self
        dead = np.array([d in doc_ids for d in self.rows.doc_ids], dtype=bool)
        return Part(self.rows, self.alive & ~dead, self.stats, self.bm25, self.postings)

    def mask(self, codes: set[int] | None, since_ts: int | None, until_ts: int | None,
             libraries: set[int] | None = None, scope: tuple[set[int], set[int]] | None = None) -> np.ndarray:
        """Live rows that pass the filters; `scope`: (site codes, feed codes), either matching."""
        keep = self.alive.copy()
        if libraries is not None:
            keep &= np.isin(self.rows.library_codes, list(libraries))
        if scope is not None:
            keep &= np.isin(self.rows.site_codes, list(scope[0])) | np.isin(self.rows.feed_codes, list(scope[1]))
        if codes is not None:
            keep &= np.isin(self.rows.site_codes, list(codes))
        if since_ts is not None:
            keep &= self.rows.ts >= since_ts  # unknown dates (NaN) never match a date filter
        if until_ts is not None:
            keep &= self.rows.ts <= until_ts
        return keep

    def scores(self, weights: dict[int, float], base: Stats, delta: Stats) -> np.ndarray:
        out = np.zeros(self.rows.size, dtype=np.float32)
        if self.bm25 is not None:
            data, indices, indptr = (self.bm25.scores[k] for k in ("data", "indices", "indptr"))
            for tid, weight in weights.items():
                if tid + 1 < len(indptr):
                    start, end = indptr[tid], indptr[tid + 1]
                    out[indices[start:end]] += weight * data[start:end]  # rows are unique within a column
        elif self.postings:
            n = base.docs + delta.docs
            for tid, weight in weights.items():
                if tid in self.postings:
                    rows, tf_part = self.postings[tid]
                    out[rows] += weight * idf(base.df_of(tid) + delta.df_of(tid), n) * tf_part
        return out

    def top(self, scores: np.ndarray, mask: np.ndarray, n: int) -> list[tuple[str, str, float, int | None]]:
        """(chunk_id, doc_id, score, published_ts) of the best `n` rows `mask` allows."""
        scores = np.where(mask, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > n:
            candidates = candidates[np.argpartition(-scores[candidates], n - 1)[:n]]
        ts = self.rows.ts
        return [(self.rows.chunk_ids[i], self.rows.doc_ids[i], float(scores[i]),
                 None if np.isnan(ts[i]) else int(ts[i])) for i in candidates]


def build_base(rows: PartRows, vocab_size: int, k1: float, b: float) -> Part:
    """A bm25s index over `rows` (token ids are the tokenizer's, so no vocabulary is rebuilt)."""
    if not rows.size:
        return Part.empty()
    model = bm25s.BM25(k1=k1, b=b, method="lucene")
    vocab = {str(i): i for i in range(vocab_size)}  # ids are ours; bm25s only needs the column count
    model.index(([t.tolist() for t in rows.tokens], vocab), create_empty_token=False, show_progress=False)
    return Part(rows, np.ones(rows.size, bool), _stats(rows.tokens, vocab_size), bm25=model)


def build_delta(rows: PartRows, base: Stats, k1: float, b: float) -> Part:
    if not rows.size:
        return Part.empty()
    vocab_size = max(len(base.df), max((int(t.max(initial=0)) for t in rows.tokens), default=0) + 1)
    stats = _stats(rows.tokens, vocab_size)
    avg_len = base.avg_len if base.docs else stats.avg_len
    lists: dict[int, tuple[list[int], list[float]]] = {}
    for i, row in enumerate(rows.tokens):
        norm = k1 * (1 - b + b * len(row) / avg_len)
        for tid, tf in Counter(row.tolist()).items():
            entry = lists.setdefault(tid, ([], []))
            entry[0].append(i)
            entry[1].append(tf / (tf + norm))
    postings = {t: (np.array(r, np.int64), np.array(s, np.float32)) for t, (r, s) in lists.items()}
    return Part(rows, np.ones(rows.size, bool), stats, postings=postings)


def save_base(part: Part, where: Path) -> None:
    where.mkdir(parents=True)
    rows = part.rows
    if part.bm25 is not None:
        part.bm25.save(str(where), show_progress=False)
    lengths = np.array([len(t) for t in rows.tokens], dtype=np.int64)
    flat = np.concatenate(rows.tokens) if rows.tokens else np.zeros(0, np.int32)
    counts = np.array([len(k) for k in rows.sentences], dtype=np.int64)
    keys = np.concatenate(rows.sentences) if rows.sentences else np.zeros(0, np.uint64)
    np.savez(where / "rows.npz", site_codes=rows.site_codes, ts=rows.ts, lengths=lengths, tokens=flat,
             alive=part.alive, df=part.stats.df, sentence_counts=counts, sentence_keys=keys,
             library_codes=rows.library_codes, feed_codes=rows.feed_codes)
    (where / "rows.json").write_text(json.dumps({"chunk_ids": part.rows.chunk_ids, "doc_ids": part.rows.doc_ids,
                                                 "site_names": part.rows.site_names, "docs": part.stats.docs,
                                                 "avg_len": part.stats.avg_len,
                                                 "library_names": part.rows.library_names,
                                                 "feed_names": part.rows.feed_names}))


def load_base(where: Path, k1: float, b: float) -> Part:
    meta = json.loads((where / "rows.json").read_text())
    if not meta["chunk_ids"]:
        return Part.empty()
    arrays = np.load(where / "rows.npz")
    tokens = np.split(arrays["tokens"], np.cumsum(arrays["lengths"])[:-1])
    sentences = np.split(arrays["sentence_keys"], np.cumsum(arrays["sentence_counts"])[:-1])
    rows = PartRows(meta["chunk_ids"], meta["doc_ids"], meta["site_names"], arrays["site_codes"], arrays["ts"],
                    tokens, sentences, meta["library_names"], arrays["library_codes"], meta["feed_names"],
                    arrays["feed_codes"])
    model = bm25s.BM25.load(str(where), show_progress=False, verbosity=0)
    if (model.k1, model.b) != (k1, b):
        raise ValueError("saved with other BM25 parameters")
    return Part(rows, arrays["alive"], Stats(meta["docs"], meta["avg_len"], arrays["df"]), bm25=model)
