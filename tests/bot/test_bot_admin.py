"""/ingest, /forget, /sources, /stats with fake services: progress, cards, failures, paging."""

from __future__ import annotations

import re

import pytest

from ingest.errors import (
    BlockedAddressError,
    ContentTypeError,
    ExtractError,
    FetchTimeoutError,
    HTTPStatusError,
    IngestError,
    RobotsDisallowedError,
    TooLargeError,
)
from tests.bot.fakes import FakeDoc

pytestmark = pytest.mark.asyncio

URL = "https://aiwire.example/news/blackwell"


def progress_shown(env) -> list[str]:
    return [
        r.json["content"] for r in env.http_requests
        if r.method == "PATCH" and "@original" in r.path and ((r.json or {}).get("content") or "").startswith("⏳")
    ]


async def test_ingest_shows_progress_then_a_card(world, services):
    services.pipeline.delay = 30

    result = await world.admin.slash(world.channel, "ingest", url=URL)
    assert result.ephemeral and result.response.content == f"⏳ fetching… <{URL}>"
    await world.env.advance_time(30)

    assert [p.split("…")[0] for p in progress_shown(world.env)] == [
        "⏳ fetching", "⏳ extracting", "⏳ embedding 3 chunks", "⏳ storing",
    ]
    [card] = result.response.embeds
    assert card.title == "Nvidia ships Blackwell" and card.url == URL
    assert card.description.startswith("✅ New")
    assert {f.name: f.value for f in card.fields} == {"Site": "aiwire.example", "Date": "2025-03-01", "Chunks": "3"}
    assert result.response.content == ""


@pytest.mark.parametrize(
    "error",
    [
        BlockedAddressError("10.0.0.1 is a private address, which newsdesk does not fetch."),
        ExtractError("no article text found on the page"),
        ContentTypeError("the server sent image/png, not an HTML page, a PDF or plain text."),
        TooLargeError("the page is larger than 5 MB."),
        RobotsDisallowedError("robots.txt of aiwire.example disallows newsdesk from fetching this page."),
        FetchTimeoutError("the page took longer than 20 s to download."),
        HTTPStatusError("the server answered 404 Not Found."),
    ],
    ids=lambda e: e.kind,
)
async def test_an_ingest_failure_is_one_sentence(world, services, error: IngestError):
    services.pipeline.error = error

    result = await world.admin.slash(world.channel, "ingest", url=URL)

    assert result.ephemeral
    assert result.response.content == f"❌ Could not ingest <{URL}>: {error.message}"
    assert world.env.errors == []


async def test_an_unexpected_ingest_error_is_an_apology_with_a_reference(world, services):
    services.pipeline.error = ValueError("chroma said no")  # type: ignore[assignment]

    result = await world.admin.slash(world.channel, "ingest", url=URL)

    assert result.ephemeral and re.search(r"ref `[0-9a-f]{8}`", result.response.content)
    assert "chroma said no" not in result.response.content
    assert len(world.env.errors) == 1


async def test_forget(world, services):
    services.pipeline.forgettable[URL] = FakeDoc(URL, "Nvidia ships *Blackwell*", chunks=4)

    gone = await world.admin.slash(world.channel, "forget", url=URL)
    again = await world.admin.slash(world.channel, "forget", url=URL)

    assert gone.ephemeral and gone.response.content == "🗑️ Forgot “Nvidia ships \\*Blackwell\\*” — aiwire.example (4 chunks)."
    assert again.response.content == f"Not found: <{URL}> is not among the sources."


async def test_sources_are_paginated_newest_first(world, services):
    services.store.docs = [
        FakeDoc(f"https://aiwire.example/{i}", f"Story {i}", published=f"2025-02-{28 - i:02d}") for i in range(23)
    ]

    result = await world.alice.slash(world.channel, "sources")

    def lines() -> list[str]:
        return result.response.embeds[0].description.splitlines()

    assert result.ephemeral
    assert len(lines()) == 10 and lines()[0] == "**1.** [Story 0](https://aiwire.example/0) — aiwire.example · 2025-02-28"
    assert result.response.embeds[0].footer.text == "Page 1/3 · 23 articles, newest first"
    await world.alice.click(result.response, label=None, custom_id=_button(result, "▶"))
    await world.alice.click(result.response, custom_id=_button(result, "▶"))
    assert [line.split(".")[0] for line in lines()] == ["**21", "**22", "**23"]
    assert _disabled(result, "▶") and not _disabled(result, "◀")
    await world.alice.click(result.response, custom_id=_button(result, "◀"))
    assert lines()[0].startswith("**11.** [Story 10]")


async def test_sources_when_empty_and_stats(world, services):
    empty = await world.alice.slash(world.channel, "sources")
    assert empty.response.embeds[0].description.startswith("No sources yet")
    assert empty.response.components == []

    services.store.docs = [FakeDoc("https://a.example/1", "One", chunks=5)]
    stats = await world.alice.slash(world.channel, "stats")
    fields = {f.name: f.value for f in stats.response.embeds[0].fields}
    assert stats.ephemeral
    assert fields == {
        "Documents": "1", "Chunks": "5", "Last ingest": "2025-03-04T08:00:00+00:00", "Newest article": "2025-03-03",
        "Last feed poll": "2025-03-04T09:30:00+00:00", "Embedding model": "all-MiniLM-L6-v2", "Answer mode": "extractive",
    }
    assert "/secret/path" not in str(stats.response.embeds[0].to_dict())


def _button(result, emoji: str) -> str:
    for row in result.response.components:
        for button in row["components"]:
            if button.get("emoji", {}).get("name") == emoji:
                return button["custom_id"]
    raise AssertionError(emoji)


def _disabled(result, emoji: str) -> bool:
    return any(
        b.get("disabled") for row in result.response.components for b in row["components"]
        if b.get("emoji", {}).get("name") == emoji
    )
