"""/ask, mentions and threads: parse the question, pass the fair-use gates, answer, render, deliver."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from answer.types import Answer, Turn
from vectorstore.errors import StoreError

from ..access import auto_channel, libraries_for, place_allowed
from ..conversation import strip_mentions, thread_title, thread_turns
from ..fairuse import Allowance, GateClosed
from ..render import queued_text, render_answer
from ..replies import NO_MENTIONS, STORE_DOWN, defer, finish, new_ref, show_progress, tell
from ..views import answer_view

if TYPE_CHECKING:
    from ..client import NewsdeskBot

log = logging.getLogger(__name__)

RESTARTING = "I'm restarting right now; please ask again in a minute."
EMPTY_MENTION = "Ask me a question after the mention, e.g. “@newsdesk what did Nvidia announce this week?”"


def cooldown_text(seconds: float) -> str:
    return f"You can ask again in {Allowance.wait_text(seconds)}."


def timeout_text(ref: str) -> str:
    return f"Sorry, answering took too long (ref `{ref}`). Please try again, perhaps with a narrower question."


class AskCog(commands.Cog):
    def __init__(self, bot: NewsdeskBot):
        self.bot = bot

    # ---- /ask -----------------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask about the AI industry; the answer cites the articles it uses.")
    @app_commands.describe(question="Your question", private="Only you see the answer (default: everyone here)")
    async def ask(
        self, interaction: discord.Interaction, question: app_commands.Range[str, 2, 1000], private: bool = False
    ) -> None:
        bot = self.bot
        if bot.shutting_down:
            await tell(interaction, RESTARTING)
            return
        wait = bot.allowance.try_take(interaction.user.id, interaction.guild_id)
        if wait:
            await tell(interaction, cooldown_text(wait))
            return
        await defer(interaction, ephemeral=private)  # first, so the 3-second deadline never bites

        async def on_queued(ahead: int) -> None:
            await show_progress(interaction, queued_text(ahead))

        try:
            answer = await bot.answer(question, (), on_queued,
                                      libraries=libraries_for(bot.config, interaction.guild_id),
                                      scope=await bot.scope_of(interaction.channel, interaction.guild_id))
        except GateClosed:
            await tell(interaction, RESTARTING)
            return
        except StoreError as error:
            log.warning("store unavailable for /ask: %s", error)
            await tell(interaction, STORE_DOWN)
            return
        except TimeoutError:
            ref = new_ref()
            log.warning("answer timed out ref=%s after %ss: %r", ref, bot.config.answer_timeout, question[:80])
            await tell(interaction, timeout_text(ref))
            return
        await self._deliver_to_interaction(interaction, question, answer, private)

    async def _deliver_to_interaction(
        self, interaction: discord.Interaction, question: str, answer: Answer, private: bool
    ) -> None:
        rendered = render_answer(answer)
        answer_id = await self.bot.remember(
            answer, question=question, user_id=interaction.user.id, guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
        )
        view = answer_view(answer_id, quotes=bool(rendered.embed)) if answer_id else None
        last = len(rendered.parts) - 1
        for i, part in enumerate(rendered.parts):
            extra = {k: v for k, v in (("embed", rendered.embed), ("view", view)) if v is not None and i == last}
            if i == 0:  # the deferred original becomes the first part
                await finish(interaction, content=part, embed=extra.get("embed"), view=extra.get("view"))
            else:
                await interaction.followup.send(part, ephemeral=private, allowed_mentions=NO_MENTIONS, **extra)  # type: ignore[arg-type]

    # ---- mentions and threads -------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        bot = self.bot
        me = bot.user
        if me is None or message.author.bot or message.webhook_id is not None:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        guild = message.guild
        if not place_allowed(bot.config, guild.id if guild else None, message.channel):
            return  # outside the allowed guilds/channels (or a DM while DMs are off): silence
        try:
            await self._on_question(message, me)
        except Exception as error:  # noqa: BLE001 - the edge: one apology, the traceback in the log
            ref = new_ref()
            log.error("error ref=%s answering message %s in %s", ref, message.id, message.channel.id, exc_info=error)
            try:
                await message.channel.send(
                    f"Sorry, something went wrong on my side (ref `{ref}`).", allowed_mentions=NO_MENTIONS
                )
            except discord.HTTPException:
                log.warning("could not send the apology for ref=%s", ref)

    async def _on_question(self, message: discord.Message, me: discord.ClientUser) -> None:
        channel = message.channel
        guild = message.guild
        role_id = guild.self_role.id if guild and guild.self_role else None
        question = strip_mentions(message.content, me.id, role_id)
        history: Sequence[Turn] = ()
        if guild is None:  # a DM (allowed, or place_allowed would have said no): answer in place
            target: discord.abc.Messageable = channel
        elif isinstance(channel, discord.Thread) and channel.owner_id == me.id:
            target = channel  # a follow-up in the bot's own thread: no mention needed
            history = await thread_turns(channel, message, me)
        elif self._addressed(message, me, role_id) or auto_channel(self.bot.config, channel):
            if not question:
                await message.reply(EMPTY_MENTION, allowed_mentions=NO_MENTIONS)
                return
            target = await self._open_thread(message, question)
        else:
            return
        if not question:
            return
        await self._answer_message(message, target, question, history)

    @staticmethod
    def _addressed(message: discord.Message, me: discord.ClientUser, role_id: int | None) -> bool:
        """Mentioned by name (not @everyone), or through the bot's own role, which users often pick instead."""
        return any(u.id == me.id for u in message.mentions) or any(r.id == role_id for r in message.role_mentions)

    async def _open_thread(self, message: discord.Message, question: str) -> discord.abc.Messageable:
        if not isinstance(message.channel, discord.TextChannel):
            return message.channel  # a forum post, a voice channel's chat, someone else's thread: reply in place
        try:
            return await message.create_thread(name=thread_title(question), auto_archive_duration=1440)
        except discord.HTTPException as error:  # no Create Public Threads permission: answer in the channel
            log.warning("could not open a thread in %s (%s); answering in the channel", message.channel.id, error)
            return message.channel

    async def _answer_message(
        self, message: discord.Message, target: discord.abc.Messageable, question: str, history: Sequence[Turn]
    ) -> None:
        bot = self.bot
        if bot.shutting_down:
            await target.send(RESTARTING, allowed_mentions=NO_MENTIONS)
            return
        wait = bot.allowance.try_take(message.author.id, message.guild.id if message.guild else None)
        if wait:
            await target.send(cooldown_text(wait), allowed_mentions=NO_MENTIONS)
            return
        placeholder: discord.Message | None = None

        async def on_queued(ahead: int) -> None:
            nonlocal placeholder
            if placeholder is None:
                placeholder = await target.send(queued_text(ahead), allowed_mentions=NO_MENTIONS)
            else:
                await placeholder.edit(content=queued_text(ahead), allowed_mentions=NO_MENTIONS)

        await target.typing()
        try:
            guild_id = message.guild.id if message.guild else None
            answer = await bot.answer(question, history, on_queued, libraries=libraries_for(bot.config, guild_id),
                                      scope=await bot.scope_of(message.channel, guild_id))
        except GateClosed:
            await target.send(RESTARTING, allowed_mentions=NO_MENTIONS)
            return
        except StoreError as error:
            log.warning("store unavailable for a mention: %s", error)
            await _say(placeholder, target, STORE_DOWN)
            return
        except TimeoutError:
            ref = new_ref()
            log.warning("answer timed out ref=%s after %ss: %r", ref, bot.config.answer_timeout, question[:80])
            await target.send(timeout_text(ref), allowed_mentions=NO_MENTIONS)
            return
        rendered = render_answer(answer)
        answer_id = await bot.remember(
            answer, question=question, user_id=message.author.id, guild_id=message.guild and message.guild.id,
            channel_id=getattr(target, "id", None),
        )
        view = answer_view(answer_id, quotes=bool(rendered.embed)) if answer_id else None
        last = len(rendered.parts) - 1
        for i, part in enumerate(rendered.parts):
            extra = {k: v for k, v in (("embed", rendered.embed), ("view", view)) if v is not None and i == last}
            if i == 0 and placeholder is not None:
                await placeholder.edit(content=part, allowed_mentions=NO_MENTIONS, **extra)  # type: ignore[arg-type]
            else:
                await target.send(part, allowed_mentions=NO_MENTIONS, **extra)  # type: ignore[arg-type]


async def _say(placeholder: discord.Message | None, target: discord.abc.Messageable, text: str) -> None:
    """`text` in place of the queue placeholder if there is one, else as a new message."""
    if placeholder is not None:
        await placeholder.edit(content=text, allowed_mentions=NO_MENTIONS)
    else:
        await target.send(text, allowed_mentions=NO_MENTIONS)
