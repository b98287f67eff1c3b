"""Who may do what, where: admin commands, allowed guilds and channels, DMs."""

from __future__ import annotations

import logging

import discord
import pytest
import simcord

from bot import create_bot
from bot.access import ADMIN_REFUSAL, DM_REFUSAL, PLACE_REFUSAL
from tests.bot.fakes import make_answer

pytestmark = pytest.mark.asyncio


async def command(world, name: str) -> discord.app_commands.AppCommand:
    return next(c for c in await world.bot.tree.fetch_commands() if c.name == name)


async def test_admin_commands_are_hidden_from_members_without_manage_server(world):
    assert "ask" in world.alice.available_commands(world.channel)
    assert "ingest" not in world.alice.available_commands(world.channel)
    assert {"ingest", "forget"} <= set(world.admin.available_commands(world.channel))
    with pytest.raises(simcord.SetupError, match="not visible"):
        await world.alice.slash(world.channel, "ingest", url="https://example.com/a")


async def test_the_server_side_check_refuses_when_a_server_re_grants_the_command(world, services):
    world.guild.set_command_permissions(await command(world, "ingest"), {world.alice: True})

    result = await world.alice.slash(world.channel, "ingest", url="https://example.com/a")

    assert result.ephemeral and result.response.content == ADMIN_REFUSAL
    assert services.pipeline.ingested == []
    [error] = world.env.errors
    assert isinstance(error, discord.app_commands.CheckFailure)


@pytest.mark.bot_settings(admin_role="Fact checkers")
async def test_the_admin_role_by_name_is_an_alternative_to_manage_server(world, services):
    checkers = world.guild.create_role("Fact Checkers")
    carol = world.guild.add_member(world.env.create_user("carol"), roles=[checkers])
    world.guild.set_command_permissions(await command(world, "ingest"), {checkers: True})

    result = await carol.slash(world.channel, "ingest", url="https://example.com/a")

    assert result.ephemeral and result.response.embeds[0].title == "Nvidia ships Blackwell"
    assert services.pipeline.ingested == ["https://example.com/a"]


async def test_the_admin_role_by_id_works_too(world, services):
    checkers = world.guild.create_role("checkers")
    world.configure(admin_role=str(checkers.id))
    carol = world.guild.add_member(world.env.create_user("carol"), roles=[checkers])
    world.guild.set_command_permissions(await command(world, "forget"), {checkers: True})

    result = await carol.slash(world.channel, "forget", url="https://example.com/a")

    assert result.response.content.startswith("Not found:")


async def test_outside_the_allowed_guilds_asks_are_refused_and_mentions_ignored(world, services):
    world.configure(allowed_guilds=[world.guild.id + 1])

    result = await world.alice.slash(world.channel, "ask", question="What did Nvidia announce?")
    await world.alice.send(world.channel, f"{world.bot.user.mention} What did Nvidia announce?")

    assert result.ephemeral and result.response.content == PLACE_REFUSAL
    assert services.answers.calls == []
    assert world.channel.threads == []


async def test_allowed_channels_and_their_threads(world, services):
    other = world.guild.create_text_channel("random")
    world.configure(allowed_channels=[world.channel.id])

    refused = await world.alice.slash(other, "ask", question="What did Nvidia announce?")
    await world.alice.send(other, f"{world.bot.user.mention} What did Nvidia announce?")
    assert refused.ephemeral and refused.response.content == PLACE_REFUSAL
    assert services.answers.calls == [] and other.threads == []

    await world.alice.send(world.channel, f"{world.bot.user.mention} What did Nvidia announce?")
    [thread] = world.channel.threads
    await world.alice.send(thread, "And AMD?")
    in_thread = await world.bob.slash(thread, "ask", question="And Intel?")
    assert [q for q, _ in services.answers.calls] == ["What did Nvidia announce?", "And AMD?", "And Intel?"]
    assert in_thread.response.content == make_answer().text


async def test_direct_messages_are_ignored_by_default(world, services):
    dan = world.env.create_user("dan")

    await dan.send_dm("What did Nvidia announce?")
    with pytest.raises(simcord.SetupError):
        await dan.slash("ask", question="What did Nvidia announce?")

    assert services.answers.calls == []
    assert [m.author.id for m in dan.dm_channel.history()] == [dan.id]
    assert not world.bot.intents.dm_messages


@pytest.mark.bot_settings(allow_dms=True)
async def test_direct_messages_are_answered_when_allowed(world, services):
    dan = world.env.create_user("dan")

    await dan.send_dm("What did Nvidia announce?")
    result = await dan.slash("ask", question="And AMD?")

    assert dan.dm_channel.history()[-1].content == make_answer().text
    assert result.response.content == make_answer().text
    assert services.answers.calls == [("What did Nvidia announce?", []), ("And AMD?", [])]
    with pytest.raises(simcord.SetupError):  # admin commands stay in servers
        await dan.slash("ingest", url="https://example.com/a")


@pytest.mark.bot_settings(allow_dms=True)
async def test_dm_slash_is_refused_server_side_when_dms_are_switched_off_later(world, services):
    dan = world.env.create_user("dan")
    world.configure(allow_dms=False)

    result = await dan.slash("ask", question="What did Nvidia announce?")

    assert result.ephemeral and result.response.content == DM_REFUSAL
    assert services.answers.calls == []


async def test_a_server_not_on_the_allow_list_is_left_when_the_bot_is_added(world, caplog):
    world.configure(allowed_guilds=[world.guild.id])
    strangers = world.env.create_guild("Strangers")  # someone invites the (public) bot to their server
    await world.env.settle()
    kept = {g.id for g in world.bot.guilds}
    assert strangers.id not in kept and world.guild.id in kept
    assert f"leaving server 'Strangers' ({strangers.id})" in caplog.text
    assert (await world.alice.slash(world.channel, "ask", question="Still here?")).response is not None


async def test_servers_off_the_allow_list_are_left_at_start(world, settings, services, caplog):
    strangers = world.env.create_guild("Strangers")
    await world.env.settle()
    assert strangers.id in {g.id for g in world.bot.guilds}  # no allow-list: it stays
    restarted = create_bot(settings.model_copy(update={"discord": settings.discord.model_copy(
        update={"allowed_guilds": [world.guild.id]})}), services=services)
    await world.env.restart_bot(restarted)
    assert {g.id for g in restarted.guilds} == {world.guild.id}
    assert caplog.text.count("leaving server 'Strangers'") == 1


async def test_a_public_bot_without_an_allow_list_warns_once(caplog, world, settings, services):
    def warnings() -> list[logging.LogRecord]:  # the bot started while the fixtures were set up
        records = caplog.get_records("setup") + caplog.records
        return [r for r in records if "Public in the Discord developer portal" in r.getMessage()]

    assert len(warnings()) == 1 and warnings()[0].levelname == "WARNING"
    world.bot.dispatch("ready")  # a reconnect: on_ready again, no second warning
    await world.env.settle()
    assert len(warnings()) == 1


@pytest.mark.bot_settings(allowed_guilds=[1])
async def test_no_public_warning_with_an_allow_list(caplog, world):
    said = [r.getMessage() for r in caplog.get_records("setup") + caplog.records]
    assert not any("Public in the Discord" in m for m in said)  # the same capture shows it without one (above)
