"""URL / file -> the store, end to end: a loopback server with news-site pages, a real Chroma
(embedded and `chroma run`), the real extractor, chunker and embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import BlockedAddressError, ExtractError
from ingest.pipeline import Pipeline
from tests.conftest import make_settings
from tests.support.pdf import make_pdf

pytestmark = pytest.mark.asyncio
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def site(http_server):
    http_server.routes.update({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
        "/2025/03/halcyon": (200, HTML, (PAGES / "aiwire_article.html").read_bytes()),
        "/eu": (200, {"Content-Type": "text/html"}, (PAGES / "eurotech_cp1252.html").read_bytes()),
        "/paper.pdf": (200, {"Content-Type": "application/pdf"}, make_pdf(
            ["Sparse Mixtures at Scale\n\nWe train a 1.2 trillion parameter sparse mixture-of-experts model. "
             "Routing uses a learned top-2 gate over 128 experts per layer, and the model matches a dense "
             "baseline at a fifth of the training compute. " * 3,
             "Results. On the held-out reasoning suite the sparse model scores 81.4 percent. " * 4],
            title="Sparse Mixtures at Scale", author="R. Ito")),
        "/notes.txt": (200, {"Content-Type": "text/plain; charset=utf-8"},
                       ("Weekly model notes\n\n" + "Open-weight releases this week included three coding models "
                        "and a small vision-language model from a university lab. " * 8).encode()),
        "/login": (200, HTML, (PAGES / "login.html").read_bytes()),
    })
    return http_server


@pytest.fixture
def pipeline(store, site, tmp_path):
    settings = make_settings(tmp_path, fetch={"allow_networks": [f"127.0.0.1/32:{site.port}"]})
    return Pipeline(store, settings.chunk, settings.fetch)


async def test_a_news_page_becomes_cited_chunks(pipeline: Pipeline, site) -> None:
    result = await pipeline.ingest_url(site.url("/2025/03/halcyon?utm_source=twitter#comments"))
    assert result.status == "new" and result.chunks >= 2
    assert result.title == "Halcyon Labs raises $400M to build inference chips that sip power"
    assert result.site == "The AI Wire" and result.published.startswith("2025-03-04")
    assert result.url == site.url("/2025/03/halcyon")  # tracking parameters and fragment gone

    doc = pipeline.store.get_document(result.doc_id)
    chunks = pipeline.store.chunks_of(result.doc_id)
    assert doc.author == "Priya Raman" and doc.published_ts == 1741098600  # 09:30 EST
    body = " ".join(c.text for c in chunks)
    assert "raised $400 million in a Series C round led by Northgate Capital" in body
    assert "order of magnitude" in body and "open-source licence" in body
    for boilerplate in ("cookies", "Accept all", "Podcasts", "techwatcher99", "substation", "Sign up for our free",
                        "Geothermal", "Related stories", "All rights reserved"):
        assert boilerplate.lower() not in body.lower(), boilerplate
    for chunk in chunks:
        assert chunk.header == "Halcyon Labs raises $400M to build inference chips that sip power | The AI Wire | 2025-03-04"
        assert "The AI Wire |" not in chunk.text  # the header is embedded, never stored as text
        assert chunk.url == result.url and chunk.published_ts == 1741098600 and chunk.site == "The AI Wire"
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(c.char_end - c.char_start == len(c.text) for c in chunks)


async def test_non_utf8_pdf_and_text(pipeline: Pipeline, site) -> None:
    eu = await pipeline.ingest_url(site.url("/eu"))
    assert eu.site == "EuroTech Ledger"
    # cp1252-only characters (0x80 euro sign, 0x92 right quote) decode right: the page declares its
    # charset only in a <meta> tag.
    assert eu.title == "Europe’s AI start-ups win €2bn sovereign compute fund"
    assert "approved a €2 billion fund" in " ".join(c.text for c in pipeline.store.chunks_of(eu.doc_id))
    pdf = await pipeline.ingest_url(site.url("/paper.pdf"))
    assert pdf.title == "Sparse Mixtures at Scale"
    assert "81.4 percent" in " ".join(c.text for c in pipeline.store.chunks_of(pdf.doc_id))
    txt = await pipeline.ingest_url(site.url("/notes.txt"))
    assert txt.title == "Weekly model notes" and txt.chunks >= 1


async def test_reingest_is_a_noop_changed_content_replaces_and_forget_removes(pipeline: Pipeline, site) -> None:
    url = site.url("/2025/03/halcyon")
    first = await pipeline.ingest_url(url)
    before = pipeline.store.chunks_of(first.doc_id)
    again = await pipeline.ingest_url(url + "?utm_campaign=x")
    assert again.status == "unchanged" and again.doc_id == first.doc_id
    assert [c.chunk_id for c in pipeline.store.chunks_of(first.doc_id)] == [c.chunk_id for c in before]

    page = (PAGES / "aiwire_article.html").read_bytes().replace(b"$400 million", b"$450 million")
    site.routes["/2025/03/halcyon"] = (200, HTML, page)
    changed = await pipeline.ingest_url(url)
    assert changed.status == "updated"
    after = pipeline.store.chunks_of(first.doc_id)
    text = " ".join(c.text for c in after)
    assert "$450 million" in text and "$400 million" not in text
    assert not {c.chunk_id for c in before} & {c.chunk_id for c in after}
    assert pipeline.store.raw_chunk_count() == len(after)  # no old chunk left behind

    forgotten = pipeline.forget(f"HTTP://127.0.0.1:{site.port}/2025/03/halcyon#top")
    assert forgotten is not None and forgotten.doc_id == first.doc_id
    assert pipeline.store.chunks_of(first.doc_id) == [] and pipeline.store.raw_chunk_count() == 0
    assert pipeline.forget(url) is None


async def test_failures_store_nothing(pipeline: Pipeline, site) -> None:
    with pytest.raises(ExtractError, match="no article"):
        await pipeline.ingest_url(site.url("/login"))
    with pytest.raises(BlockedAddressError):
        await pipeline.ingest_url("http://10.0.0.8/2025/03/halcyon")
    assert pipeline.store.document_count() == 0 and pipeline.store.raw_chunk_count() == 0


async def test_progress_is_reported_in_order(pipeline: Pipeline, site) -> None:
    stages: list[str] = []

    async def progress(stage: str) -> None:
        stages.append(stage)

    await pipeline.ingest_url(site.url("/notes.txt"), progress=progress)
    assert stages[:2] == ["fetching", "extracting"] and stages[2].startswith("embedding") and stages[3] == "storing"
