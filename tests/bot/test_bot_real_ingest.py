"""/ingest and /ask with the real services: loopback pages, the guarded fetcher, the extractor in its
worker, the real embedder, an embedded Chroma under tmp_path and the extractive AnswerService."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsdesk.settings import Settings
from newsdesk.wiring import Services
from tests.bot.conftest import discord_settings
from tests.conftest import make_settings
from tests.support.httpserver import LoopbackServer

pytestmark = [pytest.mark.asyncio, pytest.mark.simcord(settle_timeout=60)]

PAGES = Path(__file__).parent.parent / "fixtures" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    article = (PAGES / "aiwire_article.html").read_bytes()
    routes = {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
        "/news/blackwell": (200, HTML, article),
        "/private/memo": (200, HTML, article),
        "/login": (200, HTML, (PAGES / "login.html").read_bytes()),
        "/huge": (200, HTML, b"<html><body>" + b"<p>big</p>" * 30_000 + b"</body></html>"),
    }
    with LoopbackServer(routes) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest, site: LoopbackServer) -> Settings:
    return make_settings(
        tmp_path,
        discord=discord_settings(request),
        fetch={"allow_networks": [f"127.0.0.1/32:{site.port}"], "max_bytes": 100_000},
    )


@pytest.fixture
def services(settings: Settings) -> Services:
    return Services(settings, store_retries=0)


async def test_an_ingested_article_is_answerable(world, site, services):
    url = site.url("/news/blackwell")

    result = await world.admin.slash(world.channel, "ingest", url=url)

    [card] = result.response.embeds
    assert result.ephemeral and card.description.startswith("✅ New")
    fields = {f.name: f.value for f in card.fields}
    chunks = int(fields["Chunks"])
    assert chunks >= 1 and fields["Site"] != "—"
    assert [d.url for d in services.store.list_documents()] == [url]

    again = await world.admin.slash(world.channel, "ingest", url=url)
    assert again.response.embeds[0].description.startswith("☑️ Unchanged")

    title = services.store.list_documents()[0].title
    answer = await world.alice.slash(world.channel, "ask", question=f"What does the article say about {title}?")
    assert "[1]" in answer.response.content
    [sources] = answer.response.embeds
    assert sources.fields[0].name.startswith("[1] ") and f"]({url})" in sources.fields[0].value

    stats = await world.alice.slash(world.channel, "stats")
    shown = {f.name: f.value for f in stats.response.embeds[0].fields}
    assert shown["Documents"] == "1" and shown["Chunks"] == str(chunks) and shown["Answer mode"] == "extractive"

    listed = await world.alice.slash(world.channel, "sources")
    assert f"]({url})" in listed.response.embeds[0].description

    forgot = await world.admin.slash(world.channel, "forget", url=url)
    assert forgot.response.content.startswith("🗑️ Forgot")
    assert services.store.list_documents() == []


@pytest.mark.parametrize(
    ("path", "sentence"),
    [
        (None, "10.0.0.1"),  # a private address, refused before any connection
        ("/login", "no article text found on the page"),
        ("/huge", "the page is larger than"),
        ("/private/memo", "robots.txt of 127.0.0.1"),
        ("/missing", "the server answered 404"),
    ],
    ids=["blocked", "not-article", "too-large", "robots", "404"],
)
async def test_each_failure_is_its_own_sentence(world, site, services, path, sentence):
    # The timeout kind is in test_bot_admin: SimCord's clock is virtual and only moves while the bot
    # is idle, so a wall-clock timeout on a real socket that is still receiving cannot fire here.
    url = site.url(path) if path else "http://10.0.0.1/"

    result = await world.admin.slash(world.channel, "ingest", url=url)

    content = result.response.content
    assert result.ephemeral and content.startswith("❌ Could not ingest ")
    assert sentence in content
    assert "Traceback" not in content and "ref `" not in content
    assert content.count("\n") == 0
    assert world.env.errors == []
    assert services.store.list_documents() == []


async def test_an_extractive_answer_leads_with_the_answer_in_bold_above_the_sources(world, site, services):
    url = site.url("/news/blackwell")
    await world.admin.slash(world.channel, "ingest", url=url)

    result = await world.alice.slash(world.channel, "ask", question="How much did Halcyon Labs raise in its Series C?")

    first, _, rest = result.response.content.partition("\n")
    assert first == "**$400 million** [1]", result.response.content
    assert "$400 million" in rest and rest.rstrip().endswith("[1]")
    [sources] = result.response.embeds
    assert sources.fields[0].name.startswith("[1] ") and f"]({url})" in sources.fields[0].value

    who = await world.alice.slash(world.channel, "ask", question="Who is the chief executive of Halcyon Labs?")
    assert who.response.content.startswith("**Dana Okafor** [1]\n"), who.response.content
