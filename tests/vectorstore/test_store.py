"""The store: atomic per-document replace, forget, model guard. Embedded and against `chroma run`."""

from __future__ import annotations

import pytest

from vectorstore.embeddings import Embedder
from vectorstore.errors import EmbeddingMismatchError, StoreUnavailableError, StoreWriteError
from vectorstore.records import ChunkRecord, DocumentRecord
from vectorstore.store import Store, open_store


def _doc(doc_id: str, version: str, texts: list[str], site: str = "Example News", ts: int = 1_700_000_000):
    common = dict(doc_id=doc_id, url=f"https://example.com/{doc_id}", title=f"Title {doc_id}", site=site,
                  version=version, published="2023-11-14T22:13:20+00:00", published_ts=ts)
    chunks = [
        ChunkRecord(chunk_id=f"{doc_id}-{version}-{i}", text=t, header=f"Title {doc_id} | {site}", ordinal=i,
                    char_start=0, char_end=len(t), **common)
        for i, t in enumerate(texts)
    ]
    return DocumentRecord(chunks=len(chunks), ingested_at="2026-11-29T00:00:00+00:00", ingested_ts=1, **common), chunks


def _put(store: Store, doc_id: str, version: str, texts: list[str], **kw) -> str:
    doc, chunks = _doc(doc_id, version, texts, **kw)
    vectors = store.embedder.embed_documents([c.embed_text for c in chunks])
    return store.replace_document(doc, chunks, vectors)


def test_new_unchanged_updated_forget(store: Store) -> None:
    assert _put(store, "a", "v1", ["OpenAI hired a new CFO.", "The board approved it."]) == "new"
    assert _put(store, "a", "v1", ["OpenAI hired a new CFO.", "The board approved it."]) == "unchanged"
    assert [c.text for c in store.chunks_of("a")] == ["OpenAI hired a new CFO.", "The board approved it."]

    assert _put(store, "a", "v2", ["Anthropic raised money."]) == "updated"
    assert [c.text for c in store.chunks_of("a")] == ["Anthropic raised money."]
    assert store.raw_chunk_count() == 1  # every old chunk is gone, not just hidden
    assert store.get_document("a").version == "v2"

    assert store.forget("a") is True
    assert store.get_document("a") is None
    assert store.raw_chunk_count() == 0
    assert store.forget("a") is False


def test_query_sees_only_current_versions_and_filters_by_metadata(store: Store) -> None:
    _put(store, "a", "v1", ["Mistral released a new open-weights model."], site="The Verge", ts=100)
    _put(store, "b", "v1", ["Nvidia reported record data-center revenue."], site="TechCrunch", ts=200)
    query = store.embedder.embed_query("open-weights model release")
    hits = store.query(query, 5)
    assert hits[0][0].doc_id == "a" and hits[0][1] > hits[-1][1]
    assert hits[0][0].header == "Title a | The Verge" and hits[0][0].text.startswith("Mistral")
    only_tc = store.query(query, 5, where={"site": "TechCrunch"})
    assert [h[0].doc_id for h in only_tc] == ["b"]
    recent = store.query(query, 5, where={"published_ts": {"$gte": 150}})
    assert [h[0].doc_id for h in recent] == ["b"]


def test_a_failed_commit_leaves_the_previous_version_visible(store: Store) -> None:
    _put(store, "a", "v1", ["The old text about GPUs."])
    real_upsert = store._docs.upsert

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    store._docs.upsert = broken  # the manifest flip fails after the new chunks were written
    with pytest.raises(StoreWriteError, match="No space left"):
        _put(store, "a", "v2", ["The new text about TPUs.", "More new text."])
    store._docs.upsert = real_upsert

    assert store.get_document("a").version == "v1"
    assert [c.text for c in store.chunks_of("a")] == ["The old text about GPUs."]
    texts = [c.text for c, _ in store.query(store.embedder.embed_query("TPUs"), 10)]
    assert texts == ["The old text about GPUs."]  # the half-written version is invisible to readers
    assert store.chunk_count() == 1
    # The next successful write sweeps the leftovers.
    assert _put(store, "a", "v3", ["Final text."]) == "updated"
    assert store.raw_chunk_count() == 1


class _OtherModel(Embedder):
    name = "openai:text-embedding-3-small"

    def token_offsets(self, text):  # pragma: no cover - never called
        return []

    def embed_documents(self, texts):  # pragma: no cover
        return [[0.0] * 384 for _ in texts]

    def embed_query(self, text):  # pragma: no cover
        return [0.0] * 384


def test_opening_with_another_embedding_model_is_refused(store_settings, store: Store) -> None:
    _put(store, "a", "v1", ["Some text."])
    with pytest.raises(EmbeddingMismatchError, match="all-MiniLM-L6-v2.*EMBEDDING_MODEL"):
        open_store(store_settings.chroma, store_settings.data_dir, _OtherModel(), retries=0)


def test_list_documents_is_newest_first(store: Store) -> None:
    _put(store, "old", "v1", ["a"], ts=100)
    _put(store, "new", "v1", ["b"], ts=300)
    _put(store, "mid", "v1", ["c"], ts=200)
    assert [d.doc_id for d in store.list_documents()] == ["new", "mid", "old"]
    assert store.document_count() == 3 and store.chunk_count() == 3


def test_a_dead_server_is_a_clear_error(tmp_path, embedder) -> None:
    from tests.conftest import make_settings
    from tests.support.chroma_server import free_port

    settings = make_settings(tmp_path, chroma={"host": "127.0.0.1", "port": free_port()})
    with pytest.raises(StoreUnavailableError, match=r"Chroma server at http://127.0.0.1:\d+ does not answer"):
        open_store(settings.chroma, settings.data_dir, embedder, retries=1)


def _as_schema_1(store: Store) -> None:
    """Make `store` look as a store made before libraries: no library anywhere, schema 1."""
    for collection in (store._docs, store._chunks):
        got = collection.get(include=["metadatas"])
        collection.update(ids=got["ids"], metadatas=[{k: v for k, v in m.items() if k != "library"} | {"library": None}
                                                     for m in got["metadatas"]])
        collection.modify(metadata={**(collection.metadata or {}), "newsdesk_schema": 1})


def test_a_store_made_before_libraries_opens_as_the_shared_library(store_settings, store: Store) -> None:
    _put(store, "a", "v1", ["Mistral released a new open-weights model."])
    _put(store, "b", "v1", ["Nvidia reported record data-center revenue."])
    _as_schema_1(store)
    raw = store._chunks.get(include=["metadatas"])["metadatas"]
    assert all("library" not in m for m in raw)  # as an old store has them
    vectors_before = store._chunks.get(include=["embeddings"])["embeddings"]

    reopened = open_store(store_settings.chroma, store_settings.data_dir, store.embedder, retries=0)
    assert {d.library for d in reopened.list_documents()} == {"shared"}
    assert reopened.document_count(["shared"]) == 2 and reopened.document_count(["g1"]) == 0
    assert all(m["library"] == "shared" for m in reopened._chunks.get(include=["metadatas"])["metadatas"])
    assert (reopened._chunks.get(include=["embeddings"])["embeddings"] == vectors_before).all()  # no re-embedding
    query = reopened.embedder.embed_query("open-weights model")
    assert [h[0].doc_id for h in reopened.query(query, 1, where={"library": "shared"})] == ["a"]
    assert (reopened._chunks.metadata or {})["newsdesk_schema"] == 2
