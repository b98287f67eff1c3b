"""RSS and Atom: fetched bytes -> ParsedFeed(title, entries), an entry -> Article, a body -> a summary.

feedparser does the parsing, but it is only ever given bytes newsdesk fetched itself (through the
guarded client), wrapped in a stream: given a string it may open URLs or files on its own. Before it
sees them, the bytes are decoded once (extract.decode: BOM, HTTP charset, XML declaration) and the
DOCTYPE is taken out; a feed that declares its own entities is refused outright. Entity declarations
are what billion-laughs and external-entity attacks are made of, and no real feed needs one. (Expat
would stop a billion laughs itself, but only after seconds of expansion, and feedparser then retries
with its loose parser.) No I/O here: the polling lives in `ingest.feedpoll`.
"""

from __future__ import annotations

import calendar
import io
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree
from lxml import html as lxml_html

from .errors import IngestError
from .extract import Article, clean_text, clean_tree, decode
from .fetch import FEED_TYPES, HTML_TYPES
from .urls import canonical_url, site_host

log = logging.getLogger(__name__)

# What a feed URL may answer: feeds, and web pages (to find the feed a page links to, or to say it has none).
FEED_ACCEPT = FEED_TYPES | HTML_TYPES | {"text/plain"}
MIN_FALLBACK_CHARS = 80  # an entry's own text shorter than this is a teaser, not an article
NOT_A_FEED = "this is not an RSS or Atom feed."


class FeedError(IngestError):
    """The fetched document is not a feed newsdesk reads (HTML, broken XML, hostile DTD)."""

    kind = "not_feed"


@dataclass(frozen=True)
class Entry:
    url: str  # absolute link, as the feed gives it
    key: str  # canonical URL: what "seen" remembers
    title: str
    published: datetime | None
    text: str  # the entry's own content as plain text: content:encoded / content, else summary


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str  # the site the feed belongs to
    entries: list[Entry]


# ---- defusing ---------------------------------------------------------------------------------------

_XML_DECLARATION = re.compile(r"^\s*<\?xml\b.*?\?>", re.S | re.I)
_FIRST_TAG = re.compile(r"<[A-Za-z_]")
_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
# <!DOCTYPE name [SYSTEM|PUBLIC "id" ["uri"]] [ [internal subset] ]>; quoted strings may hold ] or >.
_DOCTYPE = re.compile(
    r"""<!DOCTYPE\s+[^\s\[>]+(?:\s+(?:SYSTEM|PUBLIC)(?:\s+(?:"[^"]*"|'[^']*'))+)?\s*"""
    r"""(?:\[(?P<subset>(?:[^\]"']|"[^"]*"|'[^']*')*)\]\s*)?>""",
    re.S | re.I,
)


def defuse(text: str) -> str:
    """The document without its XML declaration and DOCTYPE; FeedError if the DOCTYPE declares entities
    (or cannot be read, so nothing in it can slip past)."""
    text = _XML_DECLARATION.sub("", text.lstrip("\ufeff"), count=1)
    pos = 0
    while match := _PROLOG_ITEM.match(text, pos):
        pos = match.end()
    start = len(text) - len(text[pos:].lstrip())
    if text[start : start + 9].upper() != "<!DOCTYPE":
        first_tag = _FIRST_TAG.search(text)
        if "<!doctype" in text[: first_tag.start() if first_tag else len(text)].lower():
            raise FeedError("the feed's document type declaration cannot be read, so newsdesk does not parse it.")
        return text
    doctype = _DOCTYPE.match(text, start)
    if doctype is None:
        raise FeedError("the feed's document type declaration cannot be read, so newsdesk does not parse it.")
    if doctype["subset"] and "<!entity" in doctype["subset"].lower():
        raise FeedError("the feed declares its own XML entities, which newsdesk refuses to expand.")
    return text[:start] + text[doctype.end() :]


# ---- parsing ----------------------------------------------------------------------------------------


def parse_feed(body: bytes, charset: str | None, url: str) -> ParsedFeed:
    """Bytes fetched from `url` -> ParsedFeed, or FeedError. CPU-bound: call it in a thread."""
    text = defuse(decode(body, charset))
    data = ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8", "replace")
    parsed = feedparser.parse(
        io.BytesIO(data),  # a stream, never a string: feedparser would fetch a string that looks like a URL
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    if not parsed.get("version"):
        raise FeedError(NOT_A_FEED, url=url)
    if parsed.get("bozo"):
        log.info("feed %s is not well-formed (%s); read leniently", url, parsed.get("bozo_exception"))
    entries: list[Entry] = []
    for raw in parsed.entries:
        if (entry := _entry(raw, url)) is not None:
            entries.append(entry)
    meta = parsed.feed
    return ParsedFeed(title=_one_line(meta, "title"), link=str(meta.get("link", "")), entries=entries)


def _entry(raw: dict, feed_url: str) -> Entry | None:  # type: ignore[type-arg]
    link = str(raw.get("link") or "").strip()
    guid = str(raw.get("id") or "").strip()
    if not link and raw.get("guidislink") is not False and guid.lower().startswith(("http://", "https://")):
        link = guid
    if not link:
        return None
    link = urljoin(feed_url, link)
    contents = [_text(c.get("value"), c.get("type")) for c in raw.get("content") or []]
    text = max(contents, key=len, default="") or _text(raw.get("summary"), (raw.get("summary_detail") or {}).get("type"))
    moment = raw.get("published_parsed") or raw.get("updated_parsed")
    return Entry(url=link, key=canonical_url(link), title=_one_line(raw, "title"), published=_utc(moment), text=text)


def _text(value: object, kind: object) -> str:
    """feedparser's value of a text construct as plain text: HTML (sanitised by feedparser) is read as HTML,
    plain text is taken as it is, so a title like "x<y" stays whole."""
    text = str(value or "")
    return html_to_text(text) if kind in ("text/html", "application/xhtml+xml") else clean_text(text)


def _one_line(meta: dict, key: str, limit: int = 300) -> str:  # type: ignore[type-arg]
    detail = meta.get(f"{key}_detail") or {}
    return " ".join(_text(meta.get(key), detail.get("type")).split())[:limit]


def _utc(moment: time.struct_time | None) -> datetime | None:
    """feedparser's dates are UTC struct_times."""
    if not moment:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(moment), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def discover_feed(body: bytes, charset: str | None, url: str) -> str | None:
    """The first RSS / Atom feed an HTML page links to (<link rel="alternate" type="...">), if any."""
    try:
        tree = lxml_html.document_fromstring(decode(body, charset))
    except (etree.ParserError, ValueError):
        return None
    for link in tree.xpath("//link[@href and @type]"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").strip().lower()
        if "alternate" in rel and kind in ("application/rss+xml", "application/atom+xml"):
            found = urljoin(url, link.get("href", "").strip())
            if urlsplit(found).scheme in ("http", "https"):
                return found
    return None


# ---- text -------------------------------------------------------------------------------------------

_BLOCK_TAGS = ("p", "div", "li", "ul", "ol", "blockquote", "pre", "table", "tr", "section", "article",
               "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "dl", "dd", "dt")


def html_to_text(fragment: str) -> str:
    """A feed's HTML snippet -> plain paragraphs, hidden elements and format characters removed."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(fragment)
    clean_tree(root)
    for element in root.iter("br"):
        element.tail = "\n" + (element.tail or "")
    for element in root.iter(*_BLOCK_TAGS):
        element.text = "\n\n" + (element.text or "")
        element.tail = "\n\n" + (element.tail or "")
    return clean_text(root.text_content())


_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def summarize(body: str, sentences: int = 2, limit: int = 400) -> str:
    """The first `sentences` sentences of the body (extractive), cut to `limit` characters."""
    text = " ".join(body.split())
    if not text:
        return ""
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    summary = text[: cuts[sentences - 1]].strip() if len(cuts) >= sentences else text
    return summary if len(summary) <= limit else summary[: limit - 1].rsplit(" ", 1)[0] + "…"


def entry_article(entry: Entry, site: str) -> Article | None:
    """The entry's own content as an article (when its page cannot be had), or None if it holds too
    little text to stand for the article."""
    body = entry.text
    if len(body) < MIN_FALLBACK_CHARS:
        return None
    title = entry.title or " ".join(body.split())[:120]
    return Article(
        url=entry.url, title=title, body=body, site=site or site_host(entry.url), published=entry.published,
        source=entry.url,
    )
