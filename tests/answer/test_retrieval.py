"""Retrieval over a real embedded Chroma with the real MiniLM embedder: outlets, dates, recency, diversity."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from answer.retrieve import Retrieval, merge_round_robin
from answer.types import Turn
from tests.answer.conftest import ARTICLES, by_url, make_retrieval, retrieval_settings
from vectorstore.search import HybridRetriever


def urls(hits) -> list[str]:
    return [h.chunk.url for h in hits]


def test_every_hit_carries_its_source_and_date(retrieval: Retrieval) -> None:
    hits = retrieval.retrieve("Which company will invest $4 billion in Anthropic?")
    assert hits[0].chunk.url == "https://techcrunch.example/anthropic-amazon"
    assert all(h.chunk.published and h.chunk.published_ts for h in hits)
    assert hits[0].chunk.published.startswith("2026-03-10")
    assert hits[0].lexical is not None and hits[0].dense is not None


def test_known_sites_are_the_stores(retrieval: Retrieval) -> None:
    assert retrieval.known_sites() == sorted({a.site for a in ARTICLES})


def test_named_outlets_each_get_into_the_context(retrieval: Retrieval) -> None:
    question = "What did wired and the verge report about data center chips?"
    plan = retrieval.plan(question)
    assert plan.sites == ["Wired", "The Verge"]
    hits = retrieval.retrieve(question, k=2)
    assert {"Wired", "The Verge"} <= {h.chunk.site for h in hits}
    # The plain search alone ranks TechCrunch's chip story above anything from The Verge.
    plain = retrieval.retriever.search(question, k=2)
    assert "The Verge" not in {h.chunk.site for h in plain}


def test_site_filter_keeps_to_the_site(retrieval: Retrieval) -> None:
    hits = retrieval.retriever.search("Nvidia chips revenue", sites=["Wired"])
    assert hits and {h.chunk.site for h in hits} == {"Wired"}


def test_a_month_in_the_question_filters_by_date(retrieval: Retrieval) -> None:
    hits = retrieval.retrieve("What happened in AI in March 2026?")
    assert set(urls(hits)) == {"https://techcrunch.example/anthropic-amazon", "https://theverge.example/openai-devices"}
    for hit in hits:
        assert datetime.fromtimestamp(hit.chunk.published_ts, UTC).strftime("%Y-%m") == "2026-03"


def test_relative_dates_use_the_injected_clock(retrieval: Retrieval) -> None:
    hits = retrieval.retrieve("What did Nvidia announce in the past two weeks?")
    assert urls(hits) == ["https://techcrunch.example/nvidia-new"]
    retrieval.clock = lambda: datetime(2025, 11, 10, tzinfo=UTC)
    assert urls(retrieval.retrieve("What did Nvidia announce in the past two weeks?")) == [
        "https://wired.example/nvidia-old"]


def test_latest_favours_newer_articles(retrieval: Retrieval) -> None:
    question = "Nvidia record revenue data center chips Blackwell demand"
    plain = retrieval.retriever.search(question)
    assert plain[0].chunk.url == "https://wired.example/nvidia-old"  # the better text match
    latest = retrieval.retrieve(f"What is the latest on {question}?")
    assert latest[0].chunk.url == "https://techcrunch.example/nvidia-new"


def test_an_event_dates_the_window(retrieval: Retrieval) -> None:
    hits = retrieval.retrieve("What did Google say about Gemini before the layoffs were reported?")
    layoffs = by_url("https://theverge.example/google-layoffs")
    assert "https://theverge.example/google-plans" in urls(hits)
    assert all(h.chunk.published < layoffs.published for h in hits)


def test_at_most_max_per_doc_chunks_of_one_article(news_store, tmp_path) -> None:
    question = "How does Mistral train its models in Paris, and how much money did Mistral raise?"
    loose = retrieval_settings(max_per_doc=10, top_k=4)
    hits = HybridRetriever(news_store, loose, tmp_path / "a").search(question)
    assert Counter(h.chunk.doc_id for h in hits).most_common(1)[0][1] >= 3  # the long profile crowds the context
    hits = make_retrieval(news_store, tmp_path / "b", max_per_doc=2, top_k=4).retrieve(question)
    assert max(Counter(h.chunk.doc_id for h in hits).values()) <= 2
    assert "https://eunews.example/mistral-funding" in urls(hits)


def test_a_follow_up_borrows_the_earlier_question(retrieval: Retrieval) -> None:
    follow_up = "Which were affected?"
    assert all(h.lexical is None for h in retrieval.retrieve(follow_up))  # no word of it is in any article
    history = [Turn("How many people did Google lay off in its cloud division?", "About 200 [1].")]
    hits = retrieval.retrieve(follow_up, history)
    assert hits[0].chunk.url == "https://theverge.example/google-layoffs" and hits[0].lexical


def test_round_robin_merge_interleaves_and_dedupes(retrieval: Retrieval) -> None:
    a = retrieval.retriever.search("Nvidia", sites=["Wired"])
    b = retrieval.retriever.search("Nvidia", sites=["TechCrunch"])
    merged = merge_round_robin([a, b, a + b], 10, 3)
    assert [h.chunk.site for h in merged[:2]] == ["Wired", "TechCrunch"]
    assert len({h.chunk.chunk_id for h in merged}) == len(merged)
