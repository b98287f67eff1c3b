"""`newsdesk eval`: retrieval and answer metrics on a MultiHop-RAG style corpus and query set.

The corpus is imported once into its own store under DATA_DIR/eval/<corpus sha256 prefix> (kept, and
reused when the same corpus comes again), then every query goes through the same `Retrieval` the bot
uses. Metrics follow the MultiHop-RAG paper (Tang & Yang 2024) so figures compare:
- fact hits@k: a gold fact, whitespace removed, is a substring of one of the top-k chunk texts
  (the chunk body, `ChunkRecord.text`, never the header), whitespace removed; MRR@10 likewise;
  null queries are excluded;
- article hits@10: a gold url among the top-10 chunks' urls; all gold@10: every gold url there;
- null_refusal / false_refusal: declined null queries / declined answerable ones;
- answer quality, in both modes, over answerable queries: answer_accuracy (the paper's lenient check: the
  gold answer is in the answer, as words: "no" is not found in "not"); name_accuracy, the same over
  queries whose gold answer is a name (not a Yes/No or a verdict like "Consistent"); lead_accuracy, the
  answer's first line (its first 15 words) holds the gold name; the *_rest pair of both without the three
  commonest gold names of the query set (two thirds of MultiHop-RAG's inference answers are three names);
  junk_sentence_rate, the share of quoted sentences that occur word for word in 3 or more corpus articles;
- with an LLM, the support check: reply_support (the model's cited sentences whose citations held before
  anything was dropped or moved), recited and dropped (counts of sentences).

The eval store is keyed by the corpus, the ingest pipeline's version and the embedder: a change to any of
them builds a new store (the old one stays until removed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsdesk.settings import Paths, Settings
from vectorstore.search import Hit
from vectorstore.text import sentence_key, sentence_keys, split_sentences

from .service import AnswerService
from .types import Answer

if TYPE_CHECKING:
    from .llm import LLMAnswerer

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
AnswerFn = Callable[[str, list[Hit]], Answer]  # question, retrieved hits -> answer
_WS = re.compile(r"\s+")
METRICS = ("fact_hits_at_4", "fact_hits_at_10", "fact_mrr_at_10", "article_hits_at_10", "all_gold_at_10",
           "null_refusal", "false_refusal", "answer_accuracy", "name_accuracy", "lead_accuracy",
           "name_accuracy_rest", "lead_accuracy_rest", "junk_sentence_rate", "reply_support", "recited", "dropped")
LEAD_WORDS = 15
JUNK_ARTICLES = 3
# Gold answers that are a verdict, not a name (their first word).
VERDICTS = {"yes", "no", "true", "false", "agree", "agreement", "agreed", "align", "aligned", "consistent",
            "consistency", "inconsistent", "similar", "same", "different", "contradictory", "before", "after",
            "smaller", "larger", "superior", "inferior", "win", "lose", "higher", "lower", "more", "less",
            "insufficient", "increase", "decrease", "neither", "both", "none"}
_MARKS = re.compile(r"\s*\[\d+\]|\*\*")


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


def plain(text: str) -> str:
    """Answer text without [n] marks and bold."""
    return _MARKS.sub("", text)


def contains(text: str, gold: str) -> bool:
    """The gold answer is in the text as words (case ignored): "no" is not found in "not"."""
    gold = gold.strip().rstrip(".").strip()
    return bool(gold) and re.search(rf"(?<!\w){re.escape(gold)}(?!\w)", plain(text), re.IGNORECASE) is not None


def is_correct(answer: Answer, gold: str) -> bool:
    return not answer.refused and contains(answer.text, gold)


def is_name(gold: str) -> bool:
    words = gold.strip().rstrip(".").lower().split()
    return bool(words) and words[0] not in VERDICTS


def first_line(text: str) -> str:
    return " ".join(plain(text).strip().split("\n", 1)[0].split()[:LEAD_WORDS])


def commonest_names(queries: Sequence[dict[str, Any]], n: int = 3) -> set[str]:
    counts: dict[str, int] = {}
    for q in queries:
        if q["question_type"] != "null_query" and is_name(q["answer"]):
            key = q["answer"].strip().rstrip(".").lower()
            counts[key] = counts.get(key, 0) + 1
    return set(sorted(counts, key=lambda k: -counts[k])[:n])


def recurring_sentences(articles: Iterable[dict[str, Any]], at_least: int = JUNK_ARTICLES) -> set[int]:
    """Keys of the sentences that occur in `at_least` articles of the corpus."""
    counts: dict[int, int] = {}
    for article in articles:
        for key in sentence_keys(article.get("body", "")).tolist():
            counts[key] = counts.get(key, 0) + 1
    return {k for k, c in counts.items() if c >= at_least}


def answer_scores(answer: Answer, gold: str, common: set[str], junk: set[int] | None) -> dict[str, Any]:
    """Answer metrics of one answerable query."""
    row: dict[str, Any] = {"answer_accuracy": float(is_correct(answer, gold))}
    if is_name(gold):
        named = float(is_correct(answer, gold))
        led = float(not answer.refused and contains(first_line(answer.text), gold))
        row.update(name_accuracy=named, lead_accuracy=led)
        if gold.strip().rstrip(".").lower() not in common:
            row.update(name_accuracy_rest=named, lead_accuracy_rest=led)
    if junk is not None and not answer.refused:
        text = plain(answer.text)
        body = text.partition("\n")[2] if answer.lead else text  # the lead line is no quoted sentence
        keys = [sentence_key(s) for s in split_sentences(body)]
        keys = [k for k in keys if k is not None]
        row.update(answer_sentences=len(keys), junk_sentences=sum(k in junk for k in keys))
    return row


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
        cited = sum(r.get("cited_sentences", 0) for r in members)
        if cited:  # an LLM's sentences whose citations held before anything was dropped or moved
            moved = sum(r.get("recited", 0) for r in members)
            lost = sum(r.get("dropped", 0) for r in members)
            summary.update(reply_support=round((cited - moved - lost) / cited, 4), recited=moved, dropped=lost)
        sentences = sum(r.get("answer_sentences", 0) for r in members)
        if sentences:  # a share of all quoted sentences, not a mean of per-answer shares
            summary["junk_sentence_rate"] = round(sum(r.get("junk_sentences", 0) for r in members) / sentences, 4)
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
    junk: set[int] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every query; returns {"summary": per-type metrics, "rows": per-query figures and answers}.
    `junk`: keys of the corpus's recurring sentences, for junk_sentence_rate."""
    rows: list[dict[str, Any]] = []
    common = commonest_names(queries)
    for i, query in enumerate(queries):
        hits = retrieve(query["query"])
        answer = compose(query["query"], hits)
        null = query["question_type"] == "null_query"
        row: dict[str, Any] = {"query": query["query"], "question_type": query["question_type"],
                               "gold": query.get("answer", ""), "refused": answer.refused, "answer": answer.text,
                               "lead": answer.lead}
        if null:
            row["null_refusal"] = float(answer.refused)
        else:
            row.update(score_query(query, hits))
            row["false_refusal"] = float(answer.refused)
            row.update(answer_scores(answer, query.get("answer", ""), common, junk))
        if answer.support:
            row.update(cited_sentences=answer.support.get("cited", 0), recited=answer.support.get("recited", 0),
                       dropped=answer.support.get("dropped", 0))
        rows.append(row)
        if progress:
            progress("queries", i + 1, len(queries))
    return {"summary": aggregate(rows), "rows": rows}


def corpus_dir(settings: Settings, corpus: Path, pipeline: str = "") -> Path:
    """Where the eval store of this corpus, ingest pipeline version and embedder lives."""
    digest = hashlib.sha256(corpus.read_bytes())
    digest.update(f"\0{pipeline}\0{settings.embedding.model}".encode())
    return Paths(settings.data_dir).eval_dir / digest.hexdigest()[:16]


def run_eval(
    corpus: Path,
    queries: Path,
    *,
    settings: Settings,
    limit: int | None = None,
    progress: Progress | None = None,
    answer: AnswerFn | None = None,
    llm: LLMAnswerer | None = None,
    importer: Callable[[Any, Path, Progress | None], None] | None = None,
) -> dict[str, Any]:
    """Import `corpus` (once), run `queries` through Retrieval and an answer function, report metrics.

    Answers come from the answer service over the eval store: extractive, or with `llm` the model's
    (with the same fallbacks as the bot). `answer(question, hits)` replaces both (tests).
    `importer(store, corpus, progress)` defaults to the ingest pipeline's bulk import.
    """
    where = corpus_dir(settings, corpus, _pipeline_version(settings))
    store, retrieval = open_eval_retrieval(settings, where)
    marker = where / "imported.json"
    if not marker.exists():
        (importer or _bulk_importer(settings))(store, corpus, progress)
        marker.write_text(json.dumps({"corpus": str(corpus), "documents": store.document_count()}))
    retrieval.retriever.refresh(force=True)
    articles = json.loads(corpus.read_text())
    retrieval.clock = corpus_clock(articles)
    items = json.loads(queries.read_text())[: limit or None]
    service = AnswerService(retrieval, settings.answer, llm)  # over the eval store, fallbacks and all
    report = evaluate(items, retrieval.retrieve, answer or service.answer_hits_sync,
                      junk=recurring_sentences(articles), progress=progress)
    service.close()
    report["store"] = str(where)
    report["mode"] = "llm" if answer is not None or llm is not None else "extractive"
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


def _pipeline_version(settings: Settings) -> str:
    from ingest.pipeline import pipeline_version

    return pipeline_version(settings.chunk)


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
        table.add_row(name, str(s["queries"]), *("-" if s[m] is None else str(s[m]) if isinstance(s[m], int)
                                                 else f"{s[m]:.3f}" for m in shown))
    return table
