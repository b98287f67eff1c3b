"""Buttons: Quotes / 👍 / 👎 under an answer, and ◀ ▶ paging of /sources.

The answer buttons are dynamic items: their custom_id carries the answer's row id in the bot's
SQLite file, so they keep working after a restart without any view being kept in memory.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from .render import quote_embeds, sources_page
from .replies import NO_MENTIONS, defer, finish, report_error, tell

if TYPE_CHECKING:
    from .client import NewsdeskBot

log = logging.getLogger(__name__)

VOTE_REPLIES = {
    "recorded": "Thanks for the feedback {emoji}.",
    "changed": "Changed your vote to {emoji}.",
    "unchanged": "You already voted {emoji} on this answer.",
    "unknown": "I no longer have this answer, so the vote was not recorded.",
}
GONE = "I no longer have the sources of this answer."


class QuotesButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nd:quotes:(?P<id>[0-9]+)"):
    """Shows the quoted passage of each source, only to the member who clicks."""

    def __init__(self, answer_id: int):
        super().__init__(
            discord.ui.Button(label="Quotes", emoji="📑", style=discord.ButtonStyle.secondary,
                              custom_id=f"nd:quotes:{answer_id}")
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> QuotesButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: NewsdeskBot = interaction.client  # type: ignore[assignment]
        try:
            await defer(interaction, ephemeral=True)
            stored = await asyncio.to_thread(bot.answer_log.get_answer, self.answer_id) if bot.answer_log else None
            if stored is None:
                await tell(interaction, GONE)
                return
            embeds = quote_embeds(stored.citations)
            await finish(interaction, embed=embeds[0])
            for embed in embeds[1:]:
                await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except Exception as error:  # noqa: BLE001 - dynamic items only log errors; the user gets an apology
            await report_error(interaction, error, log)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nd:vote:(?P<id>[0-9]+):(?P<v>up|down)"):
    """👍 / 👎: one vote per member and answer, stored in the bot's SQLite file."""

    def __init__(self, answer_id: int, up: bool):
        super().__init__(
            discord.ui.Button(emoji="👍" if up else "👎", style=discord.ButtonStyle.secondary,
                              custom_id=f"nd:vote:{answer_id}:{'up' if up else 'down'}")
        )
        self.answer_id = answer_id
        self.up = up

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> VoteButton:
        return cls(int(match["id"]), match["v"] == "up")

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: NewsdeskBot = interaction.client  # type: ignore[assignment]
        try:
            if bot.answer_log is None:
                outcome = "unknown"
            else:
                outcome = await asyncio.to_thread(
                    bot.answer_log.vote, self.answer_id, interaction.user.id, 1 if self.up else -1
                )
            await tell(interaction, VOTE_REPLIES[outcome].format(emoji="👍" if self.up else "👎"))
        except Exception as error:  # noqa: BLE001 - dynamic items only log errors; the user gets an apology
            await report_error(interaction, error, log)


def answer_view(answer_id: int, *, quotes: bool) -> discord.ui.View:
    """The buttons under an answer (no Quotes when the answer cites nothing)."""
    view = discord.ui.View(timeout=None)
    if quotes:
        view.add_item(QuotesButton(answer_id))
    view.add_item(VoteButton(answer_id, up=True))
    view.add_item(VoteButton(answer_id, up=False))
    return view


class SourcesPager(discord.ui.View):
    """◀ ▶ through the stored articles, 10 a page, on an ephemeral reply."""

    def __init__(self, docs: Sequence[object], interaction: discord.Interaction, per_page: int = 10):
        super().__init__(timeout=600)  # ephemeral replies stay editable for 15 minutes
        self.docs = docs
        self.per_page = per_page
        self.pages = max(1, -(-len(docs) // per_page))
        self.page = 0
        self.owner = interaction
        self._sync()

    def embed(self) -> discord.Embed:
        return sources_page(self.docs, self.page, self.per_page)

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner.user.id

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._sync()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(emoji="◀", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(emoji="▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, +1)

    async def on_timeout(self) -> None:
        try:
            await self.owner.edit_original_response(view=None)
        except discord.HTTPException:
            pass  # the reply was dismissed or the token expired: nothing to tidy

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await report_error(interaction, error, log)
