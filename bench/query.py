"""Ask latency in extractive mode (retrieve + compose, query embedding included), and lexical startup.

    python bench/query.py [--store DATA_DIR] [--synthetic 100000] [--questions 100] [--libraries 8]

1. The corpus store (`newsdesk eval` keeps it under DATA_DIR/eval/<sha>; ~9,000 chunks): p50/p95.
2. A synthetic store of --synthetic chunks (articles of random corpus words, random unit vectors
   written straight through Store.replace_document: the bench measures queries, not ingest), kept
   under bench/out/: lexical index cold build, restart from the persisted index, p50/p95, RSS, and
   what an embedded store's reopen costs (the bot reopens after another process, e.g. the CLI, wrote):
   the reopen itself and the first search after it, which reloads the vector index from disk.
3. With --libraries N, the synthetic articles are spread over N libraries (the shared one and N-1 servers')
   and the same questions are asked twice in one run: over every library, as a store without libraries
   is searched, and as one server asks (its library and the shared one), whose filters then filter;
   the ratio of the two p95s.
Targets: p95 <= 400 ms at 10k chunks, <= 1 s at 100k; lexical startup at 100k < 30 s; a server's p95 at
most 1.2x the unfiltered one.
The last line printed is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from answer.evaluate import corpus_clock, corpus_dir  # noqa: E402
from answer.extractive import compose  # noqa: E402
from answer.retrieve import Retrieval  # noqa: E402
from ingest.pipeline import pipeline_version  # noqa: E402
from newsdesk.settings import Paths, load_settings  # noqa: E402
from vectorstore.embeddings import build_embedder  # noqa: E402
from vectorstore.lexical import LexicalIndex  # noqa: E402
from vectorstore.records import SHARED, ChunkRecord, DocumentRecord, server_library  # noqa: E402
from vectorstore.search import HybridRetriever  # noqa: E402
from vectorstore.store import Store, open_store  # noqa: E402

MULTIHOP = ROOT.parent / "shared" / "eval" / "multihop"
CHUNKS_PER_DOC = 10


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latency(retrieval: Retrieval, questions: list[str], settings) -> dict[str, float]:
    compose(questions[0], retrieval.retrieve(questions[0]), settings.answer)  # warm: model, caches
    times = []
    for question in questions:
        started = time.perf_counter()
        compose(question, retrieval.retrieve(question), settings.answer)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "max_ms": round(times[-1], 1), "n": len(times)}


def synthetic_store(where: Path, chunks: int, embedder, settings, libraries: int = 0) -> Store:
    store = open_store(settings.chroma.model_copy(update={"host": None}), where, embedder)
    have = store.document_count()
    wanted = chunks // CHUNKS_PER_DOC
    if have >= wanted:
        return store
    words = " ".join(a["body"] for a in json.loads((MULTIHOP / "corpus.json").read_text())).split()
    sites = ["TechCrunch", "The Verge", "Wired", "Engadget", "The Guardian", "Fortune", "Reuters", "Ars Technica"]
    rng = random.Random(1)
    vectors = np.random.default_rng(1)
    started = time.perf_counter()
    for i in range(have, wanted):
        url = f"https://synthetic.example/{i}"
        doc_id = "d" + hashlib.sha256(url.encode()).hexdigest()[:31]
        library = SHARED if not libraries or i % libraries == 0 else server_library(i % libraries)
        site = sites[i % len(sites)]
        ts = 1_600_000_000 + rng.randrange(0, 5 * 365 * 86400)
        title = " ".join(rng.choice(words) for _ in range(8))
        texts = [" ".join(words[s:s + 150]) for s in (rng.randrange(0, len(words) - 150) for _ in range(CHUNKS_PER_DOC))]
        header = f"{title} | {site} | {time.strftime('%Y-%m-%d', time.gmtime(ts))}"
        recs = [ChunkRecord(chunk_id=f"{doc_id}-v1-{j:04d}", doc_id=doc_id, text=t, header=header, ordinal=j,
                            char_start=j * 1000, char_end=j * 1000 + len(t), version="v1", url=url, title=title,
                            site=site, published_ts=ts, library=library) for j, t in enumerate(texts)]
        doc = DocumentRecord(doc_id=doc_id, url=url, title=title, site=site, version="v1", chunks=len(recs),
                             published_ts=ts, library=library)
        vec = vectors.normal(size=(len(recs), 384))
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        store.replace_document(doc, recs, vec.tolist())
        if (i + 1) % 1000 == 0:
            print(f"  synthetic: {(i + 1) * CHUNKS_PER_DOC} chunks ({time.perf_counter() - started:.0f} s)", flush=True)
    return store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "data", help="DATA_DIR whose eval store to use")
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--libraries", type=int, default=0, help="spread the synthetic articles over N libraries")
    args = parser.parse_args()
    settings = load_settings(None, data_dir=args.store)
    embedder = build_embedder(settings.embedding)
    queries = json.loads((MULTIHOP / "queries-dev.json").read_text())
    questions = [q["query"] for q in random.Random(3).sample(queries, args.questions)]
    figures: dict[str, object] = {}

    where = corpus_dir(settings, MULTIHOP / "corpus.json", pipeline_version(settings.chunk))
    if (where / "chroma").exists():
        store = open_store(settings.chroma.model_copy(update={"host": None}), where, embedder)
        retrieval = Retrieval(HybridRetriever(store, settings.retrieval, Paths(where).lexical), settings.retrieval,
                              clock=corpus_clock(json.loads((MULTIHOP / "corpus.json").read_text())))
        retrieval.retriever.refresh(force=True)
        figures["corpus"] = {"chunks": len(retrieval.retriever.lexical), **latency(retrieval, questions, settings)}
        print("corpus store:", figures["corpus"], flush=True)
    else:
        print(f"no corpus store at {where}: run `newsdesk eval` first", flush=True)

    if args.synthetic:
        synth_dir = args.out / (f"synthetic-{args.synthetic}" + (f"-lib{args.libraries}" if args.libraries else ""))
        store = synthetic_store(synth_dir, args.synthetic, embedder, settings, args.libraries)
        lexical_dir = Paths(synth_dir).lexical
        shutil.rmtree(lexical_dir, ignore_errors=True)
        started = time.perf_counter()
        cold = LexicalIndex(store, index_dir=lexical_dir)
        cold.refresh(force=True)
        cold_s = time.perf_counter() - started
        del cold
        started = time.perf_counter()
        warm = LexicalIndex(store, index_dir=lexical_dir, refresh_seconds=settings.retrieval.refresh_seconds,
                            background=True)  # as HybridRetriever builds it
        warm.refresh(force=True)
        warm_s = time.perf_counter() - started
        retriever = HybridRetriever(store, settings.retrieval, lexical=warm)
        retrieval = Retrieval(retriever, settings.retrieval)
        figures["synthetic"] = {"chunks": len(warm), "lexical_cold_build_s": round(cold_s, 1),
                                "lexical_startup_s": round(warm_s, 1), "loaded_from_disk": warm.loaded_from_disk,
                                **latency(retrieval, questions, settings)}
        if args.libraries:
            server = retrieval.scoped([server_library(1), SHARED])
            scoped = latency(server, questions, settings)
            again = latency(retrieval, questions, settings)  # every library once more, for a fair pair
            figures["libraries"] = {"libraries": args.libraries, "all_p95_ms": again["p95_ms"],
                                    "server_p50_ms": scoped["p50_ms"], "server_p95_ms": scoped["p95_ms"],
                                    "server_chunks": store.chunk_count([server_library(1), SHARED]),
                                    "p95_ratio": round(scoped["p95_ms"] / again["p95_ms"], 2)}
            print("one server's libraries:", figures["libraries"], flush=True)
        timed = []  # ms: the reopen, then the same hybrid search right after it and once more
        for step in (store.reopen, *[lambda: retriever.search(questions[1])] * 2):
            started = time.perf_counter()
            step()
            timed.append(round((time.perf_counter() - started) * 1000, 1))
        figures["synthetic"].update(reopen_ms=timed[0], first_search_after_reopen_ms=timed[1],
                                    same_search_again_ms=timed[2])
        print("synthetic store:", figures["synthetic"], flush=True)
    figures["rss_mb"] = round(rss_mb(), 0)
    figures["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
