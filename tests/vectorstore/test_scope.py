"""Libraries and channel scopes as the retriever applies them, in both halves (BM25 and Chroma's where)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from newsdesk.settings import RetrievalSettings
from tests.vectorstore.test_lexical import open_test_store
from vectorstore.records import ChunkRecord, DocumentRecord, Scope
from vectorstore.search import HybridRetriever
from vectorstore.store import Store

FEED = "https://policy.example/rss"


def put(store: Store, url: str, site: str, text: str, library: str = "shared", feed: str = "") -> str:
    doc_id = "d" + hashlib.sha256(f"{library}{url}".encode()).hexdigest()[:31]
    chunk = ChunkRecord(chunk_id=f"{doc_id}-v-0", doc_id=doc_id, text=text, header=f"T | {site}", ordinal=0,
                        char_start=0, char_end=len(text), version="v", url=url, title="T", site=site,
                        library=library, feed=feed)
    doc = DocumentRecord(doc_id=doc_id, url=url, title="T", site=site, version="v", chunks=1, library=library,
                         feed=feed)
    store.replace_document(doc, [chunk], [[1.0, 0.0, 0.0]])
    return url


def test_scopes_and_libraries_filter_both_halves(tmp_path: Path) -> None:
    store = open_test_store(tmp_path / "chroma")
    put(store, "https://policy.example/a", "Policy Wire", "The AI bill passed the committee.", feed=FEED)
    put(store, "https://verge.example/b", "The Verge", "The AI bill worries startups.")
    put(store, "https://wired.example/c", "Wired", "The AI bill is vague, critics say.")
    put(store, "https://mine.example/d", "Mine", "The AI bill in our server's own notes.", library="g7")
    settings = RetrievalSettings(_env_file=None, refresh_seconds=0.0, max_per_doc=1)  # type: ignore[call-arg]
    everything = HybridRetriever(store, settings, tmp_path / "lexical")

    def urls(retriever: HybridRetriever, *, dense: bool = True, lexical: bool = True) -> set[str]:
        s = retriever.settings.model_copy(update={"dense_weight": 1.0 if dense else 0.0,
                                                  "lexical_weight": 1.0 if lexical else 0.0})
        view = retriever.scoped(retriever.libraries, retriever.scope)
        view.settings = s
        return {h.chunk.url for h in view.search("AI bill", k=10)}

    for half in ({"dense": True, "lexical": False}, {"dense": False, "lexical": True}):
        assert len(urls(everything, **half)) == 4
        shared = everything.scoped(["shared"])
        assert urls(shared, **half) == {"https://policy.example/a", "https://verge.example/b", "https://wired.example/c"}
        server = everything.scoped(["g7", "shared"], Scope(sites=("Wired",), feeds=(FEED,)))
        assert urls(server, **half) == {"https://policy.example/a", "https://wired.example/c"}  # a site or a feed
        assert urls(everything.scoped(["g7"], Scope(feeds=(FEED,))), **half) == set()  # the feed is not g7's
        assert urls(everything.scoped(["g7", "shared"], Scope(sites=("Mine",))), **half) == {"https://mine.example/d"}
