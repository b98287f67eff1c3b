"""/ingest and /forget (admins), /sources and /stats (everyone). All replies are private."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from ingest.errors import IngestError

from ..access import ADMIN_REFUSAL, is_admin, libraries_for, library_of
from ..render import ingest_card, plain, safe_url, stats_embed
from ..replies import defer, finish, show_progress, tell
from ..views import SourcesPager

if TYPE_CHECKING:
    from ..client import NewsdeskBot

log = logging.getLogger(__name__)
T = TypeVar("T")


class NotAdmin(app_commands.CheckFailure):
    """The member has neither Manage Server nor DISCORD_ADMIN_ROLE."""


def admin_only() -> Callable[[T], T]:
    """The server-side half of the admin rule: default_permissions only hides the command in the client,
    and a server can re-grant it to anyone in its Integrations settings."""

    async def predicate(interaction: discord.Interaction) -> bool:
        bot: NewsdeskBot = interaction.client  # type: ignore[assignment]
        if is_admin(interaction.user, bot.config.admin_role):
            return True
        raise NotAdmin(ADMIN_REFUSAL)

    return app_commands.check(predicate)


def shown(url: str) -> str:
    """A URL as a link without a preview, or as inert text when it is not an http(s) URL."""
    target = safe_url(url)
    return f"<{target}>" if target and len(target) < 1500 else plain(url, 300)


class AdminCog(commands.Cog):
    def __init__(self, bot: NewsdeskBot):
        self.bot = bot

    @app_commands.command(name="ingest", description="Add an article to the sources by its URL (admins).")
    @app_commands.describe(url="The article's web address (http or https)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @admin_only()
    async def ingest(self, interaction: discord.Interaction, url: app_commands.Range[str, 4, 2000]) -> None:
        url = url.strip()
        await defer(interaction, ephemeral=True)

        async def progress(stage: str) -> None:
            await show_progress(interaction, f"⏳ {stage}… {shown(url)}")

        try:
            result = await self.bot.services.pipeline.ingest_url(url, progress=progress,
                                                                 library=library_of(interaction.guild_id))
        except IngestError as error:
            log.info("ingest of %s refused (%s): %s", url, error.kind, error.message)
            await tell(interaction, f"❌ Could not ingest {shown(url)}: {error.message}")
            return
        log.info("ingested %s: %s, %d chunks (by %s)", result.url, result.status, result.chunks, interaction.user.id)
        await finish(interaction, content=None, embed=ingest_card(result))

    @app_commands.command(name="forget", description="Remove an article and all its passages from the sources (admins).")
    @app_commands.describe(url="The article's URL, as listed by /sources")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @admin_only()
    async def forget(self, interaction: discord.Interaction, url: app_commands.Range[str, 4, 2000]) -> None:
        url = url.strip()
        await defer(interaction, ephemeral=True)
        try:
            # Only this server's library: the shared one changes from the command line, other servers' never.
            doc = await asyncio.to_thread(self.bot.services.pipeline.forget, url, library_of(interaction.guild_id))
        except IngestError as error:
            await tell(interaction, f"❌ Could not forget {shown(url)}: {error.message}")
            return
        if doc is None:
            await tell(interaction, f"Not found: {shown(url)} is not among the sources.")
            return
        log.info("forgot %s (%d chunks) (by %s)", doc.url, doc.chunks, interaction.user.id)
        await tell(interaction, f"🗑️ Forgot “{plain(doc.title, 200)}” — {plain(doc.site, 100)} ({doc.chunks} chunks).")

    @app_commands.command(name="sources", description="List the articles the answers come from, newest first.")
    async def sources(self, interaction: discord.Interaction) -> None:
        await defer(interaction, ephemeral=True)
        docs = await asyncio.to_thread(self.bot.services.store.list_documents,
                                       libraries_for(self.bot.config, interaction.guild_id))
        pager = SourcesPager(docs, interaction)
        if pager.pages > 1:
            await finish(interaction, embed=pager.embed(), view=pager)
        else:
            pager.stop()
            await finish(interaction, embed=pager.embed())

    @app_commands.command(name="stats", description="How many articles and passages the bot knows, and how it answers.")
    async def stats(self, interaction: discord.Interaction) -> None:
        await defer(interaction, ephemeral=True)
        stats = await asyncio.to_thread(self.bot.services.stats, libraries_for(self.bot.config, interaction.guild_id))
        await finish(interaction, embed=stats_embed(stats))
