"""BM25 over the store's chunks (header + body), kept in step with the manifest without restarts.

bm25s has no incremental add, so the index is two parts: a large *base* (a bm25s index, persisted with
the manifest it reflects) and a small *delta* of documents added or replaced since, scored with the
same Lucene BM25 formula and the combined document frequencies. Deleted or replaced base documents
are masked out. When the delta outgrows a share of the base, both are merged into a new base from the
token ids already held (no re-tokenising) and persisted; a restart loads it and only tokenises what
changed since. The index polls the manifest (`Store.documents()`) at most every `refresh_seconds`.

Searches read one immutable snapshot, so they run concurrently with each other and with a refresh;
only the tokenizer (whose vocabulary grows) and the refresh itself take a lock.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from .lexical_parts import Part, PartRows, build_base, build_delta, idf, load_base, save_base
from .records import ChunkRecord, Scope
from .recurrence import Recurrence
from .store import Store

log = logging.getLogger(__name__)
EXIT_WAIT_SECONDS = 10.0
# Background refreshes still reading the store when the process exits: a daemon thread left inside
# chromadb's native code while the interpreter finalises crashes it (a segfault after the last line of
# output, seen in bench/query.py), so exit waits for them a little.
_REFRESHERS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


@atexit.register
def join_refreshers(timeout: float = EXIT_WAIT_SECONDS) -> None:
    """Wait (up to `timeout` seconds in all) for background refreshes that are still running."""
    deadline = time.monotonic() + timeout
    for thread in list(_REFRESHERS):
        thread.join(max(0.0, deadline - time.monotonic()))

FORMAT = 4  # 2: rows carry their sentences' keys (boilerplate); 3: and their library; 4: and their feed
MIN_DELTA = 2000  # chunks the delta may hold before a merge, however small the base
DELTA_SHARE = 0.10  # ... or this share of the base
HEADER_REPEAT = 2  # times the title | site | date header counts in a chunk's BM25 text
SCAN_ABOVE = 64  # changed documents above which one full scan beats per-document reads


@dataclass(frozen=True)
class LexicalHit:
    chunk_id: str
    doc_id: str
    score: float
    published_ts: int | None = None


@dataclass(frozen=True)
class _Snapshot:
    base: Part
    delta: Part
    versions: dict[str, str]  # doc_id -> version this snapshot reflects
    sites: tuple[str, ...]  # site code -> name
    libraries: tuple[str, ...] = ()  # library code -> name
    feeds: tuple[str, ...] = ()  # feed code -> URL

    def library_codes(self, libraries: Collection[str] | None) -> set[int] | None:
        """Codes of `libraries` (None: every library)."""
        if libraries is None:
            return None
        wanted = set(libraries)
        return {i for i, name in enumerate(self.libraries) if name in wanted}


    def scope_codes(self, scope: Scope | None) -> tuple[set[int], set[int]] | None:
        """(site codes, feed codes) of a channel scope (None: no scope)."""
        if not scope:
            return None
        return ({i for i, name in enumerate(self.sites) if name in scope.sites},
                {i for i, url in enumerate(self.feeds) if url and url in scope.feeds})


def _empty_snapshot() -> _Snapshot:
    return _Snapshot(Part.empty(), Part.empty(), {}, (), (), ())


class LexicalIndex:
    """BM25 over `ChunkRecord.embed_text` of every current chunk in `store`."""

    def __init__(
        self,
        store: Store,
        *,
        index_dir: Path | None = None,
        refresh_seconds: float = 2.0,
        k1: float = 1.5,
        b: float = 0.75,
        clock: Callable[[], float] = time.monotonic,
        background: bool = False,
    ):
        self.store = store
        self.index_dir = Path(index_dir) / store.collection_name if index_dir is not None else None
        self.refresh_seconds = refresh_seconds
        self.k1, self.b = k1, b
        self._clock = clock
        self._tokenizer = bm25s.tokenization.Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))
        self._token_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._snapshot = _empty_snapshot()
        self._checked_at: float | None = None
        self.loaded_from_disk = False
        self.background = background  # refresh in a thread, so no query waits for the manifest scan
        # Called (in the refreshing thread) after a change, with {doc_id: its new version, or None if gone}.
        self.on_change: Callable[[dict[str, str | None]], None] | None = None
        self._refresher: threading.Thread | None = None
        self.header_repeat = HEADER_REPEAT
        self._recurrence: tuple[_Snapshot, dict[frozenset[str] | None, Recurrence]] | None = None
        self._recurrence_lock = threading.Lock()

    # ---- queries ------------------------------------------------------------------------------

    def tokenize_query(self, pieces: Sequence[tuple[str, float]]) -> dict[int, float]:
        """Token id -> weight; repeated terms add up, words never indexed drop out."""
        weights: dict[int, float] = {}
        with self._token_lock:
            ids = self._tokenizer.tokenize(
                [text for text, _ in pieces], update_vocab=False, show_progress=False, allow_empty=False
            )
        for (_, weight), row in zip(pieces, ids, strict=True):
            for tid in row:
                weights[tid] = weights.get(tid, 0.0) + weight
        return weights

    def search(
        self,
        query: str | Sequence[tuple[str, float]],
        n: int,
        *,
        sites: Sequence[str] = (),
        since_ts: int | None = None,
        until_ts: int | None = None,
        libraries: Collection[str] | None = None,
        scope: Scope | None = None,
    ) -> list[LexicalHit]:
        """The `n` best chunks; `query` is text or (text, weight) pieces. Filters as in Chroma;
        `libraries`: only those libraries' documents (None: all); `scope`: a channel's sites and feeds."""
        self.follow()
        snap = self._snapshot
        pieces = [(query, 1.0)] if isinstance(query, str) else list(query)
        weights = self.tokenize_query(pieces)
        if not weights:
            return []
        codes = {i for i, name in enumerate(snap.sites) if name in set(sites)} if sites else None
        in_libraries = snap.library_codes(libraries)
        in_scope = snap.scope_codes(scope)
        if (sites and not codes) or (in_libraries is not None and not in_libraries) or (in_scope == (set(), set())):
            return []
        hits: list[tuple[str, str, float, int | None]] = []
        for part in (snap.base, snap.delta):
            mask = part.mask(codes, since_ts, until_ts, in_libraries, in_scope)
            scores = part.scores(weights, snap.base.stats, snap.delta.stats)
            hits.extend(part.top(scores, mask, n))
        hits.sort(key=lambda h: h[2], reverse=True)
        return [LexicalHit(*h) for h in hits[:n]]

    def term_idfs(self, texts: Sequence[str]) -> list[dict[int, float]]:
        """Per text, each distinct indexed term (token id) -> its BM25 idf over the current chunks; how
        telling a word is, for matching single sentences ("Altman" counts, "said" hardly)."""
        self.follow()
        snap = self._snapshot
        n = snap.base.stats.docs + snap.delta.stats.docs
        if not texts or not n:
            return [{} for _ in texts]
        with self._token_lock:
            rows = self._tokenizer.tokenize(list(texts), update_vocab=False, show_progress=False, allow_empty=False)
        return [{tid: idf(snap.base.stats.df_of(tid) + snap.delta.stats.df_of(tid), n) for tid in set(row)}
                for row in rows]

    def recurrence(self, libraries: Collection[str] | None = None) -> Recurrence:
        """Which sentences recur across the current articles of `libraries` (None: all), built once per
        snapshot and library set: what another server's admins ingest never makes this server's news
        "boilerplate"."""
        self.follow()
        snap = self._snapshot
        key = None if libraries is None else frozenset(libraries)
        with self._recurrence_lock:
            if self._recurrence is None or self._recurrence[0] is not snap:
                self._recurrence = (snap, {})
            cache = self._recurrence[1]
            if key not in cache:
                codes = snap.library_codes(libraries)
                cache[key] = Recurrence([(part.rows, part.mask(None, None, None, codes)) for part in (snap.base, snap.delta)])
                while len(cache) > 64:  # one entry per server asking; a snapshot lives seconds to hours
                    cache.pop(next(iter(cache)))
            return cache[key]

    def sites(self) -> list[str]:
        """Sites of the documents currently indexed."""
        self.follow()
        snap = self._snapshot
        live = set(snap.base.live_site_codes()) | set(snap.delta.live_site_codes())
        return sorted(snap.sites[c] for c in live)

    def __len__(self) -> int:
        snap = self._snapshot
        return snap.base.live_count() + snap.delta.live_count()

    # ---- following the store ------------------------------------------------------------------

    def follow(self) -> None:
        """Keep up with the store: the first look is made here; later ones, when due, either here or in
        a background thread (`background`), while queries go on with the current snapshot."""
        if self._checked_at is None or not self.background:
            self.refresh()
            return
        if self._clock() - self._checked_at < self.refresh_seconds:
            return
        with self._token_lock:  # a cheap lock, only to start one refresher at a time
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._refresher = threading.Thread(target=self._refresh_quietly, name="lexical-refresh", daemon=True)
            _REFRESHERS.add(self._refresher)
            self._refresher.start()

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - a failed look is retried at the next one; queries go on
            log.warning("lexical index refresh failed", exc_info=True)

    def refresh(self, force: bool = False) -> bool:
        """Apply what changed in the manifest since the last look. True when something changed."""
        now = self._clock()
        if not force and self._checked_at is not None and now - self._checked_at < self.refresh_seconds:
            return False
        with self._refresh_lock:
            if not force and self._checked_at is not None and self._clock() - self._checked_at < self.refresh_seconds:
                return False  # another thread refreshed while this one waited
            if self._checked_at is None and self.index_dir is not None:
                self._load()
            manifest = {doc_id: d.version for doc_id, d in self.store.documents().items()}
            before = self._snapshot.versions
            changed = self._apply(manifest)
            self._checked_at = self._clock()
        if changed and self.on_change is not None:
            after = self._snapshot.versions
            self.on_change({d: after.get(d) for d in set(before) | set(after) if before.get(d) != after.get(d)})
        return changed

    def _apply(self, manifest: dict[str, str]) -> bool:
        snap = self._snapshot
        gone = {d for d, v in snap.versions.items() if manifest.get(d) != v}
        wanted = {d for d, v in manifest.items() if snap.versions.get(d) != v}
        if not gone and not wanted:
            return False
        chunks = self._fetch(wanted, manifest)
        rows = self._tokenize(chunks)
        site_names, library_names, feed_names = list(snap.sites), list(snap.libraries), list(snap.feeds)
        rows = rows.with_codes(site_names, library_names, feed_names)
        versions = {d: v for d, v in snap.versions.items() if d not in gone}
        versions.update({d: manifest[d] for d in wanted})
        versions.update({c.doc_id: c.version for c in chunks})  # what was read, if it moved on meanwhile
        base = snap.base.without(gone)
        delta_rows = snap.delta.rows.drop_docs(gone).concat(rows)
        if delta_rows.size > max(MIN_DELTA, DELTA_SHARE * base.live_count()) or base.dead_share() > 0.25:
            base = build_base(base.live_rows().concat(delta_rows), self._vocab_size(), self.k1, self.b)
            delta = Part.empty()
            merged = True
        else:
            delta = build_delta(delta_rows, base.stats, self.k1, self.b)
            merged = False
        self._snapshot = _Snapshot(base, delta, versions, tuple(site_names), tuple(library_names), tuple(feed_names))
        log.info("lexical index: -%d +%d documents (%d chunks in all)", len(gone), len(wanted), len(self))
        if merged and self.index_dir is not None:
            self._save()
        return True

    def _fetch(self, doc_ids: set[str], manifest: dict[str, str]) -> list[ChunkRecord]:
        """Current chunks of `doc_ids`; a document whose version moved on meanwhile is caught next time."""
        if not doc_ids:
            return []
        if len(doc_ids) > SCAN_ABOVE:
            return [c for c in self.store.iter_all_chunks() if c.doc_id in doc_ids and manifest[c.doc_id] == c.version]
        out: list[ChunkRecord] = []
        for doc_id in sorted(doc_ids):
            out.extend(self.store.chunks_of(doc_id))
        return out

    def _tokenize(self, chunks: Iterable[ChunkRecord]) -> PartRows:
        chunks = list(chunks)
        with self._token_lock:
            ids = self._tokenizer.tokenize(
                [self._document_text(c) for c in chunks], update_vocab=True, show_progress=False, allow_empty=True
            )
        return PartRows.from_chunks(chunks, [np.asarray(row, dtype=np.int32) for row in ids])

    def _document_text(self, chunk: ChunkRecord) -> str:
        return "\n".join([chunk.header] * self.header_repeat + [chunk.text]) if chunk.header else chunk.text

    def _vocab_size(self) -> int:
        with self._token_lock:
            return len(self._tokenizer.get_vocab_dict())

    # ---- persistence --------------------------------------------------------------------------

    def _params(self) -> dict[str, object]:
        return {"format": FORMAT, "k1": self.k1, "b": self.b, "stemmer": "english", "stopwords": "en",
                "header_repeat": self.header_repeat}

    def _save(self) -> None:
        """Write the base (the delta is empty right after a merge) and point CURRENT at it atomically."""
        assert self.index_dir is not None
        snap = self._snapshot
        self.index_dir.mkdir(parents=True, exist_ok=True)
        name = f"base-{int(time.time())}-{uuid.uuid4().hex[:8]}"
        tmp = self.index_dir / f".{name}"
        try:
            save_base(snap.base, tmp)
            with self._token_lock:
                self._tokenizer.save_vocab(str(tmp))
            meta = {"params": self._params(), "versions": snap.versions, "sites": list(snap.sites),
                    "libraries": list(snap.libraries), "feeds": list(snap.feeds)}
            (tmp / "meta.json").write_text(json.dumps(meta))
            tmp.rename(self.index_dir / name)
            pointer = self.index_dir / f".CURRENT-{uuid.uuid4().hex[:8]}"
            pointer.write_text(name)
            os.replace(pointer, self.index_dir / "CURRENT")
        except OSError as error:  # the index still works from memory; the next merge tries again
            log.warning("could not persist the lexical index in %s: %s", self.index_dir, error)
            shutil.rmtree(tmp, ignore_errors=True)
            return
        self._sweep(keep=name)

    def _sweep(self, keep: str) -> None:
        for path in self.index_dir.iterdir() if self.index_dir else ():
            if path.is_dir() and path.name != keep and time.time() - path.stat().st_mtime > 60:
                shutil.rmtree(path, ignore_errors=True)  # older bases other processes no longer read

    def _load(self) -> None:
        assert self.index_dir is not None
        try:
            name = (self.index_dir / "CURRENT").read_text().strip()
            where = self.index_dir / name
            meta = json.loads((where / "meta.json").read_text())
            if meta.get("params") != self._params():
                log.info("lexical index in %s was built with other settings; rebuilding", where)
                return
            base = load_base(where, self.k1, self.b)
            with self._token_lock:
                self._tokenizer.load_vocab(str(where))
        except (OSError, ValueError, KeyError) as error:
            if not isinstance(error, FileNotFoundError):
                log.warning("could not load the lexical index from %s (%s); rebuilding", self.index_dir, error)
            return
        self._snapshot = replace(_empty_snapshot(), base=base, versions=meta["versions"], sites=tuple(meta["sites"]),
                                 libraries=tuple(meta["libraries"]), feeds=tuple(meta["feeds"]))
        self.loaded_from_disk = True
