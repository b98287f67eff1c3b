"""Load benchmark: the real bot (discord.py on SimCord) over the real extractive AnswerService and a real store.

    python bench/load.py [--corpus ../shared/eval/multihop/corpus.json] [--articles 40] [--users 50] [--asks 1000]

1. `--users` members ask at once (all acknowledged before any is answered) while an admin ingests a long
   article from a loopback site: answer latency p50/p95/max from the release, the ingest's duration,
   the event loop's lag (how long an interaction would wait before the bot could acknowledge it) and the
   virtual seconds the acknowledgements took (Discord allows 3).
2. `--asks` asks in a row by one member (no cooldown): RSS after a warm-up and at the end, and the growth.

Prints the figures, then one JSON line. Takes a few minutes on 2 cores (mostly embedding the store).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import simcord  # noqa: E402

from bot import create_bot  # noqa: E402
from ingest.bulk import iter_articles  # noqa: E402
from ingest.extract import Article  # noqa: E402
from newsdesk.settings import FetchSettings  # noqa: E402
from newsdesk.wiring import Services  # noqa: E402
from tests.load.harness import (  # noqa: E402
    SETTLE,
    Load,
    fifty_at_once,
    in_a_row,
    load_settings,
    make_world,
    percentile,
    start_extraction_workers,
    stock,
)
from tests.support.httpserver import LoopbackServer  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/eval/multihop/corpus.json"
DEFAULT_QUERIES = DEFAULT_CORPUS.with_name("queries-dev.json")


def questions_for(queries_path: Path, urls: set[str], wanted: int) -> list[str]:
    """Dev questions whose evidence is all in the stored slice (real answers), then any others."""
    queries = json.loads(queries_path.read_text(encoding="utf-8"))
    covered = [q["query"] for q in queries if q["evidence_list"] and {e["url"] for e in q["evidence_list"]} <= urls]
    others = [q["query"] for q in queries if q["query"] not in covered]
    return (covered + others)[:wanted]


def article_page(article: Article) -> bytes:
    title = html.escape(article.title)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article.body.split("\n") if p.strip())
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>").encode()


async def run(args: argparse.Namespace) -> dict[str, object]:
    articles = [a for a in iter_articles(args.corpus) if not isinstance(a, Exception)]
    stored, extra = articles[: args.articles], max(articles[args.articles :], key=lambda a: len(a.body))
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as site:
        site.routes["/robots.txt"] = (404, {}, b"")
        site.routes["/article"] = (200, {"Content-Type": "text/html; charset=utf-8"}, article_page(extra))
        fetch = FetchSettings(_env_file=None, allow_networks=[f"127.0.0.1/32:{site.port}"])  # type: ignore[call-arg]
        settings = load_settings(Path(tmp)).model_copy(update={"fetch": fetch})
        started = time.perf_counter()
        services = Services(settings, store_retries=0)
        stock(services, stored)
        stats = services.stats()
        print(f"store: {stats['documents']} articles, {stats['chunks']} chunks in {time.perf_counter() - started:.0f} s",
              flush=True)
        questions = questions_for(args.queries, {a.url for a in stored}, max(args.users, 50))
        await start_extraction_workers()
        load = Load(services)
        async with simcord.run(create_bot(settings, services=load), settle_timeout=SETTLE) as env:
            world, users = make_world(env, args.users)
            burst = await fifty_at_once(world, users, load, questions, site.url("/article"))
            answered = sum("[" in r.response.content for r in burst.results)
            print(f"{args.users} at once + ingest ({len(extra.body)} chars): answers p50 "
                  f"{percentile(burst.latencies, 50):.2f} s, p95 {percentile(burst.latencies, 95):.2f} s, "
                  f"max {max(burst.latencies):.2f} s; ingest {burst.ingest_seconds:.2f} s; all done in "
                  f"{burst.wall:.2f} s; loop lag p95 {1000 * percentile(burst.loop_lag, 95):.0f} ms, max "
                  f"{1000 * max(burst.loop_lag):.0f} ms; acknowledged within {burst.dispatch_virtual:.1f} virtual s; "
                  f"{answered}/{args.users} answered with citations", flush=True)
            row = await in_a_row(world, users[0], questions, args.asks, warmup=20, every=100)
            print(f"{args.asks} asks in a row: RSS {row['rss_start_mb']:.0f} MB -> {row['rss_end_mb']:.0f} MB "
                  f"({100 * row['rss_growth']:+.1f} %), per ask p50 {percentile(row['seconds'], 50):.3f} s, "
                  f"p95 {percentile(row['seconds'], 95):.3f} s", flush=True)
            print("RSS samples (asks, MB): " + ", ".join(f"{n}: {b / 1e6:.0f}" for n, b in row["samples"]))
    return {
        "bench": "load", "articles": stats["documents"], "chunks": stats["chunks"], "users": args.users,
        "answer_p50_s": round(percentile(burst.latencies, 50), 3), "answer_p95_s": round(percentile(burst.latencies, 95), 3),
        "answer_max_s": round(max(burst.latencies), 3), "ingest_s": round(burst.ingest_seconds or 0, 3),
        "burst_wall_s": round(burst.wall, 3), "loop_lag_p95_ms": round(1000 * percentile(burst.loop_lag, 95), 1),
        "loop_lag_max_ms": round(1000 * max(burst.loop_lag), 1), "ack_virtual_s": burst.dispatch_virtual,
        "answered": answered, "asks_in_a_row": args.asks, "rss_start_mb": round(row["rss_start_mb"], 1),
        "rss_end_mb": round(row["rss_end_mb"], 1), "rss_growth": round(row["rss_growth"], 4),
        "ask_p50_s": round(percentile(row["seconds"], 50), 3), "ask_p95_s": round(percentile(row["seconds"], 95), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--articles", type=int, default=40, help="articles in the store")
    parser.add_argument("--users", type=int, default=50, help="members asking at once")
    parser.add_argument("--asks", type=int, default=1000, help="asks in a row for the memory check")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
