"""Chunking against the real tokenizer, and canonical URLs / document ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.chunk import HEADER_MAX_TOKENS, body_budget, fit_header, make_header, split_spans
from ingest.urls import canonical_url, doc_id_for


def _article_body(paragraphs: int = 12) -> str:
    sentences = [
        "Anthropic said on Tuesday that its newest model scored 71.2 percent on the SWE-bench Verified benchmark.",
        "The company's chief scientist told reporters the result came from longer training rather than a new architecture.",
        "Rivals including OpenAI and Google DeepMind have published competing figures over the past month.",
        "Analysts at Bernstein cautioned that benchmark gains do not always translate into revenue.",
    ]
    return "\n\n".join(" ".join(sentences[(i + j) % 4] for j in range(4)) for i in range(paragraphs))


def test_no_embedded_text_exceeds_the_model_limit(embedder) -> None:
    body = _article_body(30) + " " + "x" * 3000 + " supercalifragilistic" * 400  # a run-on tail with no sentences
    header = fit_header(make_header("A" * 20 + " title " * 120, "The Verge", datetime(2026, 3, 12)), embedder)
    assert len(embedder.token_offsets(header)) <= HEADER_MAX_TOKENS + 2
    spans = split_spans(body, embedder, body_budget(header, embedder, 200), 40)
    assert len(spans) > 10
    for a, b in spans:
        assert embedder.count_tokens(f"{header}\n{body[a:b]}") <= embedder.max_tokens == 256


def test_chunks_are_about_200_tokens_of_whole_sentences_with_overlap(embedder) -> None:
    body = _article_body()
    header = make_header("Anthropic tops coding benchmark", "TechCrunch", datetime(2026, 3, 12, tzinfo=UTC))
    assert header == "Anthropic tops coding benchmark | TechCrunch | 2026-03-12"
    spans = split_spans(body, embedder, body_budget(header, embedder, 200), 40)
    sizes = [len(embedder.token_offsets(body[a:b])) for a, b in spans]
    assert all(s <= 200 for s in sizes) and min(sizes[:-1]) >= 120
    for (a1, b1), (a2, _) in zip(spans, spans[1:], strict=False):
        assert a2 < b1, "consecutive chunks overlap"
        assert a2 > a1, "every chunk moves forward"
    for a, b in spans:  # chunks start and end on sentence borders
        assert body[a].isupper() and body[b - 1] == "."
    covered = set()
    for a, b in spans:
        covered.update(range(a, b))
    assert all(i in covered for i, ch in enumerate(body) if not ch.isspace())


def test_empty_body_has_no_chunks(embedder) -> None:
    assert split_spans("   \n\n ", embedder, 200, 40) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM:443/a/b?utm_source=x&id=3#top", "https://example.com/a/b?id=3"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x?fbclid=1&gclid=2", "http://example.com:8080/x"),
        ("https://www.theverge.com/2026/3/12/story?ref_src=twsrc&page=2", "https://www.theverge.com/2026/3/12/story?page=2"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_doc_id_is_the_same_for_every_spelling_of_a_url() -> None:
    a = doc_id_for("https://example.com/story?utm_medium=rss#comments")
    assert a == doc_id_for("HTTPS://EXAMPLE.com:443/story")
    assert a != doc_id_for("https://example.com/other-story")
    assert a.startswith("d") and len(a) == 32
