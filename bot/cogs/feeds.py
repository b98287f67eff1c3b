"""/feeds add|remove|list (admins), the poll loop inside the bot, and announcements of new articles.

The loop ticks every minute (or FEEDS_POLL_INTERVAL if shorter) and polls the feeds that are due, so
a new feed starts within a minute and a failing one waits out its back-off. Polling runs in its own
task and does its blocking work (parsing, extraction, embedding, SQLite) in threads and processes, so
answers never wait for it. What a poll finds for a feed with a channel is posted there in as few
messages as Discord's limits allow, never one message per article.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from ingest.errors import IngestError
from ingest.feedpoll import FeedPoller, FeedReport, NewArticle
from ingest.feedstore import Feed, FeedStore, parse_iso
from newsdesk.settings import Paths
from vectorstore.errors import StoreError

from ..access import library_of
from ..render import EMBED_TOTAL_LIMIT, build_embed, link, plain
from ..replies import NO_MENTIONS, defer, finish, tell
from .admin import admin_only, shown

if TYPE_CHECKING:
    from ..client import NewsdeskBot

log = logging.getLogger(__name__)

FIELDS_PER_EMBED = 10
EMBEDS_PER_MESSAGE = 10
_TITLE_ROOM = 60  # an embed title ("📰 10 new articles") and slack, counted against the 6000 characters


# ---- rendering (pure) ---------------------------------------------------------------------------------


def human_date(iso: str) -> str:
    """"12 March 2026", or "date unknown"."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return "date unknown"
    return f"{moment.day} {moment:%B %Y}"


def article_field(article: NewArticle) -> tuple[str, str]:
    name = f"{plain(article.site, 120) or 'source'} · {human_date(article.published)}"
    value = link(article.title or article.url, article.url, 450)
    if article.summary:
        value += "\n" + plain(article.summary, 520)
    return name, value


def announcement_messages(articles: Sequence[NewArticle]) -> list[list[discord.Embed]]:
    """The embeds of each message announcing `articles`: up to 10 articles per embed, and per message
    up to 10 embeds and 6000 characters in all."""
    messages: list[list[list[tuple[str, str]]]] = []
    size = EMBED_TOTAL_LIMIT
    for field in map(article_field, articles):
        cost = len(field[0]) + len(field[1])
        if size + cost > EMBED_TOTAL_LIMIT - _TITLE_ROOM or (
            len(messages[-1]) == EMBEDS_PER_MESSAGE and len(messages[-1][-1]) == FIELDS_PER_EMBED
        ):
            messages.append([[]])
            size = 0
        embeds = messages[-1]
        if len(embeds[-1]) == FIELDS_PER_EMBED:
            embeds.append([])
        embeds[-1].append(field)
        size += cost
    built = []
    for embeds in messages:
        count = sum(map(len, embeds))
        title = f"📰 {count} new article{'s' if count != 1 else ''}"
        built.append([build_embed(title=title if i == 0 else "", fields=f) for i, f in enumerate(embeds)])
    return built


def feed_lines(feed: Feed, now: datetime) -> str:
    """One feed in /feeds list: its title, channel, last poll and health."""
    where = f" → <#{feed.channel_id}>" if feed.channel_id else ""
    head = f"**{link(feed.title or feed.url, feed.url, 400)}**{where}"
    polled = parse_iso(feed.last_poll_at)
    when = f"last poll {discord.utils.format_dt(polled, 'R')}" if polled else "not polled yet"
    health = f"{feed.seen} entries seen · {when}"
    if feed.failures:
        retry = parse_iso(feed.next_poll_at)
        again = f"; next try {discord.utils.format_dt(retry, 'R')}" if retry and retry > now else ""
        noun = "failure" if feed.failures == 1 else "failures"
        health += f"\n⚠️ {feed.failures} {noun} in a row: {plain(feed.last_error, 200)}{again}"
    return f"{head}\n{health}"


def can_post(channel: object, me: object) -> bool:
    permissions = channel.permissions_for(me)  # type: ignore[attr-defined]
    return permissions.send_messages and permissions.embed_links


# ---- the cog ------------------------------------------------------------------------------------------


class FeedsCog(commands.Cog):
    feeds = app_commands.Group(
        name="feeds", description="RSS and Atom feeds the bot keeps itself current from (admins).",
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
    )

    def __init__(self, bot: NewsdeskBot):
        self.bot = bot
        self.settings = bot.settings.feeds
        self.poller: FeedPoller | None = None
        self.poll_loop = tasks.loop(seconds=min(60.0, self.settings.poll_interval))(self.tick)
        self.poll_loop.before_loop(self._wait_until_ready)

    async def cog_load(self) -> None:
        paths = Paths(self.bot.settings.data_dir)
        store = await asyncio.to_thread(FeedStore, paths.feeds_db)
        # No pipeline yet: opening it opens the article store, which may be down (a Chroma server that
        # is not up yet). The bot must start anyway; the first tick that can open it attaches it.
        # discord's clock: the real one in production, SimCord's virtual one in the tests
        self.poller = FeedPoller(store, None, self.settings, self.bot.settings.fetch, clock=discord.utils.utcnow)
        self.poll_loop.start()

    async def cog_unload(self) -> None:
        self.poll_loop.cancel()
        if self.poller is not None:
            await asyncio.to_thread(self.poller.store.close)

    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    # ---- polling and announcing ---------------------------------------------------------------------

    async def tick(self) -> None:
        """One loop iteration: poll what is due, announce what is new. Never raises (it would stop the loop)."""
        if self.poller is None or self.bot.shutting_down:
            return
        try:
            if not self.poller.can_poll:
                try:
                    self.poller.attach(await asyncio.to_thread(lambda: self.bot.services.pipeline))
                except StoreError as error:
                    log.warning("feeds not polled: %s", error)
                    return
            reports = await self.poller.poll()
            await self.announce(reports)
        except Exception:  # noqa: BLE001 - the loop must outlive any one poll
            log.exception("feed poll failed")

    async def announce(self, reports: Sequence[FeedReport]) -> None:
        by_channel: dict[int, list[NewArticle]] = {}
        for report in reports:
            if report.feed.channel_id and report.new:
                by_channel.setdefault(report.feed.channel_id, []).extend(report.new)
        for channel_id, articles in by_channel.items():
            channel = self.bot.get_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                log.warning("cannot announce %d new articles: channel %s is gone or not a text channel",
                            len(articles), channel_id)
                continue
            for embeds in announcement_messages(articles):
                try:
                    await channel.send(embeds=embeds, allowed_mentions=NO_MENTIONS)
                except discord.HTTPException as error:
                    log.warning("cannot announce in channel %s: %s", channel_id, error)
                    break

    # ---- commands -----------------------------------------------------------------------------------

    @feeds.command(name="add", description="Follow an RSS or Atom feed: its new articles are ingested (and posted).")
    @app_commands.describe(url="The feed's address, or a page that links to its feed",
                           channel="Where to post new articles (leave empty to only ingest them)")
    @admin_only()  # type: ignore[arg-type]
    async def add(self, interaction: discord.Interaction, url: app_commands.Range[str, 4, 2000],
                  channel: discord.TextChannel | None = None) -> None:
        url = url.strip()
        me = interaction.guild.me if interaction.guild is not None else None
        if channel is not None and me is not None and not can_post(channel, me):
            await tell(interaction, f"I can't post in {channel.mention}: I need Send Messages and Embed Links there.")
            return
        await defer(interaction, ephemeral=True)
        assert self.poller is not None
        try:
            done = await self.poller.subscribe(url, channel.id if channel else None, interaction.guild_id,
                                               library_of(interaction.guild_id))
        except IngestError as error:
            log.info("feed %s refused (%s): %s", url, error.kind, error.message)
            await tell(interaction, f"❌ Could not add {shown(url)}: {error.message}")
            return
        log.info("feed %s added by %s (channel %s)", done.url, interaction.user.id, channel and channel.id)
        entries = f"{done.entries} entr{'y' if done.entries == 1 else 'ies'}"
        where = f"New articles will be posted in {channel.mention}." if channel else "New articles are not posted anywhere."
        if done.created:
            first = min(done.entries, self.settings.first_poll_max)
            text = (f"📡 Following **{plain(done.title, 200)}** ({entries} now). The newest {first} will be ingested "
                    f"within a minute, then new ones as they appear. {where}")
        else:
            text = f"📡 Already following **{plain(done.title, 200)}** ({entries} now). {where}"
        await finish(interaction, content=text + f"\n-# {shown(done.url)}")

    @feeds.command(name="remove", description="Stop following a feed (its articles stay among the sources).")
    @app_commands.describe(url="The feed's address, as /feeds list shows it")
    @admin_only()  # type: ignore[arg-type]
    async def remove(self, interaction: discord.Interaction, url: app_commands.Range[str, 4, 2000]) -> None:
        await defer(interaction, ephemeral=True)
        assert self.poller is not None
        feed = await self.poller.unsubscribe(url, library_of(interaction.guild_id))  # only this server's feeds
        if feed is None:
            await tell(interaction, f"Not found: {shown(url.strip())} is not among the feeds (see /feeds list).")
            return
        log.info("feed %s removed by %s", feed.url, interaction.user.id)
        await tell(interaction, f"🗑️ Stopped following **{plain(feed.title, 200)}**. Its articles stay among the "
                                "sources (remove one with /forget).")

    @feeds.command(name="list", description="The feeds followed: where they post, their last poll and failures.")
    @admin_only()  # type: ignore[arg-type]
    async def list_feeds(self, interaction: discord.Interaction) -> None:
        await defer(interaction, ephemeral=True)
        assert self.poller is not None
        feeds = await asyncio.to_thread(self.poller.store.list, library_of(interaction.guild_id))
        now = discord.utils.utcnow()
        lines = [f"**{i}.** {feed_lines(f, now)}" for i, f in enumerate(feeds, 1)]
        description, shown_count = "", 0
        for line in lines:
            if len(description) + len(line) + 2 > 3900:
                break
            description += line + "\n\n"
            shown_count += 1
        hidden = len(feeds) - shown_count
        footer = f"{hidden} more not shown · " if hidden else ""
        footer += f"polled every {self.settings.poll_interval / 60:g} min"
        embed = build_embed(title=f"Feeds ({len(feeds)})", footer=footer,
                            description=description.strip() or "No feeds yet. Add one with /feeds add.")
        await finish(interaction, embed=embed, allowed_mentions=NO_MENTIONS)


async def setup(bot: NewsdeskBot) -> None:
    """For `bot.load_extension("bot.cogs.feeds")`."""
    await bot.add_cog(FeedsCog(bot))
