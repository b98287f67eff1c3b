"""/feeds and the poll loop through the real bot on SimCord, with a real pipeline into an embedded store
and feeds served from loopback."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
import simcord

from bot import NewsdeskBot
from bot.access import ADMIN_REFUSAL
from bot.cogs.feeds import FeedsCog
from ingest.extract import extract_async
from ingest.feedstore import FeedStore, parse_iso
from ingest.fetch import FetchedPage
from ingest.pipeline import Pipeline
from newsdesk.settings import Paths, Settings
from tests.bot.conftest import World, discord_settings
from tests.bot.fakes import FakeServices
from tests.feeds.conftest import ARTICLES, FeedSite, feed_settings, feed_text

pytestmark = [pytest.mark.asyncio, pytest.mark.simcord(settle_timeout=60)]


class FeedServices(FakeServices):
    """The bot's fake services, but with the real pipeline and store that feeds ingest into."""

    def __init__(self, settings: Settings, embedder: Any):
        from vectorstore.store import open_store

        super().__init__(settings)
        self.store = open_store(settings.chroma, settings.data_dir, embedder, retries=0)  # type: ignore[assignment]
        self.pipeline = Pipeline(self.store, settings.chunk, settings.fetch)  # type: ignore[assignment]


class BotWithFeeds(NewsdeskBot):
    """The bot, with the feeds cog loaded before the commands are synced, whether or not setup_hook loads it."""

    async def sync_commands(self) -> None:
        if self.get_cog("FeedsCog") is None:
            await self.add_cog(FeedsCog(self))
        await super().sync_commands()


@pytest.fixture
def settings(tmp_path: Path, site: FeedSite, request: pytest.FixtureRequest) -> Settings:
    base = feed_settings(tmp_path, site.server.port)
    return base.model_copy(update={"discord": discord_settings(request)})


@pytest.fixture
def services(settings: Settings, embedder: Any) -> FeedServices:
    return FeedServices(settings, embedder)


@pytest_asyncio.fixture
async def extraction_workers() -> None:
    """Start the extraction worker processes before the bot. SimCord freezes time.monotonic inside
    bot-owned work, and multiprocessing's wait(timeout=0), used when a process starts, spins forever on
    a clock that does not move."""
    page = FetchedPage("https://warm.example/", "https://warm.example/", 200, "text/plain", "utf-8",
                       b"Warming up the extraction workers. " * 10, {})
    await extract_async(page)


@pytest.fixture
def simcord_bot(settings: Settings, services: FeedServices, extraction_workers: None) -> NewsdeskBot:
    return BotWithFeeds(settings, services)


@pytest.fixture
def news(world: World) -> Any:
    return world.guild.create_text_channel("ai-news")


def stored_feeds(settings: Settings) -> list[Any]:
    store = FeedStore(Paths(settings.data_dir).feeds_db)
    try:
        return store.list()
    finally:
        store.close()


def rss(site: FeedSite, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{ARTICLES[p][0].replace('<', '&lt;')}</title><link>{site.url(p)}</link>"
        f"<pubDate>{ARTICLES[p][2]}</pubDate></item>" for p in paths
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Frontier Labs</title>'
            f"<link>{site.url('/')}</link>{items}</channel></rss>").encode()


def bot_messages(channel: Any, bot: NewsdeskBot) -> list[discord.Message]:
    return [m for m in channel.history() if m.author.id == bot.user.id]


# ---- /feeds add, remove, list ----------------------------------------------------------------------------


async def test_an_admin_adds_a_feed_and_is_told_its_title_and_size(world: World, site: FeedSite, news: Any,
                                                                    settings: Settings) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))

    result = await world.admin.slash(world.channel, "feeds add", url=url, channel=news)

    assert result.ephemeral and result.response.ephemeral
    assert result.response.content.startswith("📡 Following **The AI Wire** (3 entries now).")
    assert f"posted in <#{news.id}>" in result.response.content
    [feed] = stored_feeds(settings)
    assert (feed.url, feed.title, feed.channel_id, feed.guild_id) == (url, "The AI Wire", news.id, world.guild.id)
    assert site.page_requests() == []  # adding only checks the feed


async def test_feeds_commands_are_for_admins_only(world: World, site: FeedSite, settings: Settings) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    assert "feeds add" not in world.alice.available_commands(world.channel)
    assert {"feeds add", "feeds remove", "feeds list"} <= set(world.admin.available_commands(world.channel))
    with pytest.raises(simcord.SetupError, match="not visible"):
        await world.alice.slash(world.channel, "feeds add", url=url)

    feeds = next(c for c in await world.bot.tree.fetch_commands() if c.name == "feeds")
    world.guild.set_command_permissions(feeds, {world.alice: True})  # a server re-grants it to anyone
    result = await world.alice.slash(world.channel, "feeds add", url=url)

    assert result.ephemeral and result.response.content == ADMIN_REFUSAL
    [error] = world.env.errors
    assert isinstance(error, discord.app_commands.CheckFailure)
    assert stored_feeds(settings) == [] and site.server.requests == []


@pytest.mark.parametrize(("path", "words"), [
    ("/news/halcyon-ohio", "this is not an RSS or Atom feed."),
    ("/nowhere.xml", "the server answered 404 Not Found."),
])
async def test_a_url_that_is_no_feed_is_refused_in_one_sentence(world: World, site: FeedSite, settings: Settings,
                                                                  path: str, words: str) -> None:
    result = await world.admin.slash(world.channel, "feeds add", url=site.url(path))

    assert result.response.content == f"❌ Could not add <{site.url(path)}>: {words}"
    assert stored_feeds(settings) == []


async def test_a_channel_the_bot_cannot_post_in_is_refused(world: World, site: FeedSite, settings: Settings) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    locked = world.guild.create_text_channel(
        "locked", overwrites={world.guild.me: discord.PermissionOverwrite(send_messages=False)})

    result = await world.admin.slash(world.channel, "feeds add", url=url, channel=locked)

    assert result.response.content == (f"I can't post in <#{locked.id}>: I need Send Messages and Embed Links "
                                       "there.")
    assert stored_feeds(settings) == [] and site.server.requests == []


async def test_remove_and_list(world: World, site: FeedSite, news: Any, settings: Settings) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    empty = await world.admin.slash(world.channel, "feeds list")
    await world.admin.slash(world.channel, "feeds add", url=url, channel=news)
    listed = await world.admin.slash(world.channel, "feeds list")
    missing = await world.admin.slash(world.channel, "feeds remove", url=site.url("/other.xml"))
    removed = await world.admin.slash(world.channel, "feeds remove", url=url)

    assert empty.response.embeds[0].description == "No feeds yet. Add one with /feeds add."
    [embed] = listed.response.embeds
    assert embed.title == "Feeds (1)"
    assert embed.description.startswith(f"**1.** **[The AI Wire]({url})** → <#{news.id}>\n0 entries seen · not polled yet")
    assert missing.response.content.startswith("Not found:")
    assert removed.response.content.startswith("🗑️ Stopped following **The AI Wire**.")
    assert stored_feeds(settings) == []


# ---- the poll loop and announcements ---------------------------------------------------------------------


async def test_a_poll_posts_one_batched_announcement(world: World, site: FeedSite, news: Any,
                                                      services: FeedServices) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    await world.admin.slash(world.channel, "feeds add", url=url, channel=news)
    assert bot_messages(news, world.bot) == []

    await world.env.advance_time(60)  # the loop's next tick: the new feed is due

    [message] = bot_messages(news, world.bot)
    [embed] = message.embeds
    assert embed.title == "📰 3 new articles" and len(embed.fields) == 3
    fields = {f.value.split("\n")[0]: f for f in embed.fields}
    mistral = fields[f"[Mistral trains a model on \\*European\\* data only]({site.url('/news/mistral-european')})"]
    assert mistral.name == "The AI Wire · 11 March 2026"
    assert mistral.value.split("\n")[1].startswith("Mistral said its newest model was trained only on text")
    assert message.mentions == [] and not message.mention_everyone
    assert services.store.document_count() == 3
    [sent] = [r for r in world.env.http_requests if r.method == "POST" and "embeds" in (r.json or {})]
    assert sent.json["allowed_mentions"] == {"parse": []}

    # a new entry: one more message, with just that article; a quiet feed posts nothing
    site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")).replace(
        b"<item>", f"<item><title>Our second open model</title><link>{site.url('/blog/second-model')}</link>"
                   f"<pubDate>Fri, 13 Mar 2026 08:00:00 GMT</pubDate></item><item>".encode(), 1))
    await world.env.advance_time(1800)
    await world.env.advance_time(1800)

    messages = bot_messages(news, world.bot)
    assert len(messages) == 2
    assert [f.name for f in messages[1].embeds[0].fields] == ["Frontier Labs · 5 March 2026"]


async def test_feeds_list_shows_the_last_poll_and_failures(world: World, site: FeedSite, settings: Settings) -> None:
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    await world.admin.slash(world.channel, "feeds add", url=url)
    await world.env.advance_time(60)
    site.serve_feed("/feed.xml", feed_text("malformed.xml", ""))
    await world.env.advance_time(1800)

    listed = await world.admin.slash(world.channel, "feeds list")

    description = listed.response.embeds[0].description
    [feed] = stored_feeds(settings)
    last_poll = int(parse_iso(feed.last_poll_at).timestamp())
    assert f"3 entries seen · last poll <t:{last_poll}:R>" in description
    assert "⚠️ 1 failure in a row: this is not an RSS or Atom feed.; next try <t:" in description


async def test_polling_never_blocks_answering(world: World, site: FeedSite, news: Any, services: FeedServices) -> None:
    slow_paths = ["/blog/second-model", "/blog/sparse-experts", "/blog/evals", "/blog/hiring"]
    for path in slow_paths:  # pages that take a while, and a long one that takes a while to embed
        inner = site.server.routes[path]
        site.server.routes[path] = lambda received, inner=inner: (time.sleep(0.4), inner(received))[1]
    title, name, date, paragraphs = ARTICLES["/blog/hiring"]
    site.serve_page("/blog/hiring", title, name, date, paragraphs * 30)
    site.serve_feed("/feed.xml", rss(site, slow_paths))
    await world.admin.slash(world.channel, "feeds add", url=site.url("/feed.xml"), channel=news)
    cog: FeedsCog = world.bot.get_cog("FeedsCog")  # type: ignore[assignment]

    lags: list[float] = []

    async def watch_the_loop() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - started - 0.01)

    watcher = asyncio.create_task(watch_the_loop())
    poll = asyncio.create_task(cog.tick())  # a poll under way, as the loop would start it
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    asked = await world.alice.slash(world.channel, "ask", question="What did Frontier Labs release?")
    took = time.perf_counter() - started
    still_polling = not poll.done()
    await asyncio.wait_for(poll, 60)
    watcher.cancel()

    assert asked.acknowledged and asked.response.content.startswith("Nvidia announced")  # the fake answer
    assert took < 1.0 and still_polling
    assert max(lags) < 0.25, max(lags)  # nothing blocked the event loop during the whole poll
    assert services.store.document_count() == 4
    [message] = bot_messages(news, world.bot)
    assert len(message.embeds[0].fields) == 4
