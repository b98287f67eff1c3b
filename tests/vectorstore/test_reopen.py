"""Store.reopen: an embedded client that has queried sees vectors another process wrote only after a reopen.

Real Chroma throughout: the "other process" is a real subprocess writing to the same directory, as the
CLI's `newsdesk ingest` does beside a running bot.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from newsdesk.settings import ChromaSettings, RetrievalSettings
from vectorstore.embeddings import Embedder
from vectorstore.records import ChunkRecord, DocumentRecord
from vectorstore.search import HybridRetriever
from vectorstore.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ("gpu", "quantum", "robot", "bank")


class TopicEmbedder(Embedder):
    """One axis per topic word (plus a small shared one), so each article has a distinctive vector."""

    name = "topic-test"

    def _vector(self, text: str) -> list[float]:
        words = text.lower().split()
        return [float(sum(w.startswith(t) for w in words)) for t in TOPICS] + [0.05]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def open_test_store(data_dir: Path) -> Store:
    """Through open_store, as the bot and the CLI open it."""
    return open_store(ChromaSettings(_env_file=None), data_dir, TopicEmbedder(), retries=0)


def put(store: Store, url: str, title: str, text: str) -> str:
    doc_id = "d" + hashlib.sha256(url.encode()).hexdigest()[:31]
    version = hashlib.sha256(f"{title}|{text}".encode()).hexdigest()[:16]
    chunk = ChunkRecord(chunk_id=f"{doc_id}-{version}-0", doc_id=doc_id, text=text, header=f"{title} | Site",
                        ordinal=0, char_start=0, char_end=len(text), version=version, url=url, title=title,
                        site="Site", published_ts=1_700_000_000)
    doc = DocumentRecord(doc_id=doc_id, url=url, title=title, site="Site", version=version, chunks=1,
                         published_ts=1_700_000_000)
    store.replace_document(doc, [chunk], store.embedder.embed_documents([chunk.embed_text]))
    return doc_id


def put_in_another_process(data_dir: Path, url: str, title: str, text: str) -> None:
    script = textwrap.dedent(f"""
        import sys; sys.path[:0] = [{str(ROOT)!r}]
        from pathlib import Path
        from tests.vectorstore.test_reopen import open_test_store, put
        put(open_test_store(Path({str(data_dir)!r})), {url!r}, {title!r}, {text!r})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def doc_ids(store: Store, text: str) -> list[str]:
    return [chunk.doc_id for chunk, _ in store.query(store.embedder.embed_query(text), 5)]


QUANTUM = ("https://other.example/q", "Quantum chip", "Quantum computing startup shows a quantum chip.")


def test_a_querying_client_misses_another_process_vectors_until_reopen(tmp_path: Path) -> None:
    store = open_test_store(tmp_path)
    gpu = put(store, "https://here.example/g", "GPU sales", "GPU makers sold more GPU servers.")
    assert doc_ids(store, "gpu") == [gpu]  # this process has queried: Chroma holds the index in memory

    put_in_another_process(tmp_path, *QUANTUM)
    quantum = "d" + hashlib.sha256(QUANTUM[0].encode()).hexdigest()[:31]
    assert store.get_document(quantum) is not None  # SQLite-backed reads see the other process's write...
    assert quantum not in doc_ids(store, "quantum"), "chromadb now shows other processes' vectors without a reopen"

    store.reopen()
    hits = store.query(store.embedder.embed_query("quantum"), 5)
    assert hits[0][0].doc_id == quantum and hits[0][1] > 0.9  # ...and the dense half does after the reopen
    robot = put(store, "https://here.example/r", "Robots", "Robot arms in robot factories.")  # writes go on
    assert doc_ids(store, "robot")[0] == robot and store.document_count() == 3


def test_the_retriever_finds_another_process_article_by_its_vector_after_a_refresh(tmp_path: Path) -> None:
    store = open_test_store(tmp_path)
    put(store, "https://here.example/g", "GPU sales", "GPU makers sold more GPU servers.")
    retriever = HybridRetriever(store, RetrievalSettings(_env_file=None))
    assert [h.chunk.title for h in retriever.search("gpu servers")] == ["GPU sales"]

    put_in_another_process(tmp_path, *QUANTUM)
    retriever.refresh(force=True)  # the lexical index sees the manifest change and has the store reopened
    hits = {h.chunk.title: h for h in retriever.search("quantum chip")}
    assert "Quantum chip" in hits
    assert hits["Quantum chip"].dense is not None and hits["Quantum chip"].dense > 0.9
    assert hits["Quantum chip"].lexical is not None


def test_only_another_process_writes_cost_a_reopen(tmp_path: Path) -> None:
    store = open_test_store(tmp_path)
    reopens: list[bool] = []
    real_reopen = store.reopen
    store.reopen = lambda: reopens.append(real_reopen()) or True  # type: ignore[method-assign]
    retriever = HybridRetriever(store, RetrievalSettings(_env_file=None))
    retriever.refresh(force=True)
    opened = len(reopens)  # the first load may reopen: the directory may hold anyone's writes

    gpu = put(store, "https://here.example/g", "GPU sales", "GPU makers sold more GPU servers.")
    retriever.refresh(force=True)
    assert [h.chunk.doc_id for h in retriever.search("gpu servers")] == [gpu]
    store.forget(gpu)
    retriever.refresh(force=True)
    assert len(reopens) == opened  # this process's own ingest and forget: its client already sees them

    put_in_another_process(tmp_path, *QUANTUM)
    retriever.refresh(force=True)
    assert len(reopens) == opened + 1 and reopens[-1] is True
    assert retriever.search("quantum chip")[0].dense > 0.9


def test_reopen_while_other_threads_query_and_write(tmp_path: Path) -> None:
    store = open_test_store(tmp_path)
    first = put(store, "https://here.example/g", "GPU sales", "GPU makers sold more GPU servers.")
    chunk_id = store.chunks_of(first)[0].chunk_id
    errors: list[BaseException] = []
    stop = threading.Event()
    rounds = {"reader": 0, "writer": 0}

    def reader() -> None:
        try:
            while not stop.is_set():
                assert doc_ids(store, "gpu")[0] == first
                assert [c.chunk_id for c in store.get_chunks([chunk_id])] == [chunk_id]
                rounds["reader"] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def writer() -> None:
        try:
            i = 0
            while not stop.is_set():
                put(store, f"https://here.example/b{i}", f"Bank {i}", f"Bank number {i} lends money.")
                i += 1
                rounds["writer"] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(2)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    try:
        for _ in range(8):
            store.reopen()
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors
    assert rounds["reader"] > 0 and rounds["writer"] > 0
    assert store.document_count() == 1 + rounds["writer"]


def test_reopen_beside_another_client_of_the_same_directory_in_this_process(tmp_path: Path) -> None:
    """chromadb shares one System per path in a process; the reopened store gets a fresh one of its own
    and the other client keeps working on the old one."""
    store = open_test_store(tmp_path)
    other = open_test_store(tmp_path)
    gpu = put(store, "https://here.example/g", "GPU sales", "GPU makers sold more GPU servers.")
    assert doc_ids(store, "gpu") == [gpu] and doc_ids(other, "gpu") == [gpu]

    put_in_another_process(tmp_path, *QUANTUM)
    store.reopen()
    assert doc_ids(store, "quantum")[0] != gpu
    assert doc_ids(other, "gpu") == [gpu]  # not closed under its feet
    other.reopen()
    assert doc_ids(other, "quantum") == doc_ids(store, "quantum")


def test_reopen_of_a_server_store_does_nothing(chroma_server, tmp_path: Path) -> None:
    chroma = ChromaSettings(_env_file=None, host="127.0.0.1", port=chroma_server.port, collection="reopen-noop")
    store = open_store(chroma, tmp_path, TopicEmbedder(), retries=0)
    client = store._client
    gpu = put(store, "https://here.example/g", "GPU sales", "GPU makers sold more GPU servers.")
    store.reopen()
    assert store._client is client
    assert doc_ids(store, "gpu") == [gpu]



def test_a_failed_reopen_keeps_the_open_client_and_a_later_one_works(tmp_path: Path, monkeypatch) -> None:
    """On a full disk a fresh client cannot start (tests/faults/test_disk_full.py); the store goes on."""
    store = open_test_store(tmp_path)
    gpu = put(store, "https://here.example/g", "GPU sales", "GPU makers sold more GPU servers.")
    assert doc_ids(store, "gpu") == [gpu]
    put_in_another_process(tmp_path, *QUANTUM)

    def refuse(self, client):
        raise OSError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(Store, "_collections", refuse)  # after the fresh System has started
        assert store.reopen() is False
    assert doc_ids(store, "gpu")[0] == gpu  # the old client still answers, with its old view
    assert store.reopen() is True
    assert doc_ids(store, "quantum")[0] != gpu
