"""The lexical index: BM25 over header + body, following the manifest, persisted, safe across threads."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import chromadb
import pytest

import vectorstore.lexical as lexical_module
from vectorstore.embeddings import Embedder
from vectorstore.lexical import LexicalIndex
from vectorstore.records import ChunkRecord, DocumentRecord
from vectorstore.store import Store

ROOT = Path(__file__).resolve().parents[2]


class FlatEmbedder(Embedder):
    """Every text gets the same vector: these tests are about the lexical half only."""

    name = "flat-test"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0, 0.0, 0.0]


def open_test_store(path: Path) -> Store:
    return Store(chromadb.PersistentClient(path=str(path)), FlatEmbedder(), collection="lexical-test",
                 location=f"embedded at {path}")


def put(store: Store, url: str, title: str, site: str, texts: list[str], ts: int | None = 1_700_000_000) -> str:
    doc_id = "d" + hashlib.sha256(url.encode()).hexdigest()[:31]
    version = hashlib.sha256("|".join([title, site, *texts]).encode()).hexdigest()[:16]
    chunks = [ChunkRecord(chunk_id=f"{doc_id}-{version}-{i}", doc_id=doc_id, text=t, header=f"{title} | {site}",
                          ordinal=i, char_start=0, char_end=len(t), version=version, url=url, title=title, site=site,
                          published_ts=ts) for i, t in enumerate(texts)]
    doc = DocumentRecord(doc_id=doc_id, url=url, title=title, site=site, version=version, chunks=len(chunks),
                         published_ts=ts)
    store.replace_document(doc, chunks, [[1.0, 0.0, 0.0]] * len(chunks))
    return doc_id


FILLER = [f"Article {i} covers quarterly earnings of company number {i} and market moves." for i in range(40)]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_test_store(tmp_path / "chroma")
    for i, text in enumerate(FILLER):
        put(s, f"https://filler.example/{i}", f"Filler {i}", "Filler Times", [text], ts=1_700_000_000 + i * 86400)
    put(s, "https://tc.example/gpt", "OpenAI ships GPT-5", "TechCrunch", ["OpenAI released GPT-5 to all users."])
    put(s, "https://verge.example/nv", "Nvidia earnings", "The Verge", ["Nvidia reported record data center sales."])
    return s


def ids(index: LexicalIndex, query: str, **kw) -> list[str]:
    return [h.doc_id for h in index.search(query, 5, **kw)]


def test_header_and_body_are_searched_with_stemming(store: Store) -> None:
    index = LexicalIndex(store, refresh_seconds=0)
    [hit] = index.search("released gpt-5", 1)
    assert hit.chunk_id.startswith(hit.doc_id)
    assert ids(index, "nvidia reports") == ids(index, "NVIDIA REPORTED")
    assert ids(index, "techcrunch")[0] == hit.doc_id  # the site is only in the header
    assert index.search("the of and", 5) == []  # stopwords only


def test_filters_by_site_and_date(store: Store) -> None:
    index = LexicalIndex(store, refresh_seconds=0)
    assert len(ids(index, "earnings company", sites=["Filler Times"])) == 5
    assert ids(index, "earnings company nvidia", sites=["The Verge"]) == ids(index, "nvidia")
    assert ids(index, "nvidia", sites=["TechCrunch"]) == []
    hits = index.search("earnings company", 50, since_ts=1_700_000_000 + 10 * 86400, until_ts=1_700_000_000 + 12 * 86400)
    assert len(hits) == 3
    assert "The Verge" in index.sites() and "Filler Times" in index.sites()


@pytest.mark.parametrize("merge", [False, True])
def test_adds_replacements_and_deletions_are_followed(store: Store, merge: bool, monkeypatch) -> None:
    if merge:  # every change rebuilds the base instead of growing the delta
        monkeypatch.setattr(lexical_module, "MIN_DELTA", 0)
        monkeypatch.setattr(lexical_module, "DELTA_SHARE", 0.0)
    index = LexicalIndex(store, refresh_seconds=0)
    before = len(index.search("earnings", 100))
    new = put(store, "https://wired.example/claude", "Anthropic ships Claude", "Wired", ["Claude writes code."])
    assert ids(index, "claude") == [new]
    put(store, "https://wired.example/claude", "Anthropic ships Claude", "Wired", ["Opus reasons longer."])
    assert ids(index, "claude opus") == [new] and ids(index, "writes code") == []
    store.forget(new)
    assert ids(index, "claude opus") == [] and "Wired" not in index.sites()
    assert len(index.search("earnings", 100)) == before


def test_a_delta_document_scores_as_in_a_rebuilt_index(store: Store, monkeypatch) -> None:
    index = LexicalIndex(store, refresh_seconds=0)
    monkeypatch.setattr(lexical_module, "MIN_DELTA", 0)
    monkeypatch.setattr(lexical_module, "DELTA_SHARE", 0.0)
    index.refresh(force=True)  # everything in the base
    monkeypatch.setattr(lexical_module, "MIN_DELTA", 1000)
    monkeypatch.setattr(lexical_module, "DELTA_SHARE", 1.0)
    put(store, "https://wired.example/chips", "Chip startup raises", "Wired", ["Cerebras raised money for chips."])
    [in_delta] = index.search("cerebras chips", 1)
    assert index._snapshot.delta.rows.size == 1
    rebuilt = LexicalIndex(store, refresh_seconds=0)
    monkeypatch.setattr(lexical_module, "MIN_DELTA", 0)
    monkeypatch.setattr(lexical_module, "DELTA_SHARE", 0.0)
    [in_base] = rebuilt.search("cerebras chips", 1)
    assert rebuilt._snapshot.delta.rows.size == 0
    assert in_delta.chunk_id == in_base.chunk_id
    assert in_delta.score == pytest.approx(in_base.score, rel=0.05)


def test_a_restart_loads_the_persisted_index_and_tokenises_only_changes(store: Store, tmp_path: Path,
                                                                       monkeypatch) -> None:
    monkeypatch.setattr(lexical_module, "MIN_DELTA", 0)  # the first build is a base, and is saved
    first = LexicalIndex(store, index_dir=tmp_path / "lexical", refresh_seconds=0)
    expected = first.search("nvidia data center", 3)
    assert list((tmp_path / "lexical" / store.collection_name).glob("base-*"))
    monkeypatch.setattr(lexical_module, "MIN_DELTA", 1000)
    monkeypatch.setattr(lexical_module, "DELTA_SHARE", 1.0)
    tokenised: list[int] = []
    original = LexicalIndex._tokenize

    def counting(self, chunks):
        chunks = list(chunks)
        tokenised.append(len(chunks))
        return original(self, chunks)

    monkeypatch.setattr(LexicalIndex, "_tokenize", counting)
    second = LexicalIndex(store, index_dir=tmp_path / "lexical", refresh_seconds=0)
    assert second.search("nvidia data center", 3) == expected
    assert second.loaded_from_disk and sum(tokenised) == 0
    put(store, "https://wired.example/new", "New one", "Wired", ["Mistral opened a Singapore office."])
    third = LexicalIndex(store, index_dir=tmp_path / "lexical", refresh_seconds=0)
    assert ids(third, "mistral singapore") and third.loaded_from_disk and sum(tokenised) == 1


@pytest.mark.parametrize("background", [False, True])
def test_a_document_written_by_another_process_is_searchable_within_refresh_seconds(store: Store, tmp_path: Path,
                                                                                    background: bool) -> None:
    index = LexicalIndex(store, refresh_seconds=0.5, background=background)
    assert ids(index, "perplexity") == []
    script = textwrap.dedent(f"""
        import sys; sys.path[:0] = [{str(ROOT)!r}]
        from pathlib import Path
        from tests.vectorstore.test_lexical import open_test_store, put
        put(open_test_store(Path({str(tmp_path / 'chroma')!r})), "https://other.example/p", "Perplexity", "Other",
            ["Perplexity launched a browser."])
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    written = time.monotonic()
    while not ids(index, "perplexity browser"):
        assert time.monotonic() - written < 0.5 + 2.0, "not searchable within refresh_seconds"
        time.sleep(0.05)


def test_concurrent_searches_during_changes(store: Store) -> None:
    index = LexicalIndex(store, refresh_seconds=0)
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        try:
            while not stop.is_set():
                assert ids(index, "nvidia data center")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(5):
        put(store, f"https://many.example/{i}", f"Story {i}", "Many", [f"Story number {i} about robots."])
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert len(index.search("robots story", 10)) == 5


class _HeldStore:
    """The real store, whose manifest reads wait for `release` once `hold` is set."""

    def __init__(self, store: Store) -> None:
        self.store, self.hold, self.release = store, threading.Event(), threading.Event()

    def documents(self):  # noqa: ANN201
        if self.hold.is_set():
            self.release.wait(30)
        return self.store.documents()

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.store, name)


def test_exit_waits_for_a_background_refresh_still_reading_the_store(store: Store) -> None:
    from vectorstore.lexical import join_refreshers

    held = _HeldStore(store)
    index = LexicalIndex(held, refresh_seconds=0, background=True)  # type: ignore[arg-type]
    assert ids(index, "perplexity") == []  # the first look is made in the caller
    held.hold.set()
    ids(index, "perplexity")  # a later look runs in the background, and is now held inside the store
    refresher = index._refresher
    assert refresher is not None and refresher.is_alive()
    join_refreshers(timeout=0.2)  # the wait at exit is bounded: a stuck store cannot hold the process
    assert refresher.is_alive()
    threading.Timer(0.2, held.release.set).start()
    join_refreshers()  # what runs at exit: the refresh finishes before the interpreter goes away
    assert not refresher.is_alive()
