"""One bot, two servers, a real store (embedded and `chroma run`): each server's admins shape only their own
server's answers; the shared library (the command line's) reaches every server, and only it reaches DMs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

from answer.extractive import REFUSAL
from bot import create_bot
from newsdesk.settings import Settings
from newsdesk.wiring import Services
from tests.bot.conftest import discord_settings
from tests.conftest import make_settings
from tests.support.httpserver import LoopbackServer
from vectorstore.records import SHARED

pytestmark = [pytest.mark.asyncio, pytest.mark.simcord(settle_timeout=60)]

PAGES = Path(__file__).parent.parent / "fixtures" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}
HALCYON = "How much did Halcyon Labs raise in its Series C?"
FUND = "How big is the European Commission's sovereign compute fund for AI start-ups?"


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    routes = {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"),
        "/news/halcyon": (200, HTML, (PAGES / "aiwire_article.html").read_bytes()),
        "/news/fund": (200, {"Content-Type": "text/html; charset=windows-1252"},
                       (PAGES / "eurotech_cp1252.html").read_bytes()),
    }
    with LoopbackServer(routes) as server:
        yield server


@pytest.fixture(params=["embedded", "server"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, site: LoopbackServer) -> Settings:
    chroma: dict[str, Any] = {}
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        chroma = {"host": "127.0.0.1", "port": server.port, "collection": f"lib{abs(hash(request.node.nodeid)) % 10**9}"}
    return make_settings(tmp_path, discord=discord_settings(request, allow_dms=True),
                         fetch={"allow_networks": [f"127.0.0.1/32:{site.port}"]}, chroma=chroma)


@pytest.fixture
def services(settings: Settings) -> Services:
    return Services(settings, store_retries=0)


@pytest.fixture
def simcord_bot(settings: Settings, services: Services):
    return create_bot(settings, services=services)


@pytest.fixture
def other(world) -> Any:
    """A second server the bot is in, with its own admin, member and channel."""
    guild = world.env.create_guild("Friends")
    channel = guild.create_text_channel("ai-chat")
    admins = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    return {"guild": guild, "channel": channel, "admin": guild.add_member(world.env.create_user("mod"), roles=[admins]),
            "member": guild.add_member(world.env.create_user("carol"))}


async def ask(member: Any, channel: Any, question: str) -> str:
    return (await member.slash(channel, "ask", question=question)).response.content


async def test_another_server_can_neither_forget_nor_add_to_this_servers_answers(world, other, site, services):
    halcyon, fund = site.url("/news/halcyon"), site.url("/news/fund")
    added = await world.admin.slash(world.channel, "ingest", url=halcyon)
    assert added.response.embeds[0].description.startswith("✅ New")
    assert (await ask(world.alice, world.channel, HALCYON)).startswith("**$400 million** [1]")

    # The other server's admin tries to remove it, and to feed this server a page of their own.
    gone = await other["admin"].slash(other["channel"], "forget", url=halcyon)
    assert gone.response.content.startswith("Not found")
    await other["admin"].slash(other["channel"], "ingest", url=fund)

    assert (await ask(world.alice, world.channel, HALCYON)).startswith("**$400 million** [1]")  # still answered
    assert await ask(world.alice, world.channel, FUND) == REFUSAL  # never told what the other server added
    assert await ask(other["member"], other["channel"], HALCYON) == REFUSAL
    assert "2 billion" in await ask(other["member"], other["channel"], FUND)

    # /sources and /stats count per server.
    mine = (await world.alice.slash(world.channel, "sources")).response.embeds[0].description
    theirs = (await other["member"].slash(other["channel"], "sources")).response.embeds[0].description
    assert halcyon in mine and fund not in mine and fund in theirs and halcyon not in theirs
    stats = {f.name: f.value for f in (await world.alice.slash(world.channel, "stats")).response.embeds[0].fields}
    assert stats["Documents"] == "1"

    # This server's own admin can forget it; the other server's copy of anything is untouched.
    assert (await world.admin.slash(world.channel, "forget", url=halcyon)).response.content.startswith("🗑️ Forgot")
    assert await ask(world.alice, world.channel, HALCYON) == REFUSAL
    assert "2 billion" in await ask(other["member"], other["channel"], FUND)


async def test_the_shared_library_reaches_every_server_and_only_it_reaches_dms(world, other, site, services):
    halcyon, fund = site.url("/news/halcyon"), site.url("/news/fund")
    await services.pipeline.ingest_url(halcyon, library=SHARED)  # what `newsdesk ingest URL` does
    await other["admin"].slash(other["channel"], "ingest", url=fund)  # the other server's own

    assert (await ask(world.alice, world.channel, HALCYON)).startswith("**$400 million** [1]")
    assert (await ask(other["member"], other["channel"], HALCYON)).startswith("**$400 million** [1]")
    dana = world.env.create_user("dana")  # in a DM
    assert (await dana.slash("ask", question=HALCYON)).response.content.startswith("**$400 million**")
    assert (await dana.slash("ask", question=FUND)).response.content == REFUSAL

    # A server's admin cannot remove a shared article either: that is the command line's to change.
    refused = await world.admin.slash(world.channel, "forget", url=halcyon)
    assert refused.response.content.startswith("Not found")
    assert (await ask(other["member"], other["channel"], HALCYON)).startswith("**$400 million** [1]")


async def test_a_channel_scope_limits_what_its_answers_cite_and_says_so(world, site, services):
    halcyon, fund = site.url("/news/halcyon"), site.url("/news/fund")
    await world.admin.slash(world.channel, "ingest", url=halcyon)
    await world.admin.slash(world.channel, "ingest", url=fund)
    sites = {d.url: d.site for d in services.store.list_documents()}
    wire = sites[halcyon]
    assert "2 billion" in await ask(world.alice, world.channel, FUND)

    bad = await world.admin.slash(world.channel, "scope set", sites="Nowhere Daily")
    assert bad.response.content.startswith("Not among this server's sources or feeds: Nowhere Daily")
    done = await world.admin.slash(world.channel, "scope set", sites=wire.upper())  # names match in any case
    assert done.ephemeral and f"now draw only on: {wire}" in done.response.content

    answered = await world.alice.slash(world.channel, "ask", question=HALCYON)
    assert answered.response.content.startswith("**$400 million** [1]")
    [sources] = answered.response.embeds
    assert f"from: {wire}" in sources.description  # said under the answer
    assert all(sites[halcyon] in f.name for f in sources.fields)
    # The other site is out of scope here, and the refusal says what the channel draws on.
    assert await ask(world.alice, world.channel, FUND) == f"{REFUSAL}\n-# from: {wire}"
    elsewhere = world.guild.create_text_channel("general")
    assert "2 billion" in await ask(world.alice, elsewhere, FUND)  # other channels are not limited

    shown = await world.admin.slash(world.channel, "scope show")
    assert f"draw only on: {wire}" in shown.response.content
    await world.admin.slash(world.channel, "scope clear")
    assert "2 billion" in await ask(world.alice, world.channel, FUND)
