"""Starting and stopping: run_bot's one-line failures, create_bot, intents, guild sync, graceful stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import discord
import pytest
import simcord

from bot import create_bot
from bot.fairuse import GateClosed
from bot.runner import MISSING_TOKEN, NO_CONTENT_INTENT, REJECTED_TOKEN, failure_line, run_bot
from newsdesk.settings import SettingsError
from newsdesk.wiring import Services
from tests.bot.conftest import discord_settings
from tests.bot.fakes import FakeServices, make_answer
from tests.conftest import make_settings
from tests.support.httpserver import LoopbackServer
from vectorstore.errors import StoreUnavailableError

ROOT = Path(__file__).resolve().parents[2]


def test_no_token_is_one_line_and_exit_1(settings, capsys):
    assert run_bot(FakeServices(settings)) == 1

    captured = capsys.readouterr()
    assert captured.err == f"error: {MISSING_TOKEN}\n"
    assert captured.out == ""


def test_a_rejected_token_is_one_line_and_exit_1(tmp_path, request, monkeypatch, capsys):
    """discord.py's HTTP pointed at a loopback server that answers 401, as Discord does for a bad token."""
    unauthorized = (401, {"Content-Type": "application/json"}, b'{"message": "401: Unauthorized", "code": 0}')
    with LoopbackServer({"/api/v10/users/@me": unauthorized}) as discord_api:
        monkeypatch.setattr(discord.http.Route, "BASE", discord_api.url("/api/v10"))
        settings = make_settings(tmp_path, discord=discord_settings(request, token="not-a-real-token"))

        assert run_bot(FakeServices(settings)) == 1

    assert discord_api.paths() == ["/api/v10/users/@me"]
    assert discord_api.requests[0].headers["authorization"] == "Bot not-a-real-token"
    captured = capsys.readouterr()
    assert captured.err == f"error: {REJECTED_TOKEN}\n"
    assert "Traceback" not in captured.err + captured.out


def test_failure_lines():
    assert failure_line(discord.LoginFailure("Improper token has been passed.")) == REJECTED_TOKEN
    assert failure_line(discord.PrivilegedIntentsRequired(None)) == NO_CONTENT_INTENT
    assert failure_line(StoreUnavailableError("the Chroma server does not answer")) == (
        "store unavailable: the Chroma server does not answer"
    )
    assert failure_line(SettingsError("LLM_MODEL: install newsdesk[openai]")) == "LLM_MODEL: install newsdesk[openai]"
    assert failure_line(RuntimeError("a bug")) is None  # bugs keep their traceback


def test_create_bot_reads_the_environment_and_builds_the_real_services(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DISCORD_ALLOW_DMS", "true")
    monkeypatch.setenv("DISCORD_AUTO_CHANNELS", "11, 12")

    bot = create_bot()

    assert isinstance(bot.services, Services)
    assert bot.config.allow_dms and bot.config.auto_channels == [11, 12]
    assert "store" not in vars(bot.services)  # nothing opened, no network touched
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("allow_dms", [False, True])
def test_only_the_intents_it_needs(settings, allow_dms):
    bot = create_bot(settings.model_copy(update={"discord": settings.discord.model_copy(update={"allow_dms": allow_dms})}),
                     services=FakeServices(settings))
    wanted = discord.Intents(guilds=True, guild_messages=True, message_content=True, dm_messages=allow_dms)
    assert bot.intents == wanted
    assert bot.allowed_mentions.to_dict() == {"parse": []}


@pytest.mark.asyncio
async def test_commands_are_synced_to_the_configured_guild(tmp_path, request):
    guild_id = 1_234_567_890_123_456_789
    settings = make_settings(tmp_path, discord=discord_settings(request, guild_id=guild_id))
    env = simcord.Env(create_bot(settings, services=FakeServices(settings)))
    guild = env.create_guild("Newsroom", id=guild_id)
    other = env.create_guild("Elsewhere")
    # What an earlier run without DISCORD_GUILD_ID left on Discord: global copies of the commands.
    env.backend.register_commands(None, [{"name": "ask", "description": "Ask a question", "type": 1}])
    await env.start()
    try:
        alice = guild.add_member(env.create_user("alice"))
        bob = other.add_member(env.create_user("bob"))
        channel, elsewhere = guild.create_text_channel("ask-ai"), other.create_text_channel("general")
        assert set(alice.available_commands(channel)) == {"ask", "sources", "stats"}
        assert bob.available_commands(elsewhere) == ()
        puts = [r.path for r in env.http_requests if r.method == "PUT"]
        assert any(p.endswith(f"/guilds/{guild_id}/commands") for p in puts)
        assert env.backend.commands.get(None, {}) == {}  # no global copy to show twice
        result = await alice.slash(channel, "ask", question="What did Nvidia announce?")
        assert result.response.content == make_answer().text
    finally:
        await env.shutdown()


@pytest.mark.asyncio
async def test_graceful_close_lets_answers_finish_and_turns_queued_ones_away(tmp_path, request):
    settings = make_settings(tmp_path, discord=discord_settings(request, max_concurrent_answers=1, shutdown_grace=5))
    services = FakeServices(settings)
    services.answers.delay = 0.2
    bot = create_bot(settings, services=services)

    running = asyncio.create_task(bot.answer("first?", libraries=["shared"]))
    queued = asyncio.create_task(bot.answer("second?", libraries=["shared"]))
    await asyncio.sleep(0.05)
    await bot.graceful_close()

    assert (await running).text == make_answer().text
    with pytest.raises(GateClosed):
        await queued
    assert bot.shutting_down and bot.is_closed()
    assert [q for q, _ in services.answers.calls] == ["first?"]


@pytest.mark.asyncio
async def test_no_new_questions_while_shutting_down(world, services):
    world.bot.shutting_down = True

    result = await world.alice.slash(world.channel, "ask", question="Anyone there?")

    assert result.ephemeral and result.response.content.startswith("I'm restarting")
    assert services.answers.calls == []


SIGTERM_SCRIPT = textwrap.dedent("""
    import asyncio, os, signal, sys
    from bot import create_bot
    from tests.bot.fakes import FakeServices
    from tests.conftest import make_settings

    settings = make_settings(sys.argv[1], discord={"shutdown_grace": 5})
    services = FakeServices(settings)
    services.answers.delay = 0.5

    async def main():
        bot = create_bot(settings, services=services)
        bot._install_signal_handlers()
        answer = asyncio.create_task(bot.answer("in progress?", libraries=["shared"]))
        await asyncio.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)
        assert bot.shutting_down, "SIGTERM did not start the shutdown"
        await bot._shutdown_task
        print("answer finished:", (await answer).text[:6], "closed:", bot.is_closed())

    asyncio.run(main())
""")


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
def test_sigterm_is_a_graceful_stop(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_SCRIPT, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "answer finished: Nvidia closed: True"
