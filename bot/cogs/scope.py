"""/scope set|show|clear (admins): limit what a channel's answers draw on to some sites and/or feeds of
its server's libraries; threads follow their channel. All replies are private."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from vectorstore.records import Scope

from ..access import libraries_for, library_of, scope_channel
from ..render import plain
from ..replies import defer, tell
from ..scopes import feed_titles, scope_names
from .admin import admin_only

if TYPE_CHECKING:
    from ..client import NewsdeskBot

log = logging.getLogger(__name__)


def split_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class ScopeCog(commands.Cog):
    def __init__(self, bot: NewsdeskBot):
        self.bot = bot

    scope = app_commands.Group(
        name="scope", description="Limit what this channel's answers draw on (admins).",
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
    )

    def _feed_titles(self, guild_id: int) -> dict[str, str]:
        return feed_titles(self.bot.settings.data_dir, library_of(guild_id))

    async def _say(self, interaction: discord.Interaction, channel: int, scope: Scope, verb: str) -> None:
        titles = await asyncio.to_thread(self._feed_titles, interaction.guild_id or 0)
        await tell(interaction, f"🔎 Answers in <#{channel}> {verb}: {plain(scope_names(scope, titles), 900)}.")

    def _sites(self, guild_id: int) -> set[str]:
        docs = self.bot.services.store.list_documents(libraries_for(self.bot.config, guild_id))
        return {d.site for d in docs if d.site}

    @scope.command(name="set", description="Answers in this channel draw only on these sites and/or feeds.")
    @app_commands.describe(sites="Site names as /sources shows them, comma-separated",
                           feeds="Feed addresses as /feeds list shows them, comma-separated")
    @admin_only()  # type: ignore[arg-type]
    async def set_scope(self, interaction: discord.Interaction, sites: str | None = None,
                        feeds: str | None = None) -> None:
        await defer(interaction, ephemeral=True)
        guild_id = interaction.guild_id
        assert guild_id is not None
        wanted_sites, wanted_feeds = split_list(sites), split_list(feeds)
        if not wanted_sites and not wanted_feeds:
            await tell(interaction, "Give at least one site or feed (or use /scope clear to lift the limit).")
            return
        known_sites = await asyncio.to_thread(self._sites, guild_id)
        titles = await asyncio.to_thread(self._feed_titles, guild_id)  # the server's own feeds
        by_case = {s.casefold(): s for s in known_sites}
        unknown = [s for s in wanted_sites if s.casefold() not in by_case]
        unknown += [f for f in wanted_feeds if f not in titles]
        if unknown:
            await tell(interaction, "Not among this server's sources or feeds: " + ", ".join(plain(u, 200) for u in unknown)
                       + ". See /sources and /feeds list.")
            return
        scope = Scope(tuple(by_case[s.casefold()] for s in wanted_sites), tuple(wanted_feeds))
        channel = scope_channel(interaction.channel)
        await asyncio.to_thread(self.bot.scope_store().set, channel, guild_id, scope, interaction.user.id)
        log.info("scope of channel %s set by %s: %s", channel, interaction.user.id, scope)
        await self._say(interaction, channel, scope, "now draw only on")

    @scope.command(name="show", description="What this channel's answers draw on.")
    @admin_only()  # type: ignore[arg-type]
    async def show(self, interaction: discord.Interaction) -> None:
        await defer(interaction, ephemeral=True)
        channel = scope_channel(interaction.channel)
        scope = await asyncio.to_thread(self.bot.scope_store().get, channel)
        if not scope:
            await tell(interaction, f"<#{channel}> has no scope: its answers draw on all of this server's sources.")
            return
        await self._say(interaction, channel, scope, "draw only on")

    @scope.command(name="clear", description="Lift this channel's scope: answers draw on all sources again.")
    @admin_only()  # type: ignore[arg-type]
    async def clear(self, interaction: discord.Interaction) -> None:
        await defer(interaction, ephemeral=True)
        channel = scope_channel(interaction.channel)
        cleared = await asyncio.to_thread(self.bot.scope_store().clear, channel)
        await tell(interaction, f"<#{channel}> draws on all of this server's sources again." if cleared
                   else f"<#{channel}> had no scope.")
