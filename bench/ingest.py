"""Bulk-import benchmark: the pipeline's rate against the bare embedder's, on the same chunks, in one run.

    python bench/ingest.py [--corpus ../shared/eval/multihop/corpus.json] [--limit N]

Prints articles/s, chunks/s, peak RSS, and the bare embedder's chunks/s on exactly the chunks the
pipeline made, then a JSON line. Target: pipeline chunks/s >= 0.85 x bare embedder chunks/s.
The two phases alternate in halves (bare, pipeline, pipeline, bare) so drift on a shared machine
hits both alike.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.bulk import iter_articles  # noqa: E402
from ingest.pipeline import Pipeline  # noqa: E402
from newsdesk.settings import ChromaSettings, ChunkSettings, FetchSettings  # noqa: E402
from vectorstore.embeddings import MiniLMEmbedder  # noqa: E402
from vectorstore.store import open_store  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/eval/multihop/corpus.json"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    articles = [a for a in iter_articles(args.corpus) if not isinstance(a, Exception)][: args.limit]
    embedder = MiniLMEmbedder()
    embedder.embed_documents(["warm up the session"])
    halves = [articles[: len(articles) // 2], articles[len(articles) // 2 :]]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(ChromaSettings(_env_file=None), tmp, embedder, retries=0)
        pipeline = Pipeline(store, ChunkSettings(_env_file=None), FetchSettings(_env_file=None))
        prepared = [[pipeline.prepare(a) for a in half] for half in halves]
        bare_time = pipe_time = 0.0
        chunks = 0
        for order, index in (("bare", 0), ("pipeline", 0), ("pipeline", 1), ("bare", 1)):
            if order == "bare":
                texts = [c.embed_text for p in prepared[index] for c in p.chunks]
                start = time.perf_counter()
                for i in range(0, len(texts), 64):
                    embedder.embed_documents(texts[i : i + 64])
                bare_time += time.perf_counter() - start
            else:
                start = time.perf_counter()
                results = list(pipeline.ingest_articles(halves[index]))
                pipe_time += time.perf_counter() - start
                failed = [r for r in results if isinstance(r, Exception)]
                assert not failed, failed[:3]
                chunks += sum(r.chunks for r in results)
        stored = store.chunk_count()
    assert stored == chunks, (stored, chunks)
    figures = {
        "articles": len(articles),
        "chunks": chunks,
        "pipeline_articles_per_s": round(len(articles) / pipe_time, 2),
        "pipeline_chunks_per_s": round(chunks / pipe_time, 2),
        "bare_embedder_chunks_per_s": round(chunks / bare_time, 2),
        "ratio": round(bare_time / pipe_time, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(f"articles            {figures['articles']}")
    print(f"chunks              {figures['chunks']}")
    print(f"pipeline            {figures['pipeline_articles_per_s']} articles/s, {figures['pipeline_chunks_per_s']} chunks/s")
    print(f"bare embedder       {figures['bare_embedder_chunks_per_s']} chunks/s (same chunks)")
    print(f"ratio               {figures['ratio']} (target >= 0.85)")
    print(f"peak RSS            {figures['peak_rss_mb']} MB")
    print(json.dumps({"bench": "ingest", **figures}))


if __name__ == "__main__":
    main()
