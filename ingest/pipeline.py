"""The ingest pipeline: URL / file / article -> chunks -> embeddings -> the store, once and atomically.

Every stage is its own module (fetch, extract, chunk); this one only runs them in order, decides
new / updated / unchanged before any embedding is paid for, and turns store failures into
`StoreError`s. Embedding is the real cost: for bulk imports the store writes run on a writer thread
while the next document is embedded, so nothing else stands in the embedder's way.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
import queue
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from newsdesk.settings import ChunkSettings, FetchSettings
from vectorstore.embeddings import Embedder
from vectorstore.errors import StoreError as VectorStoreError
from vectorstore.records import SHARED, ChunkRecord, DocumentRecord
from vectorstore.store import Store

from .chunk import body_budget, fit_header, make_header, split_spans
from .errors import ExtractError, IngestError, StoreError
from .extract import Article, extract_async, extract_file
from .fetch import GuardedClient, fetch
from .urls import canonical_url, doc_id_for

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None] | None]
CHUNKER_VERSION = 1
# Bumped when extraction, text hygiene or chunking change what a store holds for the same input (the eval
# store is keyed by it, so a change at ingest reaches the figures).
PIPELINE_VERSION = 1
_DOC_ID = re.compile(r"d[0-9a-f]{31}")


def pipeline_version(chunking: ChunkSettings) -> str:
    """What the pipeline turns an article into, as a short string: its version and the chunk settings."""
    return f"p{PIPELINE_VERSION}-c{CHUNKER_VERSION}-{chunking.tokens}-{chunking.overlap}"


@dataclass(frozen=True)
class IngestResult:
    doc_id: str
    url: str
    title: str
    site: str
    published: str
    chunks: int
    status: str  # "new" | "updated" | "unchanged"
    source: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Prepared:
    """A document cut into chunks, not yet embedded."""

    doc: DocumentRecord
    chunks: list[ChunkRecord]


def _iso(published: datetime | None) -> tuple[str, int | None]:
    if published is None:
        return "", None
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return published.isoformat(), int(published.timestamp())


class Pipeline:
    def __init__(self, store: Store, chunking: ChunkSettings, fetching: FetchSettings):
        self.store = store
        self.embedder: Embedder = store.embedder
        self.chunking = chunking
        self.fetching = fetching
        self._write_lock = threading.Lock()

    # ---- preparing ----------------------------------------------------------------------------

    def version_of(self, article: Article, url: str) -> str:
        """Content hash: what was embedded, and how. Any change means new chunks."""
        basis = {
            "url": url, "title": article.title, "site": article.site, "author": article.author,
            "published": _iso(article.published)[0], "body": article.body, "model": self.embedder.name,
            "tokens": self.chunking.tokens, "overlap": self.chunking.overlap, "chunker": CHUNKER_VERSION,
        }
        return hashlib.sha256(json.dumps(basis, sort_keys=True).encode("utf-8")).hexdigest()[:32]

    def prepare(self, article: Article, library: str = SHARED, feed: str = "") -> Prepared:
        if not article.body.strip():
            raise ExtractError("the article has no text.", url=article.url)
        url = canonical_url(article.url)
        doc_id = doc_id_for(url, library)
        version = self.version_of(article, url)
        published, published_ts = _iso(article.published)
        now = datetime.now(UTC)
        header = fit_header(make_header(article.title, article.site, article.published), self.embedder)
        budget = body_budget(header, self.embedder, self.chunking.tokens)
        overlap = min(self.chunking.overlap, budget // 2)
        spans = split_spans(article.body, self.embedder, budget, overlap)
        if not spans:
            raise ExtractError("the article has no text.", url=url)
        common = dict(
            doc_id=doc_id, version=version, url=url, title=article.title, site=article.site,
            author=article.author, published=published, published_ts=published_ts, library=library, feed=feed,
        )
        chunks = [
            ChunkRecord(
                chunk_id=f"{doc_id}-{version[:12]}-{i:04d}", text=article.body[a:b], header=header, ordinal=i,
                char_start=a, char_end=b, ingested_at=now.isoformat(timespec="seconds"), **common,
            )
            for i, (a, b) in enumerate(spans)
        ]
        doc = DocumentRecord(
            chunks=len(chunks), ingested_at=now.isoformat(timespec="seconds"), ingested_ts=int(now.timestamp()),
            source=article.source or article.url, **common,
        )
        return Prepared(doc, chunks)

    def is_unchanged(self, prepared: Prepared) -> bool:
        current = self._store_call(self.store.get_document, prepared.doc.doc_id)
        return current is not None and current.version == prepared.doc.version

    # ---- storing ------------------------------------------------------------------------------

    def embed(self, prepared: Prepared) -> list[list[float]]:
        """The chunks' vectors; a server's copy of an article the shared library holds with the very same
        content (same version) takes that copy's vectors instead of embedding again."""
        doc = prepared.doc
        if doc.library != SHARED:
            twin = doc_id_for(doc.url, SHARED)
            vectors = self._store_call(self.store.vectors_of, twin, doc.version)
            if vectors is not None and len(vectors) == len(prepared.chunks):
                return vectors  # type: ignore[return-value]
        return self.embedder.embed_documents([c.embed_text for c in prepared.chunks])

    def write(self, prepared: Prepared, embeddings: list[list[float]]) -> IngestResult:
        with self._write_lock:
            status = self._store_call(self.store.replace_document, prepared.doc, prepared.chunks, embeddings)
        return self._result(prepared, status)

    def ingest_article(self, article: Article, library: str = SHARED, feed: str = "") -> IngestResult:
        """Chunk, embed and store one article in `library` (blocking); `feed`: the feed it came through."""
        prepared = self.prepare(article, library, feed)
        if self.is_unchanged(prepared):
            return self._result(prepared, "unchanged")
        return self.write(prepared, self.embed(prepared))

    def ingest_articles(self, articles: Iterable[Article | IngestError],
                        library: str = SHARED) -> Iterator[IngestResult | IngestError]:
        """Bulk import into `library`: a result (or an error) per item; writes overlap the next document's
        embedding."""
        pending: queue.Queue[tuple[Prepared, list[list[float]]] | None] = queue.Queue(maxsize=4)
        done: queue.Queue[IngestResult | IngestError] = queue.Queue()

        def writer() -> None:
            while (item := pending.get()) is not None:
                try:
                    done.put(self.write(*item))
                except IngestError as error:
                    done.put(error)
                except Exception as error:  # noqa: BLE001 - a writer that dies would hang the import
                    log.exception("writing %s failed", item[0].doc.url)
                    done.put(StoreError(f"the store could not save the article: {error}", url=item[0].doc.url))

        thread = threading.Thread(target=writer, name="ingest-writer", daemon=True)
        thread.start()
        in_flight = 0
        try:
            for item in articles:
                if isinstance(item, IngestError):
                    yield item
                    continue
                try:
                    prepared = self.prepare(item, library)
                    if self.is_unchanged(prepared):
                        yield self._result(prepared, "unchanged")
                        continue
                    embeddings = self.embed(prepared)
                except IngestError as error:
                    yield error
                    continue
                pending.put((prepared, embeddings))
                in_flight += 1
                while not done.empty():
                    in_flight -= 1
                    yield done.get()
        finally:
            pending.put(None)
            thread.join()
        while in_flight:
            in_flight -= 1
            yield done.get()

    # ---- from the outside world ---------------------------------------------------------------

    async def ingest_url(
        self, url: str, *, progress: Progress | None = None, client: GuardedClient | None = None,
        library: str = SHARED, feed: str = "",
    ) -> IngestResult:
        """Fetch (guarded), extract (in a worker process, time-limited), chunk, embed, store."""
        await _report(progress, "fetching")
        if client is None:
            async with GuardedClient(self.fetching) as own:
                page = await fetch(own, url)
        else:
            page = await fetch(client, url)
        await _report(progress, "extracting")
        article = await extract_async(page, source=url, timeout=self.fetching.extract_timeout)
        prepared = await asyncio.to_thread(self.prepare, article, library, feed)
        if await asyncio.to_thread(self.is_unchanged, prepared):
            return self._result(prepared, "unchanged")
        await _report(progress, f"embedding {len(prepared.chunks)} chunks")
        embeddings = await asyncio.to_thread(self.embed, prepared)
        await _report(progress, "storing")
        return await asyncio.to_thread(self.write, prepared, embeddings)

    def ingest_file(self, path: Path, library: str = SHARED) -> IngestResult:
        return self.ingest_article(extract_file(path), library)

    def forget(self, url_or_id: str, library: str = SHARED) -> DocumentRecord | None:
        """Remove a document of `library` by URL (any spelling of it, or the URL it was ingested from) or
        id; a document of another library is never found, so never removed."""
        doc = self.find(url_or_id, library)
        if doc is not None:
            with self._write_lock:
                self._store_call(self.store.forget, doc.doc_id)
        return doc

    def forget_library(self, library: str) -> list[DocumentRecord]:
        """Remove every document of `library` (a server's, when its operator says so)."""
        docs = self._store_call(self.store.list_documents, [library])
        for doc in docs:  # type: ignore[attr-defined]
            with self._write_lock:
                self._store_call(self.store.forget, doc.doc_id)
        return docs  # type: ignore[return-value]

    def find(self, url_or_id: str, library: str = SHARED) -> DocumentRecord | None:
        candidates = [url_or_id] if _DOC_ID.fullmatch(url_or_id) else []
        candidates.append(doc_id_for(url_or_id, library))
        for doc_id in candidates:
            doc = self._store_call(self.store.get_document, doc_id)
            if doc is not None and doc.library == library:
                return doc
        for doc in self._store_call(self.store.documents, [library]).values():
            if doc.source == url_or_id or canonical_url(doc.source) == canonical_url(url_or_id):
                return doc
        return None

    # ---- plumbing -----------------------------------------------------------------------------

    @staticmethod
    def _result(prepared: Prepared, status: str) -> IngestResult:
        d = prepared.doc
        return IngestResult(d.doc_id, d.url, d.title, d.site, d.published, d.chunks, status, d.source)

    @staticmethod
    def _store_call(fn: Callable, *args: object) -> object:  # type: ignore[type-arg]
        try:
            return fn(*args)
        except VectorStoreError as error:
            raise StoreError(f"the store could not save the article: {error}") from error


async def _report(progress: Progress | None, stage: str) -> None:
    if progress is None:
        return
    result = progress(stage)
    if inspect.isawaitable(result):
        await result
