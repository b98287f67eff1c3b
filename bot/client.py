"""The bot: a commands.Bot with the intents it needs, the command tree, start-up and graceful shutdown.

`create_bot()` builds it without touching the network (tests drive it through SimCord); `setup_hook`
opens what is blocking to open (in a thread), registers the cogs and syncs the slash commands.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from answer.types import Answer, Turn
from newsdesk.settings import Paths, Settings
from vectorstore.errors import StoreError
from vectorstore.records import Scope

from .access import place_allowed, refusal_for, scope_channel
from .fairuse import Allowance, AnswerGate, Queued
from .replies import STORE_DOWN, report_error, tell
from .scopes import ScopeStore, feed_titles, scope_line
from .votes import AnswerLog

if TYPE_CHECKING:
    from answer.service import AnswerService
    from ingest.pipeline import Pipeline
    from vectorstore.store import Store

log = logging.getLogger(__name__)


class BotServices(Protocol):
    """What the bot uses of newsdesk.wiring.Services (tests pass fakes with the same shape)."""

    settings: Settings

    @property
    def store(self) -> Store: ...
    @property
    def pipeline(self) -> Pipeline: ...
    @property
    def answers(self) -> AnswerService: ...
    def stats(self) -> dict[str, object]: ...


def build_intents(allow_dms: bool) -> discord.Intents:
    """Only what the bot uses. message_content is privileged: enable it in the developer portal."""
    intents = discord.Intents.none()
    intents.guilds = True  # channels, threads, roles: the cache everything else relies on
    intents.guild_messages = True  # mentions, and follow-ups in the bot's threads
    intents.dm_messages = allow_dms
    intents.message_content = True  # to read follow-ups that do not mention the bot
    return intents


class NewsdeskTree(app_commands.CommandTree):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        bot: NewsdeskBot = interaction.client  # type: ignore[assignment]
        if place_allowed(bot.config, interaction.guild_id, interaction.channel):
            return True
        await tell(interaction, refusal_for(interaction.guild_id))
        return False

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.CheckFailure):
            await tell(interaction, str(error) or "You can't use this command here.")
            return
        original = getattr(error, "original", error)
        if isinstance(original, StoreError):  # an outage, not a bug: one sentence, no reference to chase
            log.warning("%s: store unavailable: %s", interaction.command and interaction.command.qualified_name, original)
            await tell(interaction, STORE_DOWN)
            return
        await report_error(interaction, getattr(error, "original", error), log)


class NewsdeskBot(commands.Bot):
    def __init__(self, settings: Settings, services: BotServices):
        config = settings.discord
        contexts = app_commands.AppCommandContext(guild=True, dm_channel=config.allow_dms, private_channel=False)
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: no prefix commands, see on_message
            intents=build_intents(config.allow_dms),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=NewsdeskTree,
            help_command=None,
            allowed_contexts=contexts,
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        )
        self.settings = settings
        self.config = config
        self.services = services
        self.allowance = Allowance(*config.allowance, server_per_minute=config.server_ceiling)
        self.gate = AnswerGate(config.max_concurrent_answers)
        self.answer_log: AnswerLog | None = None
        self._scopes: ScopeStore | None = None
        self.shutting_down = False
        self.handle_signals = False  # run_bot turns this on; tests leave the test runner's signals alone
        self._shutdown_task: asyncio.Task[None] | None = None
        self._services_open = False  # the store and the services on it opened (see _open_blocking)
        self._pruned_at: float | None = None  # event-loop time of the last prune of old answers
        self._checked_public = False  # the "public without an allow-list" warning is given once

    # ---- start ----------------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        await asyncio.to_thread(self._open_blocking)
        from .cogs.admin import AdminCog
        from .cogs.ask import AskCog
        from .cogs.feeds import FeedsCog
        from .cogs.scope import ScopeCog
        from .views import QuotesButton, VoteButton

        self.add_dynamic_items(QuotesButton, VoteButton)
        await self.add_cog(AskCog(self))
        await self.add_cog(AdminCog(self))
        await self.add_cog(FeedsCog(self))
        await self.add_cog(ScopeCog(self))
        await self.sync_commands()
        if self.handle_signals:
            self._install_signal_handlers()

    def _open_blocking(self) -> None:
        """The SQLite file and the services' lazy parts (Chroma, the embedder, retrieval): off the loop."""
        self.answer_log = AnswerLog(Paths(self.settings.data_dir).bot_db)
        try:
            self._open_services()
        except StoreError as error:  # start anyway: each request tries the store again and says it is down
            log.warning("the store is unavailable at start (%s); the bot starts and retries on each request", error)

    def _open_services(self) -> None:
        for name in ("store", "pipeline", "answers"):
            getattr(self.services, name)
        self._services_open = True

    async def sync_commands(self) -> None:
        guild_id = self.config.guild_id
        try:
            if guild_id:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d slash commands to guild %s", len(synced), guild_id)
                # Commands an earlier global sync registered would show twice in that server: remove them.
                self.tree.clear_commands(guild=None)
                await self.tree.sync()
            else:
                synced = await self.tree.sync()
                log.info("synced %d slash commands globally (new ones can take a while to appear)", len(synced))
        except discord.Forbidden as error:
            log.error(
                "could not sync slash commands (%s): invite the bot with the applications.commands scope%s",
                error.text or error.status, f" to guild {guild_id}" if guild_id else "",
            )
        except discord.HTTPException as error:
            log.error("could not sync slash commands: %s", error)

    async def on_ready(self) -> None:
        log.info("logged in as %s (id %s) in %d servers", self.user, self.user and self.user.id, len(self.guilds))
        await self._leave_unwanted(list(self.guilds))
        if not self._checked_public:
            self._checked_public = True
            await self._warn_if_public()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._leave_unwanted([guild])

    async def on_guild_available(self, guild: discord.Guild) -> None:  # a server seen again after an outage
        await self._leave_unwanted([guild])

    async def _leave_unwanted(self, guilds: Sequence[discord.Guild]) -> None:
        """With DISCORD_ALLOWED_GUILDS set, leave every other server (anyone may invite a public bot);
        until it has left, place_allowed already refuses to act there."""
        allowed = self.config.allowed_guilds
        for guild in guilds:
            if not allowed or guild.id in allowed:
                continue
            log.warning("leaving server %r (%s): it is not in DISCORD_ALLOWED_GUILDS", guild.name, guild.id)
            try:
                await guild.leave()
            except discord.HTTPException as error:
                log.error("could not leave server %s: %s", guild.id, error)

    async def _warn_if_public(self) -> None:
        if self.config.allowed_guilds:
            return
        try:
            info = await self.application_info()
        except discord.HTTPException as error:
            log.debug("could not read the application's settings: %s", error)
            return
        if info.bot_public:
            log.warning("the bot is Public in the Discord developer portal and DISCORD_ALLOWED_GUILDS is empty: "
                        "anyone can add it to a server; set DISCORD_ALLOWED_GUILDS to your servers' ids, or turn "
                        "off Public Bot (Bot tab)")

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the ask cog listens to messages itself."""

    # ---- answering ------------------------------------------------------------------------------

    async def answer(self, question: str, history: Sequence[Turn] = (), on_queued: Queued | None = None, *,
                     libraries: Sequence[str], scope: Scope | None = None) -> Answer:
        """Wait for a free slot (fair use), then answer from `libraries` (within a channel's `scope`, which
        the answer then names) within DISCORD_ANSWER_TIMEOUT (TimeoutError past it)."""

        async def work() -> Answer:
            async with asyncio.timeout(self.config.answer_timeout):
                if not self._services_open:  # the store failed at start: open it now (blocking) or raise StoreError
                    await asyncio.to_thread(self._open_services)
                if scope:
                    return await self.services.answers.answer(question, list(history), list(libraries), scope)
                return await self.services.answers.answer(question, list(history), list(libraries))

        answer = await self.gate.run(work(), on_queued)
        if scope:
            line = scope_line(scope, await asyncio.to_thread(self._feed_titles, scope))
            answer = dataclasses.replace(answer, note=f"{answer.note} {line}".strip())
        return answer

    def scope_store(self) -> ScopeStore:
        """The channel scopes, in the bot's SQLite file (opened on first use)."""
        if self._scopes is None:
            self._scopes = ScopeStore(Paths(self.settings.data_dir).bot_db)
        return self._scopes

    async def scope_of(self, channel: object, guild_id: int | None) -> Scope:
        """The scope of a channel (a thread's is its parent's); none in DMs or when it cannot be read."""
        if guild_id is None:
            return Scope()
        try:
            return await asyncio.to_thread(self.scope_store().get, scope_channel(channel))
        except sqlite3.Error as error:
            log.warning("could not read the channel scopes: %s", error)
            return Scope()

    def _feed_titles(self, scope: Scope) -> dict[str, str]:
        return feed_titles(self.settings.data_dir) if scope.feeds else {}

    async def remember(self, answer: Answer, *, question: str, user_id: int, guild_id: int | None,
                       channel_id: int | None) -> int | None:
        """Store the answer for its buttons; None (no buttons) if the bot's database is unavailable."""
        if self.answer_log is None:
            return None
        try:
            answer_id = await asyncio.to_thread(
                self.answer_log.record_answer, answer, question=question, user_id=user_id, guild_id=guild_id,
                channel_id=channel_id,
            )
        except sqlite3.Error as error:  # a full disk must not cost the user the answer: send it without buttons
            log.warning("could not store the answer in %s: %s", self.answer_log.path, error)
            return None
        await self._prune_answers()
        return answer_id

    async def _prune_answers(self) -> None:
        """At most once a day (and once at the first answer): forget unvoted answers past their retention."""
        days = self.config.answer_retention_days
        now = asyncio.get_running_loop().time()
        if not days or self.answer_log is None or (self._pruned_at is not None and now - self._pruned_at < 86400):
            return
        self._pruned_at = now
        try:
            gone = await asyncio.to_thread(self.answer_log.prune, days)
        except sqlite3.Error as error:  # a stored answer keeps its buttons; pruning waits for tomorrow
            log.warning("could not prune old answers in %s: %s", self.answer_log.path, error)
            return
        if gone:
            log.info("pruned %d answers older than %g days (nobody voted on them)", gone, days)

    # ---- stop -----------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.request_shutdown)
        except (NotImplementedError, RuntimeError):  # Windows: no signal handlers on the loop
            log.debug("SIGTERM handler not installed on this platform")

    def request_shutdown(self) -> None:
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.get_running_loop().create_task(self.graceful_close())

    async def graceful_close(self) -> None:
        """Stop taking questions, give answers in progress DISCORD_SHUTDOWN_GRACE seconds, then close."""
        self.shutting_down = True
        running = self.gate.running
        log.info("shutting down: %d answer(s) in progress, waiting up to %ss", running, self.config.shutdown_grace)
        if not await self.gate.drain(self.config.shutdown_grace):
            log.warning("shutdown grace over with %d answer(s) unfinished", self.gate.running)
        await self.close()

    async def close(self) -> None:
        self.shutting_down = True
        await super().close()
        if self.answer_log is not None:
            await asyncio.to_thread(self.answer_log.close)
            self.answer_log = None
        if self._scopes is not None:  # the scopes' connection to the same file, opened on first use
            await asyncio.to_thread(self._scopes.close)
            self._scopes = None


def create_bot(settings: Settings | None = None, *, services: Any = None) -> NewsdeskBot:
    """The ready bot, without touching the network. An entry point: it may build settings and services."""
    if settings is None:
        from newsdesk.settings import load_settings

        settings = load_settings()
    if services is None:
        from newsdesk.wiring import Services

        services = Services(settings)
    return NewsdeskBot(settings, services)
