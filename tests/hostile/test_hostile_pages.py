"""Hostile pages from the allowed site, through the real pipeline: bombs, drips, loops, giants, lies about
the content type, broken and absurdly deep markup, a PDF with thousands of pages. Each is refused with
its sentence (the store untouched) or, for the PDF, ingested within the page cap."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Iterator

import pytest

from ingest.errors import (
    ContentTypeError,
    ExtractError,
    FetchTimeoutError,
    TooLargeError,
    TooManyRedirectsError,
)
from ingest.extract import MAX_PDF_PAGES
from ingest.fetch import GuardedClient
from tests.hostile.conftest import Snapshot, fetch_settings, only, refused
from tests.hostile.corpus import ARTICLE_TEXT, HTML, page
from tests.support.pdf import make_pdf

pytestmark = pytest.mark.asyncio

TOO_LARGE = "the page is larger than 5 MB."
MB = 1_000_000


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A gzip member that inflates to 50 MB of spaces: 50 kB on the wire, under every byte cap."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * MB
    return b"".join([*(packer.compress(block) for _ in range(50)), packer.flush()])


async def test_a_gzip_bomb_stops_at_the_byte_cap(services, route, bomb):
    assert len(bomb) < 300_000
    url = route("/bomb", (200, {**HTML, "Content-Encoding": "gzip"}, bomb))
    started = time.monotonic()
    await refused(services, url, TooLargeError, TOO_LARGE)
    assert time.monotonic() - started < 5  # inflating all of it would take far longer


async def test_stacked_compression_is_refused(services, route):
    url = route("/stacked", (200, {**HTML, "Content-Encoding": "gzip, gzip"}, gzip.compress(gzip.compress(b"<p>x</p>"))))
    await refused(services, url, ContentTypeError, "the server compressed the page as gzip, gzip, which newsdesk does not read.")


async def test_a_slow_drip_is_cut_by_the_wall_clock(services, site, route):
    def drip() -> Iterator[bytes]:
        yield b"<html><body><p>"
        for _ in range(60):
            time.sleep(0.25)
            yield b"a"

    url = route("/drip", (200, HTML, drip))
    started = time.monotonic()
    async with GuardedClient(fetch_settings(only(site), timeout=1.5)) as client:
        await refused(services, url, FetchTimeoutError, "the page took longer than 1.5 s to download.", client=client)
    assert time.monotonic() - started < 4


async def test_a_redirect_loop_is_refused(services, route):
    url = route("/loop/a", (302, {"Location": "/loop/b"}, b""))
    route("/loop/b", (302, {"Location": "/loop/a"}, b""))
    await refused(services, url, TooManyRedirectsError, "the page redirects in a loop.")


async def test_an_endless_redirect_chain_is_refused(services, route):
    for hop in range(20):
        route(f"/hop/{hop}", (301, {"Location": f"/hop/{hop + 1}"}, b""))
    await refused(services, route("/hop/start", (301, {"Location": "/hop/0"}, b"")), TooManyRedirectsError,
                  "the page redirected more than 5 times.")


@pytest.fixture(scope="module")
def giant() -> bytes:
    return b"<html><body>" + b"<p>" + b"a" * (30 * MB) + b"</p></body></html>"


async def test_a_30_mb_page_with_content_length_is_refused_before_its_body(services, route, giant):
    url = route("/giant-with-length", (200, HTML, giant))
    await refused(services, url, TooLargeError, TOO_LARGE)


async def test_a_30_mb_page_without_content_length_stops_at_the_cap(services, route, giant):
    sent = []

    def stream() -> Iterator[bytes]:
        for start in range(0, len(giant), 64_000):
            sent.append(64_000)
            yield giant[start : start + 64_000]

    url = route("/giant-streamed", (200, HTML, stream))
    await refused(services, url, TooLargeError, TOO_LARGE)
    assert sum(sent) < 12 * MB  # the client hung up near the cap, not after 30 MB


LIES = [
    ("binary", "text/html", b"<html>\x00\x01\x02\x03" + bytes(range(256)) * 40,
     "the server labelled the page text/html but sent binary data."),
    ("png", "text/html; charset=utf-8", b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000,
     "the server labelled the page text/html but sent a PNG image."),
    ("zip", "text/plain", b"PK\x03\x04" + b"\x00" * 2000, "the server labelled the page text/plain but sent a ZIP archive."),
    ("not-a-pdf", "application/pdf", b"<html><body>" + b"<p>hello</p>" * 100 + b"</body></html>",
     "the server labelled the page a PDF, but it is not one."),
    ("svg", "image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
     "the server sent image/svg+xml, not an article (HTML, plain text or PDF)."),
    ("exe-untyped", "", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 2000,
     "the server sent binary data, not an article (HTML, plain text or PDF)."),
]


@pytest.mark.parametrize(("label", "body", "message"), [lie[1:] for lie in LIES], ids=[lie[0] for lie in LIES])
async def test_content_that_lies_about_its_type_is_refused(services, route, label, body, message):
    headers = {"Content-Type": label} if label else {}
    url = route(f"/lie/{abs(hash(message))}", (200, headers, body))
    await refused(services, url, ContentTypeError, message)


MALFORMED = [
    ("tag-soup", b"<html><body><p>unclosed <div><<<>>> <script>while(1){}</scr" + b"<" * 5000 + b"</html"),
    ("only-attributes", b"<html><body>" + b"<div class='" + b"x" * 200_000 + b"'>" + b"</body></html>"),
    ("comment-bomb", b"<html><body>" + b"<!--" * 100_000 + b"<p>hidden</p></body></html>"),
    ("bad-utf8", b"<html><head><meta charset='utf-8'></head><body><p>\xff\xfe\xfd\xc3\x28 \xed\xa0\x80</p></body></html>"),
    ("no-text", b"<html><head><title>Nothing here</title></head><body><nav><a href='/'>Home</a></nav></body></html>"),
]


@pytest.mark.parametrize("body", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
async def test_malformed_html_is_no_article(services, route, body):
    url = route(f"/malformed/{abs(hash(body))}", (200, HTML, body))
    await refused(services, url, ExtractError, "no article text found on the page")


@pytest.mark.parametrize("tag", ["div", "b", "table", "blockquote"])
async def test_100k_nested_elements_are_refused_within_the_time_limit(services, route, tag):
    depth = 100_000
    body = (f"<html><head><title>Deep</title></head><body>{f'<{tag}>' * depth}"
            + "".join(f"<p>{p}</p>" for p in ARTICLE_TEXT) + f"{f'</{tag}>' * depth}</body></html>").encode()
    url = route(f"/deep/{tag}", (200, HTML, body))
    started = time.monotonic()
    # libxml2 stops building the tree 256 levels down, so the article below is not part of the document:
    # no article, quickly, and the extraction worker survives it.
    await refused(services, url, ExtractError, "no article text found on the page")
    assert time.monotonic() - started < services.settings.fetch.extract_timeout
    control = route("/deep/control", (200, HTML, page("Mistral raises 600 million euros", ARTICLE_TEXT)))
    result = await services.pipeline.ingest_url(control)  # the worker pool still works afterwards
    services.pipeline.forget(result.url)


async def test_a_pdf_with_5000_pages_is_read_up_to_the_page_cap(services, route):
    pages = [f"Report page {n}. Nvidia shipped Rubin racks to the lab on day {n}." for n in range(1, 5001)]
    pdf = make_pdf(pages, title="The five-thousand page report")
    assert len(pdf) < 5 * MB  # under the byte cap, so only the page cap stands in the way
    url = route("/report.pdf", (200, {"Content-Type": "application/pdf"}, pdf))
    before = Snapshot.of(services)
    started = time.monotonic()

    result = await services.pipeline.ingest_url(url)

    try:
        assert time.monotonic() - started < 60
        assert result.status == "new" and result.title == "The five-thousand page report"
        text = " ".join(c.text for c in services.store.chunks_of(result.doc_id))
        assert f"Report page {MAX_PDF_PAGES}." in text and f"Report page {MAX_PDF_PAGES + 1}." not in text
        after = Snapshot.of(services)
        assert after.document_count == before.document_count + 1
        assert after.chunk_ids > before.chunk_ids  # only added: nothing else touched
    finally:
        services.pipeline.forget(result.url)
    assert Snapshot.of(services) == before
