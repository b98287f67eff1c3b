"""A real embedded store holding small AI-industry articles with known answers, dates and outlets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsdesk.settings import RetrievalSettings
from vectorstore.records import ChunkRecord, DocumentRecord
from vectorstore.store import Store, open_store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Article:
    url: str
    title: str
    site: str
    published: str  # YYYY-MM-DD
    paragraphs: Sequence[str]  # one chunk each

    @property
    def doc_id(self) -> str:
        return "d" + hashlib.sha256(self.url.encode()).hexdigest()[:31]


ARTICLES = [
    Article("https://techcrunch.example/anthropic-amazon", "Anthropic raises $4 billion from Amazon", "TechCrunch",
            "2026-03-10", ["Anthropic said on Tuesday that Amazon will invest $4 billion in the company. "
                           "The deal makes Amazon Web Services the primary cloud provider for Anthropic's Claude "
                           "models. Anthropic was founded in 2021 by former OpenAI researchers."]),
    Article("https://theverge.example/openai-devices", "OpenAI shows its first hardware device", "The Verge",
            "2026-03-18", ["OpenAI showed its first consumer hardware device at an event in San Francisco. "
                           "The pocket-sized device has no screen and answers questions by voice. "
                           "It goes on sale in the autumn for $249."]),
    Article("https://wired.example/nvidia-old", "Nvidia posts record revenue", "Wired", "2025-11-05",
            ["Nvidia reported record quarterly revenue of $35 billion, driven by data center chips. "
             "Demand for its Blackwell accelerators outstripped supply, the company said."]),
    Article("https://techcrunch.example/nvidia-new", "Nvidia unveils the Rubin Ultra chip", "TechCrunch",
            "2026-11-20", ["Nvidia unveiled the Rubin Ultra chip, its newest data center accelerator. "
                           "The company said Rubin Ultra doubles inference throughput over Blackwell chips."]),
    Article("https://theverge.example/google-plans", "Google doubles down on Gemini", "The Verge", "2026-09-10",
            ["Google said it would put Gemini into every Workspace app by the end of the year. "
             "Sundar Pichai called Gemini the company's most important product."]),
    Article("https://theverge.example/google-layoffs", "Google lays off cloud staff", "The Verge", "2026-10-01",
            ["Google laid off about 200 employees in its cloud division, the company confirmed. "
             "The layoffs hit sales and support teams in the United States."]),
    Article("https://longreads.example/mistral-profile", "Inside Mistral, Europe's AI champion", "Longreads",
            "2026-06-01",
            [f"Mistral engineers in Paris describe part {i} of how the startup trains open-weight models on "
             f"European clusters. Mistral says its models are efficient." for i in range(1, 7)]),
    Article("https://eunews.example/mistral-funding", "Mistral raises 600 million euros", "EU News", "2026-06-05",
            ["Mistral raised 600 million euros in a round led by General Catalyst. "
             "The Paris startup is now valued at 6 billion euros."]),
]


def _chunks(article: Article) -> list[ChunkRecord]:
    published = datetime.fromisoformat(article.published).replace(tzinfo=UTC)
    version = hashlib.sha256("".join(article.paragraphs).encode()).hexdigest()[:16]
    header = f"{article.title} | {article.site} | {article.published}"
    out, offset = [], 0
    for i, text in enumerate(article.paragraphs):
        out.append(ChunkRecord(
            chunk_id=f"{article.doc_id}-{version[:12]}-{i:04d}", doc_id=article.doc_id, text=text, header=header,
            ordinal=i, char_start=offset, char_end=offset + len(text), version=version, url=article.url,
            title=article.title, site=article.site, published=published.isoformat(),
            published_ts=int(published.timestamp())))
        offset += len(text) + 2
    return out


def put_article(store: Store, article: Article) -> str:
    """Write `article` (one chunk per paragraph) the way the pipeline does: chunks, then the manifest."""
    chunks = _chunks(article)
    first = chunks[0]
    doc = DocumentRecord(doc_id=article.doc_id, url=article.url, title=article.title, site=article.site,
                         version=first.version, chunks=len(chunks), published=first.published,
                         published_ts=first.published_ts)
    return store.replace_document(doc, chunks, store.embedder.embed_documents([c.embed_text for c in chunks]))


def retrieval_settings(**overrides: object) -> RetrievalSettings:
    return RetrievalSettings(_env_file=None, **{"refresh_seconds": 0.0, **overrides})  # type: ignore[arg-type]


def store_with(articles: Sequence[Article], where: Path, embedder) -> Store:
    """A fresh embedded store under `where` holding `articles`."""
    from tests.conftest import make_settings

    settings = make_settings(where)
    store = open_store(settings.chroma, settings.data_dir, embedder, retries=0)
    for article in articles:
        put_article(store, article)
    return store


@pytest.fixture(scope="module")
def news_store(tmp_path_factory: pytest.TempPathFactory, embedder) -> Store:
    """Shared by a module's tests, which only read it."""
    return store_with(ARTICLES, tmp_path_factory.mktemp("news"), embedder)


def make_retrieval(store: Store, where: Path, **overrides: object):
    """A Retrieval over `store` (its lexical index under `where`) at NOW, settings changed by `overrides`."""
    from answer.retrieve import Retrieval
    from vectorstore.search import HybridRetriever

    settings = retrieval_settings(**overrides)
    return Retrieval(HybridRetriever(store, settings, where), settings, clock=lambda: NOW)


@pytest.fixture
def retrieval(news_store: Store, tmp_path: Path):
    return make_retrieval(news_store, tmp_path / "lexical")


def by_url(url: str) -> Article:
    return next(a for a in ARTICLES if a.url == url)
