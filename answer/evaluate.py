"""`newsdesk eval`: retrieval and answer metrics on a MultiHop-RAG style corpus and query set.

The corpus is imported once into its own store under DATA_DIR/eval/<corpus sha256 prefix> (kept, and
reused when the same corpus comes again), then every query goes through the same `Retrieval` the bot
uses. Metrics follow the MultiHop-RAG paper (Tang & Yang 2024) so figures compare:
- fact hits@k: a gold fact, whitespace removed, is a substring of one of the top-k chunk texts
  (the chunk body, `ChunkRecord.text`, never the header), whitespace removed; MRR@10 likewise;
  null queries are excluded;
- article hits@10: a gold url among the top-10 chunks' urls; all gold@10: every gold url there;
- null_refusal / false_refusal: declined null queries / declined answerable ones;
- answer_accuracy (with an answer function, e.g. an LLM): the gold answer is contained in the reply.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from newsdesk.settings import Paths, Settings
from vectorstore.search import Hit

from .types import Answer

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
AnswerFn = Callable[[str, list[Hit]], Answer]  # question, retrieved hits -> answer
_WS = re.compile(r"\s+")
METRICS = ("fact_hits_at_4", "fact_hits_at_10", "fact_mrr_at_10", "article_hits_at_10", "all_gold_at_10",
           "null_refusal", "false_refusal", "answer_accuracy")


def squash(text: str) -> str:
    return _WS.sub("", text)


def url_key(url: str) -> str:
    """Loose URL identity (scheme, www., trailing slash, query and fragment ignored)."""
    url = re.sub(r"^https?://(www\.)?", "", url.strip().lower())
    return re.split(r"[?#]", url)[0].rstrip("/")


def score_query(query: dict[str, Any], hits: Sequence[Hit]) -> dict[str, float]:
    """Retrieval metrics of one answerable query (the paper's definitions)."""
    facts = [squash(e["fact"]) for e in query.get("evidence_list", []) if e.get("fact")]
    texts = [squash(h.chunk.text) for h in hits[:10]]
    first = next((rank for rank, text in enumerate(texts, 1) if any(f in text for f in facts)), None)
    gold = {url_key(e["url"]) for e in query.get("evidence_list", [])}
    urls = {url_key(h.chunk.url) for h in hits[:10]}
    return {
        "fact_hits_at_4": float(first is not None and first <= 4),
        "fact_hits_at_10": float(first is not None),
        "fact_mrr_at_10": 1.0 / first if first else 0.0,
        "article_hits_at_10": float(bool(gold & urls)),
        "all_gold_at_10": float(bool(gold) and gold <= urls),
    }


def is_correct(answer: Answer, gold: str) -> bool:
    return not answer.refused and gold.strip().lower().rstrip(".") in answer.text.lower()


def aggregate(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Means per metric, overall and per question_type; a metric absent from a row is not counted."""
    groups: dict[str, list[dict[str, Any]]] = {"overall": []}
    for row in rows:
        groups["overall"].append(row)
        groups.setdefault(row["question_type"], []).append(row)
    out: dict[str, Any] = {}
    for name, members in groups.items():
        summary: dict[str, Any] = {"queries": len(members)}
        for metric in METRICS:
            values = [r[metric] for r in members if r.get(metric) is not None]
            summary[metric] = round(sum(values) / len(values), 4) if values else None
        out[name] = summary
    return out


def corpus_clock(articles: Sequence[dict[str, Any]]) -> Callable[[], datetime]:
    """"Now" for a corpus snapshot: the day after its newest article ("last week" means its last week)."""
    dates = [datetime.fromisoformat(a["published_at"]) for a in articles if a.get("published_at")]
    now = max(dates).astimezone(UTC) + timedelta(days=1) if dates else datetime.now(UTC)
    return lambda: now


def evaluate(
    queries: Sequence[dict[str, Any]],
    retrieve: Callable[[str], list[Hit]],
    compose: AnswerFn,
    *,
    judge_answers: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every query; returns {"summary": per-type metrics, "rows": per-query figures}."""
    rows: list[dict[str, Any]] = []
    for i, query in enumerate(queries):
        hits = retrieve(query["query"])
        answer = compose(query["query"], hits)
        null = query["question_type"] == "null_query"
        row: dict[str, Any] = {"query": query["query"], "question_type": query["question_type"],
                               "refused": answer.refused}
        if null:
            row["null_refusal"] = float(answer.refused)
        else:
            row.update(score_query(query, hits))
            row["false_refusal"] = float(answer.refused)
        if judge_answers:
            row["answer_accuracy"] = float(answer.refused) if null else float(is_correct(answer, query["answer"]))
        rows.append(row)
        if progress:
            progress("queries", i + 1, len(queries))
    return {"summary": aggregate(rows), "rows": rows}


def corpus_dir(settings: Settings, corpus: Path) -> Path:
    digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:16]
    return Paths(settings.data_dir).eval_dir / digest


def run_eval(
    corpus: Path,
    queries: Path,
    *,
    settings: Settings,
    limit: int | None = None,
    progress: Progress | None = None,
    answer: AnswerFn | None = None,
    importer: Callable[[Any, Path, Progress | None], None] | None = None,
) -> dict[str, Any]:
    """Import `corpus` (once), run `queries` through Retrieval and an answer function, report metrics.

    `answer` defaults to the extractive composer; pass the LLM answer service's function to measure
    answer_accuracy. `importer(store, corpus, progress)` defaults to the ingest pipeline's bulk import.
    """
    from .extractive import compose

    where = corpus_dir(settings, corpus)
    store, retrieval = open_eval_retrieval(settings, where)
    marker = where / "imported.json"
    if not marker.exists():
        (importer or _bulk_importer(settings))(store, corpus, progress)
        marker.write_text(json.dumps({"corpus": str(corpus), "documents": store.document_count()}))
    retrieval.retriever.refresh(force=True)
    articles = json.loads(corpus.read_text())
    retrieval.clock = corpus_clock(articles)
    items = json.loads(queries.read_text())[: limit or None]
    compose_fn = answer or (lambda q, hits: compose(q, hits, settings.answer))
    report = evaluate(items, retrieval.retrieve, compose_fn, judge_answers=answer is not None, progress=progress)
    report["store"] = str(where)
    report["mode"] = "llm" if answer is not None else "extractive"
    return report


def open_eval_retrieval(settings: Settings, where: Path) -> tuple[Any, Any]:
    """An embedded store under `where` (whatever CHROMA_HOST says) and the Retrieval over it."""
    from vectorstore.embeddings import build_embedder
    from vectorstore.search import HybridRetriever
    from vectorstore.store import open_store

    from .retrieve import Retrieval

    chroma = settings.chroma.model_copy(update={"host": None})
    store = open_store(chroma, where, build_embedder(settings.embedding))
    retriever = HybridRetriever(store, settings.retrieval, Paths(where).lexical)
    return store, Retrieval(retriever, settings.retrieval)


def _bulk_importer(settings: Settings) -> Callable[[Any, Path, Progress | None], None]:
    def run(store: Any, corpus: Path, progress: Progress | None) -> None:
        # The default wiring is the ingest pipeline's bulk import: the one place answer/ touches ingest/.
        from ingest.bulk import iter_articles
        from ingest.errors import IngestError
        from ingest.pipeline import Pipeline

        articles = list(iter_articles(corpus))
        pipeline = Pipeline(store, settings.chunk, settings.fetch)
        for done, result in enumerate(pipeline.ingest_articles(articles), 1):
            if isinstance(result, IngestError):
                log.warning("eval import: %s", result)
            if progress:
                progress("import", done, len(articles))

    return run


def format_table(report: dict[str, Any]) -> Any:
    """A rich Table: one row per question type (overall first), one column per metric."""
    from rich.table import Table

    summary = report["summary"]
    shown = [m for m in METRICS if any(s.get(m) is not None for s in summary.values())]
    table = Table(title=f"newsdesk eval ({report.get('mode', 'extractive')})")
    table.add_column("question type")
    table.add_column("n", justify="right")
    for metric in shown:
        table.add_column(metric.replace("_at_", "@").replace("_", " "), justify="right")
    order = ["overall", *sorted(k for k in summary if k != "overall")]
    for name in order:
        s = summary[name]
        table.add_row(name, str(s["queries"]), *("-" if s[m] is None else f"{s[m]:.3f}" for m in shown))
    return table
