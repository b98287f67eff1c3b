"""Hostile feeds (entity expansion, external entities) through `ingest.feeds.parse_feed`, the function the
feed poller gives fetched bytes to; and hostile questions (100 KB, control and bidi characters) through
the AnswerService and the CLI. The store is snapshotted around each: none of this may write to it."""

from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path

import pytest

from answer.prompts import MAX_QUESTION_CHARS
from answer.retrieve import Retrieval
from ingest.feeds import FeedError, parse_feed
from newsdesk import cli
from tests.hostile.conftest import Snapshot, data_dir_of

ENTITIES = "the feed declares its own XML entities, which newsdesk refuses to expand."
UNREADABLE = "the feed's document type declaration cannot be read, so newsdesk does not parse it."
RSS_BODY = "<rss version='2.0'><channel><title>&lol9;</title><item><title>&xxe;</title>" \
           "<link>https://feeds.example/a</link></item></channel></rss>"


def billion_laughs() -> bytes:
    lines = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{chr(10).join(lines)}\n<!ENTITY xxe "x">\n]>\n' + RSS_BODY).encode()


def quadratic_blowup() -> bytes:
    big = "A" * 100_000
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}"><!ENTITY lol9 "x"><!ENTITY xxe "y">]>'
            + RSS_BODY.replace("&lol9;", "&a;" * 2000)).encode()


def external(target: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{target}"><!ENTITY lol9 "x">]>'
            + RSS_BODY).encode()


def parameter_entity(target: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % remote SYSTEM "{target}"> %remote;]>'
            + RSS_BODY).encode()


FEEDS = [
    ("billion-laughs", lambda canary: billion_laughs(), ENTITIES),
    ("quadratic-blowup", lambda canary: quadratic_blowup(), ENTITIES),
    ("xxe-file", lambda canary: external("file:///etc/passwd"), ENTITIES),
    ("xxe-http", lambda canary: external(canary.url("/secret")), ENTITIES),
    ("xxe-parameter", lambda canary: parameter_entity(canary.url("/evil.dtd")), ENTITIES),
    ("xxe-utf16", lambda canary: external("file:///etc/hostname").decode().encode("utf-16"), ENTITIES),
    ("unclosed-doctype", lambda canary: b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b"' + RSS_BODY.encode(),
     UNREADABLE),
]


@pytest.mark.parametrize(("make", "message"), [f[1:] for f in FEEDS], ids=[f[0] for f in FEEDS])
def test_hostile_feeds_are_refused_before_any_expansion(services, canary, make, message):
    before = Snapshot.of(services)
    started = time.monotonic()
    with pytest.raises(FeedError) as caught:
        parse_feed(make(canary), None, "https://feeds.example/rss.xml")
    assert caught.value.message == message
    assert time.monotonic() - started < 2  # refused, not expanded and then thrown away
    assert canary.requests == []  # no DTD, no entity fetched
    assert Snapshot.of(services) == before


def test_an_external_dtd_without_entities_is_never_fetched(services, canary):
    body = (f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{canary.url("/rss.dtd")}">'
            "<rss version='2.0'><channel><title>Plain</title><item><title>One</title>"
            "<link>https://feeds.example/1</link></item></channel></rss>").encode()
    feed = parse_feed(body, None, "https://feeds.example/rss.xml")
    assert feed.title == "Plain" and [e.url for e in feed.entries] == ["https://feeds.example/1"]
    assert canary.requests == []


# ---- questions ------------------------------------------------------------------------------------------


@pytest.fixture
def seen_questions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every question retrieval is asked, whoever built the service."""
    seen: list[str] = []
    original = Retrieval.retrieve

    def spy(self, question, history=(), **kwargs):  # noqa: ANN001, ANN202
        seen.append(question)
        return original(self, question, history, **kwargs)

    monkeypatch.setattr(Retrieval, "retrieve", spy)
    return seen


HUGE = [
    ("words", "What did Nvidia announce at GTC about Rubin? " + "Rubin Blackwell GPU inference " * 3500),
    ("one-token", "What did Nvidia announce? " + "A" * 100_000),
    ("markup", "What did Nvidia announce? " + "<p>[x](http://evil.example)</p> @everyone " * 2500),
]


@pytest.mark.parametrize("question", [h[1] for h in HUGE], ids=[h[0] for h in HUGE])
def test_a_100_kb_question_is_cut_before_anything_reads_it(services, seen_questions, question):
    assert len(question) >= 100_000
    before = Snapshot.of(services)
    started = time.monotonic()
    answer = services.answers.answer_sync(question)
    assert time.monotonic() - started < 20
    [asked] = seen_questions
    assert len(asked) <= MAX_QUESTION_CHARS and question.startswith(asked[:20])
    assert answer.text and "@everyone" not in answer.text
    assert Snapshot.of(services) == before


def test_a_100_kb_question_on_the_command_line(services, seen_questions, monkeypatch, capsys, tmp_path: Path):
    question = HUGE[0][1]
    monkeypatch.setenv("DATA_DIR", str(data_dir_of(services)))
    before = Snapshot.of(services)
    code = cli.main(["--env-file", str(tmp_path / "none.env"), "ask", "--json", question])
    out = capsys.readouterr()
    assert code == 0, out.err
    reply = json.loads(out.out)
    assert reply["mode"] == "extractive" and reply["answer"]
    assert [len(q) <= MAX_QUESTION_CHARS for q in seen_questions] == [True]
    assert Snapshot.of(services) == before


CONTROL = [
    ("bidi-override", "What did \u202eNvidia announce\u202c at GTC\u2066?\u2069"),
    ("zero-width", "What did N\u200bvi\u200ddia an\ufeffnounce at GTC?"),
    ("controls", "What did Nvidia\x00 announce\x07 at\x1b[31m GTC?\r\nIgnore this line"),
    ("line-separators", "What did Nvidia announce\u2028at GTC?\u2029"),
]


@pytest.mark.parametrize("question", [c[1] for c in CONTROL], ids=[c[0] for c in CONTROL])
def test_control_and_bidi_characters_never_reach_retrieval_or_the_answer(services, seen_questions, question):
    before = Snapshot.of(services)
    answer = services.answers.answer_sync(question)
    [asked] = seen_questions
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in asked), repr(asked)
    assert "Nvidia" in asked and "\n" not in asked
    assert not any(unicodedata.category(c) in ("Cc", "Cf") and c != "\n" for c in answer.text)
    assert "Rubin" in answer.text and "[1]" in answer.text  # the question still works
    assert Snapshot.of(services) == before
