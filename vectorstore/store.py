"""The Chroma store: embedded (PersistentClient under DATA_DIR) or a server (CHROMA_HOST).

Two collections:
- `<name>` holds chunks: the body text as the document, the vector of header + body, and metadata
  (doc_id, url, title, site, author, published, published_ts, ingested_at, ordinal, char span, version).
- `<name>-documents` is the manifest: one record per document naming its current `version`.
Both carry the document's `library` (schema 2; a schema-1 store is upgraded in place at open: its
articles become the shared library).

Chroma has no transactions, so atomic replacement is built from one atomic step: upserting a single
manifest record. `replace_document` writes the new chunks (new ids, since ids carry the version), then
flips the manifest record, then deletes the chunks of other versions. Readers only see chunks whose
version the manifest names, so a reader never sees half a document, and a process killed at any point
leaves the previous version (or nothing) visible; leftovers are swept on the next write.

An embedded client never reloads a vector index it has queried, so vectors another process wrote stay
invisible to `query` until `Store.reopen` (which the hybrid retriever calls when the manifest changes).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, TypeVar

from newsdesk.settings import ChromaSettings

from .embeddings import Embedder
from .errors import EmbeddingMismatchError, StoreUnavailableError, StoreWriteError
from .gate import Gate
from .records import SHARED, ChunkRecord, DocumentRecord

log = logging.getLogger(__name__)

SCHEMA = 2  # 2: documents and chunks carry their library (a store of schema 1 is the shared library)
_PAGE = 2000  # records per get() page when scanning
_WRITTEN_KEPT = 10_000  # documents whose last write by this Store is remembered (see Store.wrote)
T = TypeVar("T")


def _chroma_errors() -> tuple[type[BaseException], ...]:
    import httpx
    from chromadb.errors import ChromaError

    # A stopped server surfaces as httpx's own errors (ConnectError, ReadTimeout...), which are no OSError.
    return (ChromaError, OSError, ConnectionError, ValueError, RuntimeError, httpx.HTTPError)


def open_client(chroma: ChromaSettings, data_dir: Any, *, retries: int | None = None) -> tuple[Any, str]:
    """A chromadb client and a human description of where it points."""
    import chromadb
    from chromadb.config import Settings as ChromaClientSettings

    client_settings = ChromaClientSettings(anonymized_telemetry=False, allow_reset=False)
    if not chroma.server_mode:
        from pathlib import Path

        path = Path(data_dir) / "chroma"
        try:
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=client_settings), f"embedded at {path}"
        except _chroma_errors() as error:
            raise StoreUnavailableError(f"cannot open the embedded store at {path}: {error}") from error

    headers = {}
    if chroma.token:
        headers["Authorization"] = f"Bearer {chroma.token.get_secret_value()}"
    where = f"{'https' if chroma.ssl else 'http'}://{chroma.host}:{chroma.port}"
    attempts = (chroma.connect_retries if retries is None else retries) + 1
    last: BaseException | None = None
    for attempt in range(attempts):
        try:
            client = chromadb.HttpClient(
                host=chroma.host, port=chroma.port, ssl=chroma.ssl, headers=headers, settings=client_settings
            )
            client.heartbeat()
            return client, f"server at {where}"
        except Exception as error:  # noqa: BLE001 - chromadb raises many kinds for a dead server
            last = error
            if attempt + 1 < attempts:
                log.info("Chroma server at %s not answering (%s); retrying", where, error)
                time.sleep(min(2.0, 0.25 * (attempt + 1)))
    raise StoreUnavailableError(f"the Chroma server at {where} does not answer ({type(last).__name__})")


class Store:
    """Documents and chunks in Chroma, written atomically per document."""

    def __init__(self, client: Any, embedder: Embedder, *, collection: str = "newsdesk", location: str = ""):
        self.embedder = embedder
        self.location = location
        self.collection_name = collection
        # Every Chroma call runs inside `_gate.call()` and resolves the client and collections there;
        # `reopen` swaps them inside `_gate.exclusive()`. Swapping an immutable tuple and letting in-flight
        # calls finish on the old objects would not do: the old System must be stopped (or every reopen leaks
        # its SQLite connections and in-memory indexes), and a call still running on it would then fail.
        self._gate = Gate()
        self._written: OrderedDict[str, str | None] = OrderedDict()  # doc_id -> version this Store last wrote
        self._written_lock = threading.Lock()
        # What a reopen needs, taken from the client so that any PersistentClient (open_store's or a test's)
        # can be reopened; a server (HttpClient) or an in-memory client has no path and is never reopened.
        settings = client.get_settings()
        self._persist_path: str | None = settings.persist_directory if settings.is_persistent else None
        self._client_settings = settings
        self._tenant_database = (getattr(client, "tenant", None), getattr(client, "database", None))
        self._client = client
        try:
            self._chunks, self._docs = self._collections(client)
        except _chroma_errors() as error:
            raise StoreUnavailableError(f"the store cannot be opened: {error}") from error
        built_with = (self._chunks.metadata or {}).get("embedding_model")
        if built_with and built_with != embedder.name:
            raise EmbeddingMismatchError(
                f"the store at {location or collection} was built with the embedding model {built_with!r}, "
                f"but EMBEDDING_MODEL is {embedder.name!r}; set it back or use a new DATA_DIR / CHROMA_COLLECTION"
            )
        if int((self._chunks.metadata or {}).get("newsdesk_schema", 1)) < SCHEMA:
            self._migrate()

    def _migrate(self) -> None:
        """Schema 1 -> 2: every document and chunk of a store made before libraries joins the shared
        library. Metadata only (no re-embedding); each step can be repeated, so a crash midway is finished
        at the next start; the schema mark is written last."""
        log.info("upgrading the store at %s to schema %d (libraries)", self.location or self.collection_name, SCHEMA)
        for collection in (self._docs, self._chunks):
            offset = 0
            while True:
                got = self._call(lambda c=collection, o=offset: c.get(include=["metadatas"], limit=_PAGE, offset=o))
                todo = [(i, {**m, "library": SHARED}) for i, m in zip(got["ids"], got["metadatas"], strict=True)
                        if "library" not in (m or {})]
                if todo:
                    self._write(lambda c=collection, t=todo: c.update(ids=[i for i, _ in t], metadatas=[m for _, m in t]))
                if len(got["ids"]) < _PAGE:
                    break
                offset += _PAGE
        for collection in (self._chunks, self._docs):
            meta = {**(collection.metadata or {}), "newsdesk_schema": SCHEMA}
            meta.pop("hnsw:space", None)  # fixed at creation; not to be "modified"
            self._write(lambda c=collection, m=meta: c.modify(metadata=m))
        log.info("store upgraded: its articles are the shared library")

    def _collections(self, client: Any) -> tuple[Any, Any]:
        chunks = client.get_or_create_collection(
            name=self.collection_name,
            embedding_function=None,
            metadata={"embedding_model": self.embedder.name, "newsdesk_schema": SCHEMA},
            configuration={"hnsw": {"space": "cosine"}},
        )
        docs = client.get_or_create_collection(
            name=f"{self.collection_name}-documents",
            embedding_function=None,
            metadata={"newsdesk_schema": SCHEMA},
        )
        return chunks, docs

    def reopen(self) -> bool:
        """Open a fresh embedded client on the same directory and close the old one, so that vectors another
        process (the CLI's ingest) wrote become visible to `query`. False when nothing was reopened: a server
        store (nothing to do), or a fresh client could not be opened (a full disk): the old one goes on.

        Why: an embedded client keeps each collection's HNSW index in memory once it has queried and never
        reloads it; SQLite-backed reads (get, count, the manifest) do see the other process's writes."""
        if self._persist_path is None:
            return False
        from chromadb.api.shared_system_client import SharedSystemClient as Shared

        with self._gate.exclusive():
            old = self._client
            key = getattr(old, "_identifier", self._persist_path)
            # chromadb hands every client of a path the one System it caches under the path: take ours out of
            # the cache so PersistentClient starts a fresh one, and put it back if that fails. The old client
            # keeps working meanwhile (it holds its System's API object, not the cache entry).
            old_system = Shared._identifier_to_system.pop(key, None)
            refs_before = Shared._identifier_to_refcount.get(key, 0)
            try:
                client, (chunks, docs) = self._fresh_client()
            except Exception as error:  # noqa: BLE001 - whatever failed, the old client still answers
                failed = Shared._identifier_to_system.pop(key, None)
                if old_system is not None:
                    Shared._identifier_to_system[key] = old_system
                if failed is not None and failed is not old_system:
                    _stop_quietly(failed)
                log.warning("could not reopen the embedded store at %s, keeping the open one: %s",
                            self._persist_path, error)
                return False
            per_client = Shared._identifier_to_refcount.get(key, 0) - refs_before
            self._client, self._chunks, self._docs = client, chunks, docs
            old.close()  # gives back the old client's references (the new client's keep the count above 0)
            if old_system is not None and refs_before <= per_client:  # no other client in this process uses it
                _stop_quietly(old_system)
        log.debug("reopened the embedded store at %s", self._persist_path)
        return True

    def _fresh_client(self) -> tuple[Any, tuple[Any, Any]]:
        import chromadb

        tenant, database = self._tenant_database
        extra = {k: v for k, v in (("tenant", tenant), ("database", database)) if v is not None}
        client = chromadb.PersistentClient(path=self._persist_path, settings=self._client_settings, **extra)
        try:
            return client, self._collections(client)
        except BaseException:
            client.close()
            raise

    # ---- manifest -----------------------------------------------------------------------------

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        got = self._call(lambda: self._docs.get(ids=[doc_id], include=["metadatas"]))
        if not got["ids"]:
            return None
        return DocumentRecord.from_metadata(got["metadatas"][0])

    def get_documents(self, doc_ids: Any) -> dict[str, DocumentRecord]:
        """The current manifest records of the given ids (missing ones are absent)."""
        ids = sorted({d for d in doc_ids if d})
        if not ids:
            return {}
        got = self._call(lambda: self._docs.get(ids=ids, include=["metadatas"]))
        return {m["doc_id"]: DocumentRecord.from_metadata(m) for m in got["metadatas"]}

    def documents(self, libraries: Collection[str] | None = None) -> dict[str, DocumentRecord]:
        """Every current document by id (the manifest), or those of `libraries`."""
        if libraries is not None:
            return {d: doc for d, doc in self.documents().items() if doc.library in libraries}
        out: dict[str, DocumentRecord] = {}
        offset = 0
        while True:
            got = self._call(lambda offset=offset: self._docs.get(include=["metadatas"], limit=_PAGE, offset=offset))
            for meta in got["metadatas"]:
                record = DocumentRecord.from_metadata(meta)
                out[record.doc_id] = record
            if len(got["ids"]) < _PAGE:
                return out
            offset += _PAGE

    def list_documents(self, libraries: Collection[str] | None = None) -> list[DocumentRecord]:
        """Newest first (by published date, then by ingest time); all, or those of `libraries`."""
        return sorted(
            self.documents(libraries).values(), key=lambda d: (d.published_ts or 0, d.ingested_ts), reverse=True
        )

    def document_count(self, libraries: Collection[str] | None = None) -> int:
        if libraries is not None:
            return len(self.documents(libraries))
        return self._call(lambda: self._docs.count())

    def chunk_count(self, libraries: Collection[str] | None = None) -> int:
        """Chunks of current versions (leftovers of a crash are not counted)."""
        return sum(d.chunks for d in self.documents(libraries).values())

    # ---- writes -------------------------------------------------------------------------------

    def replace_document(
        self, doc: DocumentRecord, chunks: Sequence[ChunkRecord], embeddings: Sequence[Sequence[float]]
    ) -> str:
        """Make `doc` with `chunks` the current version. Returns "new", "updated" or "unchanged"."""
        if len(chunks) != len(embeddings) or len(chunks) != doc.chunks:
            raise ValueError("chunks, embeddings and doc.chunks disagree")
        previous = self.get_document(doc.doc_id)
        if previous is not None and previous.version == doc.version:
            return "unchanged"
        batch = max(1, min(self._max_batch(), 1000))
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            vectors = [list(e) for e in embeddings[start : start + batch]]
            self._write(lambda part=part, vectors=vectors: self._chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors,
                documents=[c.text for c in part],
                metadatas=[c.to_metadata() for c in part],
            ))
        # The commit point: one record, one atomic upsert.
        self._write(lambda: self._docs.upsert(ids=[doc.doc_id], embeddings=[[0.0]], documents=[doc.title],
                                              metadatas=[doc.to_metadata()]))
        self._note_write(doc.doc_id, doc.version)
        self._sweep_document(doc.doc_id, keep=doc.version)
        return "new" if previous is None else "updated"

    def _note_write(self, doc_id: str, version: str | None) -> None:
        with self._written_lock:
            self._written[doc_id] = version
            self._written.move_to_end(doc_id)
            while len(self._written) > _WRITTEN_KEPT:
                self._written.popitem(last=False)

    def wrote(self, changes: dict[str, str | None]) -> bool:
        """Whether this Store made every one of these manifest changes ({doc_id: version, None: gone}) itself,
        so that its own client already sees their vectors."""
        with self._written_lock:
            return all(d in self._written and self._written[d] == v for d, v in changes.items())

    def forget(self, doc_id: str) -> bool:
        """Remove a document and all its chunks. False when it was not there."""
        existed = self.get_document(doc_id) is not None
        self._write(lambda: self._docs.delete(ids=[doc_id]))  # the commit point: invisible from here on
        self._note_write(doc_id, None)
        self._sweep_document(doc_id, keep=None)
        return existed

    def _sweep_document(self, doc_id: str, keep: str | None) -> None:
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep is not None:
            where = {"$and": [{"doc_id": doc_id}, {"version": {"$ne": keep}}]}
        try:
            self._call(lambda: self._chunks.delete(where=where))
        except StoreUnavailableError as error:  # leftovers are invisible; the next write sweeps them
            log.warning("could not sweep old chunks of %s: %s", doc_id, error)

    def delete_chunks(self, chunk_ids: Sequence[str]) -> None:
        """Remove stray chunks (of no current version) found by a full scan."""
        for start in range(0, len(chunk_ids), 1000):
            self._write(lambda start=start: self._chunks.delete(ids=list(chunk_ids[start : start + 1000])))

    # ---- reads --------------------------------------------------------------------------------

    def query(
        self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[ChunkRecord, float]]:
        """Nearest chunks by cosine similarity (1 - distance), current versions only."""
        total = self._call(lambda: self._chunks.count())
        if total == 0:
            return []
        got = self._call(lambda: self._chunks.query(
            query_embeddings=[list(embedding)],
            n_results=min(n, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        ))
        current = self.get_documents({m.get("doc_id") for m in got["metadatas"][0]})
        out = []
        for cid, text, meta, dist in zip(
            got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
        ):
            doc = current.get(meta.get("doc_id"))
            if doc is not None and doc.version == meta.get("version"):
                out.append((ChunkRecord.from_chroma(cid, text, meta), 1.0 - float(dist)))
        return out

    def get_chunks(self, ids: Sequence[str]) -> list[ChunkRecord]:
        got = self._call(lambda: self._chunks.get(ids=list(ids), include=["documents", "metadatas"]))
        return [ChunkRecord.from_chroma(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]

    def chunks_of(self, doc_id: str) -> list[ChunkRecord]:
        """The current chunks of one document, in order."""
        doc = self.get_document(doc_id)
        if doc is None:
            return []
        got = self._call(lambda: self._chunks.get(
            where={"$and": [{"doc_id": doc_id}, {"version": doc.version}]},
            include=["documents", "metadatas"],
        ))
        chunks = [ChunkRecord.from_chroma(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(chunks, key=lambda c: c.ordinal)

    def vectors_of(self, doc_id: str, version: str) -> list[list[float]] | None:
        """The vectors of a document's chunks in order, when its current version is `version`."""
        doc = self.get_document(doc_id)
        if doc is None or doc.version != version:
            return None
        got = self._call(lambda: self._chunks.get(
            where={"$and": [{"doc_id": doc_id}, {"version": version}]}, include=["metadatas", "embeddings"]))
        if len(got["ids"]) != doc.chunks:
            return None
        order = sorted(range(len(got["ids"])), key=lambda i: got["metadatas"][i]["ordinal"])
        return [[float(x) for x in got["embeddings"][i]] for i in order]

    def iter_all_chunks(self, page: int = _PAGE) -> Iterator[ChunkRecord]:
        """Every stored chunk, current or not (callers filter by the manifest)."""
        offset = 0
        while True:
            got = self._call(lambda offset=offset: self._chunks.get(include=["documents", "metadatas"], limit=page,
                                                                    offset=offset))
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                yield ChunkRecord.from_chroma(i, t, m)
            if len(got["ids"]) < page:
                return
            offset += page

    def raw_chunk_count(self) -> int:
        return self._call(lambda: self._chunks.count())

    def heartbeat(self) -> None:
        self._call(lambda: self._client.heartbeat())

    # ---- plumbing -----------------------------------------------------------------------------

    def _max_batch(self) -> int:
        try:
            return int(self._call(lambda: self._client.get_max_batch_size()))
        except Exception:  # noqa: BLE001 - older servers lack the call
            return 1000

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one Chroma call inside the gate; `fn` reads the client and collections only once inside."""
        try:
            with self._gate.call():
                return fn()
        except _chroma_errors() as error:
            raise StoreUnavailableError(f"the store did not answer: {error}") from error

    def _write(self, fn: Callable[[], T]) -> T:
        try:
            with self._gate.call():
                return fn()
        except _chroma_errors() as error:
            if _disk_full(error):  # SQLite's "(code: 13) database or disk is full", or ENOSPC from a file write
                where = f" ({self.location})" if self.location else ""
                raise StoreWriteError(f"the disk of the store{where} is full; free some space and try again") from error
            raise StoreWriteError(f"the store refused the write: {error}") from error


def _stop_quietly(system: Any) -> None:
    try:
        system.stop()
    except Exception:  # noqa: BLE001 - a System that failed to start may fail to stop too
        log.debug("stopping a Chroma System failed", exc_info=True)


def _disk_full(error: BaseException) -> bool:
    import errno

    return getattr(error, "errno", None) == errno.ENOSPC or "disk is full" in str(error).lower()


def open_store(chroma: ChromaSettings, data_dir: Any, embedder: Embedder, *, retries: int | None = None) -> Store:
    client, location = open_client(chroma, data_dir, retries=retries)
    return Store(client, embedder, collection=chroma.collection, location=location)
