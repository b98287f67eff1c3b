"""Extraction: a fetched page (HTML, XHTML, PDF or plain text) -> Article(title, site, author, date, body).

HTML goes through trafilatura, but only after a cleaning pass of our own: trafilatura keeps the text of
hidden elements (`<div hidden>`, `display:none`, `<template>`), which is where prompt-injection payloads
and SEO junk hide, and it keeps Unicode format characters (zero-width spaces, bidi overrides, soft
hyphens) that break search matching and can disguise text. So the page is parsed with lxml, hidden and
non-content elements are dropped, format characters are stripped, and the cleaned tree is handed over.

Extraction is CPU-bound and a hostile page can make lxml or pypdf crawl, so the bot calls
`extract_async`, which runs `extract` in a worker process under a deadline and kills the worker when it
is missed. The CLI and bulk paths call `extract` / `extract_file` directly.
"""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import json
import logging
import multiprocessing
import os
import re
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from io import BytesIO
from multiprocessing.connection import wait
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError
from tld import get_fld
from trafilatura.xml import xmltotxt

from .errors import ExtractError
from .fetch import FetchedPage
from .urls import site_host

log = logging.getLogger(__name__)

MIN_BODY_CHARS = 200  # below this a page holds no article
MIN_PARAGRAPH_CHARS = 80  # ... and it needs at least one real paragraph (a login form has none)
MAX_BODY_CHARS = 2_000_000  # a body is cut here, at a paragraph border
MAX_PDF_PAGES = 300  # pages read from a PDF; the rest is ignored
MAX_FILE_BYTES = 200_000_000
NO_ARTICLE = "no article text found on the page"


@dataclass(frozen=True)
class Article:
    url: str  # canonical URL if the page names a same-site canonical, else page.url
    title: str
    body: str  # plain text, paragraphs separated by "\n\n"; no title line, comments or boilerplate
    site: str  # human site name ("The AI Wire"); fallback: host without www.
    author: str = ""
    published: datetime | None = None  # timezone-aware
    source: str = ""  # what the admin gave (URL or file path)


# ---- text hygiene ---------------------------------------------------------------------------------

# Every character of category Cf, plus the soft hyphen (Cf too, listed for clarity). Cf characters only
# live in planes 0, 1 and 14, so scanning those is enough (and takes milliseconds, not half a second).
_FORMAT = dict.fromkeys(
    c for r in (range(0x20000), range(0xE0000, 0xE1000)) for c in r if unicodedata.category(chr(c)) == "Cf"
) | {0xAD: None}
_CONTROL = dict.fromkeys(c for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in "\t\n\r")
_SPACES = re.compile(r"[^\S\n]+")  # whitespace other than newlines (NBSP, tabs, thin spaces...)
_BLANKS = re.compile(r"\n{3,}")


def strip_format(text: str) -> str:
    return text.translate(_FORMAT)


def clean_text(text: str) -> str:
    """Strip format characters (Cf, soft hyphen) and controls, NFC-normalise, collapse spaces per line,
    and keep at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFC", text.translate(_FORMAT).translate(_CONTROL))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _one_line(text: str | None, limit: int = 300) -> str:
    return " ".join(clean_text(text or "").split())[:limit]


def _cap(paragraphs: list[str]) -> str:
    """Join paragraphs with blank lines, cut at a paragraph border once MAX_BODY_CHARS is reached."""
    kept: list[str] = []
    size = 0
    for paragraph in paragraphs:
        if size + len(paragraph) > MAX_BODY_CHARS:
            if not kept:
                kept.append(paragraph[:MAX_BODY_CHARS])
            break
        kept.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(kept)


def _site_for(url: str) -> str:
    """Host without www. for web pages; the file name for local files."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return site_host(url)
    return unquote(parts.path.rsplit("/", 1)[-1]) or url


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        return _aware(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


# ---- decoding and parsing -------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _codec(label: str | bytes | None) -> str | None:
    """A Python codec for a charset label, as browsers read labels: latin-1 and ASCII mean cp1252."""
    if not label:
        return None
    name = label.decode("ascii", "ignore") if isinstance(label, bytes) else label
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def decode(body: bytes, charset: str | None, *, sniff_meta: bool = True) -> str:
    """Bytes -> text. A byte-order mark wins (as in browsers), then the HTTP charset, then a
    `<meta charset>` or XML declaration, then UTF-8; cp1252 is the last resort for undeclared legacy."""
    candidates: list[str | None] = [encoding for bom, encoding in _BOMS if body.startswith(bom)]
    candidates.append(_codec(charset))
    if sniff_meta:
        head = body[:4096]
        for pattern in (_XML_ENCODING, _META_CHARSET):
            if match := pattern.search(head):
                declared = _codec(match.group(1))
                # an ASCII-compatible document cannot really be UTF-16, whatever its meta tag says
                candidates.append("utf-8" if declared and declared.startswith("utf-16") else declared)
    candidates.append("utf-8")
    for encoding in candidates:
        if encoding:
            try:
                return body.decode(encoding).removeprefix("\ufeff")
            except UnicodeDecodeError:
                continue
    return body.decode("cp1252", errors="replace")


def _parse_xhtml(text: str) -> lxml_html.HtmlElement | None:
    """XHTML through the XML parser (so `<script src=.../>` does not swallow the page), namespaces
    dropped and re-read as HTML so trafilatura sees plain tag names. None when it is not well-formed."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(_XML_DECLARATION.sub("", text, count=1).encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return None
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = etree.QName(element).localname
    etree.cleanup_namespaces(root)
    # undeclared entities (&nbsp; without the DTD) survive as references and resolve on the HTML re-read
    return lxml_html.document_fromstring(etree.tostring(root, method="html", encoding="unicode"))


def _parse_html(text: str, xhtml: bool, url: str) -> lxml_html.HtmlElement:
    tree = _parse_xhtml(text) if xhtml else None
    if tree is None:
        try:
            tree = lxml_html.document_fromstring(_XML_DECLARATION.sub("", text, count=1))
        except (etree.ParserError, ValueError) as error:
            raise ExtractError(NO_ARTICLE, url=url) from error
    return tree


# ---- cleaning -------------------------------------------------------------------------------------

_DROP_TAGS = {"template", "noscript", "style", "script"}
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important\s*)?(?:;|$)", re.I)


def _is_dropped(element: lxml_html.HtmlElement) -> bool:
    tag = element.tag
    if tag in ("html", "body"):
        return False  # never drop the whole page for a modal's aria-hidden
    if tag in _DROP_TAGS:
        return not (tag == "script" and (element.get("type") or "").strip().lower() == "application/ld+json")
    if tag == "dialog" and element.get("open") is None:
        return True  # a closed <dialog> is not rendered (cookie and newsletter pop-ups)
    hidden = element.get("hidden")
    if hidden is not None and hidden.strip().lower() != "until-found":  # until-found is findable text
        return True
    if (element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return bool(_HIDDEN_STYLE.search(element.get("style") or ""))


def clean_tree(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """Drop hidden and non-content elements (keeping their tail text), strip format characters from
    text and attributes, mark numeric superscripts, in place. JSON-LD scripts stay: they carry metadata."""
    doomed = [el for el in tree.iter() if isinstance(el.tag, str) and _is_dropped(el)]
    for element in doomed:
        element.drop_tree()
    for element in tree.iter():
        if element.text:
            element.text = strip_format(element.text)
            if element.tag == "sup" and element.text.strip().isdigit():
                element.text = "^" + element.text.strip()  # 10<sup>26</sup> must not read as 1026
        if element.tail:
            element.tail = strip_format(element.tail)
        if isinstance(element.tag, str):
            for name, value in element.attrib.items():
                element.set(name, strip_format(value))
    return tree


# ---- page metadata --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PageMeta:
    og_title: str = ""
    og_site: str = ""
    title_tag: str = ""
    headline: str = ""  # JSON-LD
    publisher: str = ""  # JSON-LD
    published: datetime | None = None  # JSON-LD datePublished or article:published_time
    canonical: str = ""


def _meta(tree: lxml_html.HtmlElement, name: str) -> str:
    for element in tree.xpath("//meta[@property=$n or @name=$n]", n=name):
        if value := _one_line(element.get("content")):
            return value
    return ""


def _jsonld_nodes(tree: lxml_html.HtmlElement) -> Iterator[dict]:
    for script in tree.xpath("//script[@type]"):
        if script.get("type", "").strip().lower() != "application/ld+json":
            continue
        try:
            pending = [json.loads(script.text or "", strict=False)]
        except (ValueError, RecursionError):
            continue
        while pending:
            item = pending.pop(0)
            if isinstance(item, list):
                pending[:0] = item
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    pending[:0] = item["@graph"]


def _is_article_node(node: dict) -> bool:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.endswith(("Article", "Posting", "Report")) for t in types)


def _jsonld(tree: lxml_html.HtmlElement) -> tuple[str, str, datetime | None]:
    """(headline, publisher name, datePublished) of the first article node, @id references resolved."""
    nodes = list(_jsonld_nodes(tree))
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    for node in filter(_is_article_node, nodes):
        publisher = node.get("publisher")
        publisher = publisher[0] if isinstance(publisher, list) and publisher else publisher
        if isinstance(publisher, dict) and "name" not in publisher:
            publisher = by_id.get(publisher.get("@id"), publisher)
        name = publisher.get("name") if isinstance(publisher, dict) else publisher
        headline = node.get("headline") or node.get("name")
        return (
            _one_line(headline if isinstance(headline, str) else ""),
            _one_line(name if isinstance(name, str) else ""),
            _parse_date(node.get("datePublished")),
        )
    return "", "", None


def _page_meta(tree: lxml_html.HtmlElement, url: str) -> _PageMeta:
    headline, publisher, published = _jsonld(tree)
    canonical = ""
    for link in tree.xpath("//link[@rel and @href]"):
        if "canonical" in link.get("rel", "").lower().split():
            try:
                canonical = urljoin(url, link.get("href", "").strip())
            except ValueError:
                pass
            break
    titles = tree.xpath("//title")
    return _PageMeta(
        og_title=_meta(tree, "og:title"),
        og_site=_meta(tree, "og:site_name"),
        title_tag=_one_line(titles[0].text_content()) if titles else "",
        headline=headline,
        publisher=publisher,
        published=published or _parse_date(_meta(tree, "article:published_time")),
        canonical=canonical,
    )


def _registrable(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return ""
    host = (parts.hostname or "").rstrip(".")
    return get_fld(host, fix_protocol=True, fail_silently=True) or host.removeprefix("www.")


def same_site(url: str, other: str) -> bool:
    """Same registrable domain (eTLD+1: www.x.com ~ x.com ~ news.x.com, but a.github.io !~ b.github.io)."""
    try:
        mine = _registrable(url)
        return bool(mine) and mine == _registrable(other)
    except ValueError:  # an unparsable URL (a bad IPv6 literal, a bad port) is on no site
        return False


# ---- HTML -----------------------------------------------------------------------------------------

_BLOCKS = {"p", "head", "list", "quote", "table", "code", "graphic"}
_DATE_PARAMS = {"outputformat": "%Y-%m-%dT%H:%M:%S%z", "original_date": True, "extensive_search": True}


def _blocks(container: etree._Element) -> Iterator[tuple[str, str]]:
    """(tag, text) of each block of trafilatura's output tree; containers are walked into."""
    if container.text and container.text.strip():
        yield "p", clean_text(container.text)
    for child in container:
        tail, child.tail = child.tail, None
        if child.tag in _BLOCKS or not len(child):
            if text := clean_text(xmltotxt(child, False)):
                yield child.tag, text
        else:
            yield from _blocks(child)
        if tail and tail.strip():
            yield "p", clean_text(tail)


def _trafilatura(tree: lxml_html.HtmlElement, url: str, precision: bool) -> trafilatura.settings.Document | None:
    return trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=precision,
        date_extraction_params=dict(_DATE_PARAMS),
    )


def _has_article(blocks: list[tuple[str, str]]) -> bool:
    return sum(len(text) for _, text in blocks) >= MIN_BODY_CHARS and any(
        tag == "p" and len(text) >= MIN_PARAGRAPH_CHARS for tag, text in blocks
    )


def _published(traf_date: str | None, precise: datetime | None) -> datetime | None:
    """trafilatura's date (which also reads URLs and bylines), refined to the page's own timestamp
    when that falls on about the same day: a dated URL alone gives midnight."""
    found = _parse_date(traf_date)
    if precise and (found is None or abs((precise.date() - found.date()).days) <= 1):
        return precise
    return found


def _extract_html(page: FetchedPage, source: str) -> Article:
    text = decode(page.body, page.charset).translate(_CONTROL)  # lxml refuses controls it parsed
    tree = clean_tree(_parse_html(text, page.content_type == "application/xhtml+xml", page.url))
    meta = _page_meta(tree, page.url)
    blocks: list[tuple[str, str]] = []
    for precision in (True, False):  # precision first; balanced when that leaves no article
        document = _trafilatura(tree, page.url, precision)
        if document is not None and document.body is not None:
            blocks = list(_blocks(document.body))
            if _has_article(blocks):
                break
    if document is None or not _has_article(blocks):
        raise ExtractError(NO_ARTICLE, url=page.url)
    title = _one_line(document.title) or meta.og_title or meta.headline or meta.title_tag
    if blocks[0][0] == "head" and blocks[0][1].casefold() == title.casefold():
        blocks = blocks[1:]  # the headline repeated as the body's first line
    authors = dict.fromkeys(a.strip() for a in clean_text(document.author or "").split(";") if a.strip())
    return Article(
        url=meta.canonical if meta.canonical and same_site(page.url, meta.canonical) else page.url,
        title=title or _one_line(blocks[0][1], 120),
        body=_cap([text for _, text in blocks]),
        site=meta.og_site or meta.publisher or _site_for(page.url),
        author="; ".join(authors),
        published=_published(document.date, meta.published),
        source=source,
    )


# ---- PDF and plain text ---------------------------------------------------------------------------

_JUNK_PDF_TITLE = re.compile(r"^(untitled|microsoft (word|powerpoint) - .*|document\d*|slide \d+|\W*)$", re.I)
_PDF_FAILURES = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError)
_WRAPPED = re.compile(r"(?<=[\w,])\n(?=[a-z(])")


def _reflow(text: str) -> str:
    """Undo the PDF's line wrapping where it is plain: a line running on into a lowercase word."""
    return _WRAPPED.sub(" ", text)


def _extract_pdf(page: FetchedPage, source: str) -> Article:
    try:
        reader = PdfReader(BytesIO(page.body))
        if reader.is_encrypted and not reader.decrypt(""):  # owner-password-only PDFs open for anyone
            raise ExtractError("the PDF is encrypted", url=page.url)
        paragraphs: list[str] = []
        size = 0
        for number, pdf_page in enumerate(reader.pages):
            if number >= MAX_PDF_PAGES or size >= MAX_BODY_CHARS:
                break
            if text := _reflow(clean_text(pdf_page.extract_text() or "")):
                paragraphs.append(text)
                size += len(text)
        info = reader.metadata
        title, author = (_one_line(info.title), _one_line(info.author)) if info else ("", "")
        try:
            created = _aware(info.creation_date) if info else None
        except ValueError:  # an unreadable /CreationDate
            created = None
    except (DependencyError, FileNotDecryptedError) as error:
        raise ExtractError("the PDF is encrypted", url=page.url) from error
    except _PDF_FAILURES as error:  # pypdf fails in assorted ways on damaged files
        log.debug("pypdf failed on %s", page.url, exc_info=True)
        raise ExtractError("the PDF could not be read (it looks damaged)", url=page.url) from error
    body = _cap(paragraphs)
    if len(body) < MIN_BODY_CHARS:
        raise ExtractError("no text found in the PDF (a scanned PDF needs OCR first)", url=page.url)
    if not title or _JUNK_PDF_TITLE.match(title):
        title = _one_line(body.split("\n", 1)[0])
    return Article(page.url, title, body, _site_for(page.url), author, created, source)


def _extract_text(page: FetchedPage, source: str, markdown: bool) -> Article:
    body = clean_text(decode(page.body, page.charset, sniff_meta=False))
    if not body:
        raise ExtractError("the file is empty", url=page.url)
    first = body.split("\n", 1)[0]
    title = _one_line(first.lstrip("#").strip() if markdown else first)
    return Article(page.url, title, _cap(body.split("\n\n")), _site_for(page.url), source=source)


# ---- entry points ---------------------------------------------------------------------------------

_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_TEXT_TYPES = {"text/plain", "text/markdown", "text/x-markdown"}
_PARSE_FAILURES = (ValueError, TypeError, AttributeError, IndexError, KeyError, RecursionError, etree.LxmlError)


def _kind(page: FetchedPage) -> str:
    """"html", "pdf", "text" or "markdown": the declared type, checked against the bytes."""
    head = page.body[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    media = page.content_type.split(";")[0].strip().lower()
    if media in _HTML_TYPES:
        return "html"
    if media in _TEXT_TYPES:
        return "markdown" if "markdown" in media else "text"
    if media == "application/pdf":
        return "pdf"
    if re.match(rb"(?is)(\xef\xbb\xbf)?\s*(<\?xml|<!doctype html|<html|<head|<body)", head):
        return "html"
    raise ExtractError(f"cannot read an article from {media or 'untyped'} content", url=page.url)


def extract(page: FetchedPage, *, source: str = "") -> Article:
    """The article in a fetched page. Raises ExtractError when there is none or it cannot be read."""
    kind = _kind(page)
    try:
        if kind == "html":
            return _extract_html(page, source)
        if kind == "pdf":
            return _extract_pdf(page, source)
        return _extract_text(page, source, markdown=kind == "markdown")
    except ExtractError:
        raise
    except _PARSE_FAILURES as error:  # lxml and trafilatura fail in assorted ways on broken markup
        log.debug("extraction failed on %s", page.url, exc_info=True)
        raise ExtractError("the page could not be parsed", url=page.url) from error


_SUFFIX_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
}


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def file_page(path: Path) -> FetchedPage:
    """A local file as a FetchedPage (url = its file:// URI), typed by suffix; other files are sniffed:
    PDF or HTML bytes, else UTF-8 text, else ExtractError."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ExtractError(f"{path.name} is larger than {MAX_FILE_BYTES // 1_000_000} MB")
        body = path.read_bytes()
    except OSError as error:
        raise ExtractError(f"cannot read {path}: {error.strerror or error}") from error
    content_type = _SUFFIX_TYPES.get(path.suffix.lower(), "")
    if not content_type:
        head = body[:1024].lstrip().lower()
        if head.startswith(b"%pdf-"):
            content_type = "application/pdf"
        elif head.startswith((b"<!doctype html", b"<html", b"<?xml")):
            content_type = "text/html"
        elif b"\0" not in head and _is_utf8(body):
            content_type = "text/plain"
        else:
            raise ExtractError(f"cannot read an article from a {path.suffix or 'suffix-less'} file")
    url = path.resolve().as_uri()
    return FetchedPage(url=url, requested_url=url, status=200, content_type=content_type, charset=None,
                       body=body, headers={})


def extract_file(path: Path) -> Article:
    """The article in a local .html/.htm/.xhtml/.pdf/.txt/.md file."""
    return extract(file_page(Path(path)), source=str(path))


# ---- off the event loop ---------------------------------------------------------------------------

POOL_WORKERS = 2
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_killed: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _exit_with_parent() -> None:
    """Worker initializer: leave when the bot process dies (even by SIGKILL) instead of idling forever;
    an orphaned worker holds both ends of its task queue, so it would never see end-of-file."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        sentinel = parent.sentinel
        watcher = threading.Thread(target=lambda: (wait([sentinel]), os._exit(0)), daemon=True)
        watcher.start()


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # never fork: the parent runs onnxruntime and HTTP threads. A forkserver preloaded with this
            # module makes a replacement worker cost milliseconds, not a fresh interpreter.
            if "forkserver" in multiprocessing.get_all_start_methods():
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([__name__])
            else:
                context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(POOL_WORKERS, mp_context=context, initializer=_exit_with_parent)
            # Start every worker now, before the pool has a manager thread. Started lazily inside
            # submit(), a worker can be spawned while the manager tears the pool down after a crash;
            # the file descriptors vanish mid-spawn, and a failed spawn takes the forkserver with it.
            # In a fresh context: a caller's context-local clock (SimCord freezes time.monotonic inside
            # bot work) must not leak into multiprocessing's start-up waits.
            contextvars.Context().run(_pool._launch_processes)
        return _pool


def _discard_pool(pool: ProcessPoolExecutor, *, kill: bool) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    if kill:
        _killed.add(pool)
        # ProcessPoolExecutor cannot kill a running task before Python 3.14 (kill_workers), so reach
        # into its process table; the executor then fails every pending future with BrokenProcessPool.
        for process in list((pool._processes or {}).values()):
            process.kill()
    pool.shutdown(wait=False)  # not cancel_futures: a cancelled future would read as our caller's cancellation


def _slot() -> asyncio.Semaphore:
    """One slot per worker and event loop, so the deadline runs from when a worker is free."""
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(POOL_WORKERS)
    return _slots[loop]


async def extract_async(
    page: FetchedPage,
    *,
    source: str = "",
    timeout: float = 20.0,
    _target: Callable[..., Article] = extract,
) -> Article:
    """`extract` in a worker process, killed past `timeout` seconds. `_target` (a picklable module-level
    function called as target(page, source=...)) exists for tests of the kill path."""
    page = replace(page, headers=dict(page.headers))  # a plain dict pickles whatever the client gave
    async with _slot():
        for _ in range(2):  # a second go only when another call's timeout killed the pool under us
            pool = _get_pool()
            try:
                future = pool.submit(_target, page, source=source)
            except (BrokenProcessPool, RuntimeError, OSError, EOFError):  # broke between get and submit
                _discard_pool(pool, kill=False)
                continue
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
            except TimeoutError:
                log.warning("extraction of %s took over %.0f s; killing the worker", page.url, timeout)
                _discard_pool(pool, kill=True)
                raise ExtractError("the page took too long to extract", url=page.url) from None
            except asyncio.CancelledError:
                if not future.cancel() and not future.done():  # running: it must not hog a worker
                    _discard_pool(pool, kill=True)
                raise
            except BrokenProcessPool:
                if pool in _killed:
                    continue
                log.warning("the extraction worker died on %s", page.url)
                _discard_pool(pool, kill=False)
                raise ExtractError("the extractor crashed on this page", url=page.url) from None
    raise ExtractError("the extractor crashed on this page", url=page.url)
