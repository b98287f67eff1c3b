"""Hybrid search: dense (Chroma) + BM25 (the lexical index), fused by weighted reciprocal rank.

`HybridRetriever.search` is sync and thread-safe (the async callers run it in a thread): the lexical
index reads immutable snapshots, the embedder and Chroma are safe to call from several threads, and
the Store itself keeps its queries and a reopen of its embedded client apart.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsdesk.settings import RetrievalSettings

from .errors import StoreUnavailableError
from .lexical import LexicalIndex
from .records import ChunkRecord, Scope
from .store import Store
from .text import sentence_key

log = logging.getLogger(__name__)

RECENCY_WEIGHT = 0.5  # "latest", "recent": a third ranked list, newest first, fused like the others


@dataclass(frozen=True)
class Hit:
    chunk: ChunkRecord
    score: float  # fused
    dense: float | None = None  # cosine similarity, when the dense half found it
    lexical: float | None = None  # BM25 score, when the lexical half found it

    @property
    def published(self) -> str:
        return self.chunk.published


def chroma_where(sites: Sequence[str], since_ts: int | None, until_ts: int | None,
                 libraries: Collection[str] | None = None, scope: Scope | None = None) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if libraries is not None:
        names = sorted(libraries)
        clauses.append({"library": {"$in": names}} if len(names) != 1 else {"library": names[0]})
    if scope:
        either = [{key: {"$in": list(values)}} for key, values in (("site", scope.sites), ("feed", scope.feeds)) if values]
        clauses.append(either[0] if len(either) == 1 else {"$or": either})
    if sites:
        clauses.append({"site": {"$in": list(sites)}} if len(sites) > 1 else {"site": sites[0]})
    if since_ts is not None:
        clauses.append({"published_ts": {"$gte": int(since_ts)}})
    if until_ts is not None:
        clauses.append({"published_ts": {"$lte": int(until_ts)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def diversify_ids(ranked: Sequence[tuple[str, str]], k: int, max_per_doc: int) -> list[str]:
    """The first `k` (chunk_id, doc_id) with at most `max_per_doc` chunks of any one article."""
    out: list[str] = []
    per_doc: dict[str, int] = {}
    for chunk_id, doc_id in ranked:
        if per_doc.get(doc_id, 0) < max_per_doc:
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
            out.append(chunk_id)
            if len(out) == k:
                break
    return out


class HybridRetriever:
    """Searches every library, or, as `scoped(libraries)`, only those."""

    libraries: frozenset[str] | None = None
    scope: Scope | None = None

    def __init__(self, store: Store, settings: RetrievalSettings, index_dir: Path | None = None,
                 *, lexical: LexicalIndex | None = None):
        self.store = store
        self.settings = settings
        self.lexical = lexical or LexicalIndex(store, index_dir=index_dir, refresh_seconds=settings.refresh_seconds,
                                               background=True)
        self.lexical.on_change = self._changed
        self._cache_lock = threading.Lock()
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()

    def refresh(self, force: bool = False) -> None:
        """Follow the store now: new, replaced and deleted articles become (in)visible to both halves.
        `search` does this by itself at most every refresh_seconds, in the background."""
        self.lexical.refresh(force=force)

    def _changed(self, changes: dict[str, str | None]) -> None:
        # An embedded client does not see vectors another process (the CLI) wrote until reopened; what this
        # process wrote itself it sees, so the bot's own ingests cost no reopen (and no index reload).
        # A server store's reopen does nothing.
        if not self.store.wrote(changes):
            self.store.reopen()

    def scoped(self, libraries: Collection[str] | None, scope: Scope | None = None) -> HybridRetriever:
        """The same retriever (index, caches, store) searching only `libraries` (None: all), and within
        them only a channel's `scope` (its sites and feeds), when given."""
        view = copy.copy(self)
        view.libraries = None if libraries is None else frozenset(libraries)
        view.scope = scope or None
        return view

    def sites(self) -> list[str]:
        return self.lexical.sites()

    def boilerplate(self, sentences: Sequence[str]) -> set[str]:
        """Those of `sentences` that recur word for word across the articles of this retriever's libraries
        (see vectorstore.recurrence)."""
        keyed = {s: sentence_key(s) for s in sentences}
        recurrence = self.lexical.recurrence(self.libraries)
        recurring = recurrence.boilerplate([k for k in keyed.values() if k is not None])
        return {s for s, k in keyed.items() if k in recurring}

    def term_idfs(self, texts: Sequence[str]) -> list[dict[int, float]]:
        """Per text, its distinct indexed words -> idf (see LexicalIndex.term_idfs)."""
        return self.lexical.term_idfs(texts)

    def search(
        self,
        text: str,
        *,
        sites: Sequence[str] = (),
        since_ts: int | None = None,
        until_ts: int | None = None,
        recency: bool = False,
        k: int | None = None,
        extra: Sequence[tuple[str, float]] = (),
        max_per_doc: int | None = None,
        dense: bool = True,
    ) -> list[Hit]:
        """Fused, diversified hits, best first. `extra` adds weighted text to the lexical query
        (a follow-up's earlier question); `max_per_doc` overrides the setting (0: no limit);
        `dense=False` skips the vector half (a filtered Chroma query is the costliest step)."""
        s = self.settings
        k = k or s.top_k
        self.lexical.follow()
        started = time.perf_counter()
        use_dense = dense and s.dense_weight > 0
        dense_hits = self._dense(text, sites, since_ts, until_ts) if use_dense else []
        lexical = (
            self.lexical.search([(text, 1.0), *extra], s.candidates, sites=sites, since_ts=since_ts, until_ts=until_ts,
                                libraries=self.libraries, scope=self.scope)
            if s.lexical_weight > 0 else []
        )
        fused: dict[str, float] = {}
        meta: dict[str, tuple[str, int | None]] = {}  # chunk_id -> (doc_id, published_ts)
        for rank, (chunk, _) in enumerate(dense_hits):
            fused[chunk.chunk_id] = fused.get(chunk.chunk_id, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
            meta[chunk.chunk_id] = (chunk.doc_id, chunk.published_ts)
        for rank, hit in enumerate(lexical):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + s.lexical_weight / (s.rrf_k + rank + 1)
            meta[hit.chunk_id] = (hit.doc_id, hit.published_ts)
        if recency:
            newest = sorted(fused, key=lambda cid: meta[cid][1] or 0, reverse=True)
            for rank, cid in enumerate(newest):
                fused[cid] += RECENCY_WEIGHT * max(s.dense_weight, s.lexical_weight) / (s.rrf_k + rank + 1)
        ranked = sorted(fused, key=lambda cid: fused[cid], reverse=True)
        limit = s.max_per_doc if max_per_doc is None else (max_per_doc or len(ranked))
        chosen = diversify_ids([(cid, meta[cid][0]) for cid in ranked], k + 5, limit)  # a few spare: see below
        # Only the chosen chunks' records are read (lexical hits carry ids), which keeps a search cheap.
        records = {chunk.chunk_id: chunk for chunk, _ in dense_hits}
        missing = [cid for cid in chosen if cid not in records]
        if missing:
            records.update({c.chunk_id: c for c in self.store.get_chunks(missing)})
        dense_score = {chunk.chunk_id: score for chunk, score in dense_hits}
        lexical_score = {h.chunk_id: h.score for h in lexical}
        # A chunk deleted since the lexical index last looked has no record any more: skipped.
        out = [Hit(records[cid], fused[cid], dense_score.get(cid), lexical_score.get(cid))
               for cid in chosen if cid in records][:k]
        log.debug("search %r: %d dense, %d lexical, %d hits in %.0f ms", text[:60], len(dense_hits), len(lexical),
                  len(out), 1000 * (time.perf_counter() - started))
        return out

    def _embed(self, text: str) -> list[float]:
        """The query vector; one question's several searches (outlets, dates) embed it once."""
        with self._cache_lock:
            if text in self._vectors:
                self._vectors.move_to_end(text)
                return self._vectors[text]
        vector = self.store.embedder.embed_query(text)
        with self._cache_lock:
            self._vectors[text] = vector
            while len(self._vectors) > 256:
                self._vectors.popitem(last=False)
        return vector

    def _dense(
        self, text: str, sites: Sequence[str], since_ts: int | None, until_ts: int | None
    ) -> list[tuple[ChunkRecord, float]]:
        vector = self._embed(text)
        where = chroma_where(sites, since_ts, until_ts, self.libraries, self.scope)
        try:
            return self.store.query(vector, self.settings.candidates, where=where)
        except StoreUnavailableError as error:  # the lexical half still answers
            log.warning("dense search failed, using BM25 alone: %s", error)
            return []
