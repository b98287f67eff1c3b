"""Every command against every kind of caller and place, each cell asserting its exact outcome.

Callers: a member; an admin (Manage Server); a member with the DISCORD_ADMIN_ROLE role whom the server
allowed the admin commands in Server Settings → Integrations (as the README says to do), and one whom it
did not; a member the server re-granted an admin command to (the bot's own check must still refuse);
a user in a DM, with DISCORD_ALLOW_DMS off and on; an admin in a guild not in DISCORD_ALLOWED_GUILDS, and
in a channel not in DISCORD_ALLOWED_CHANNELS.

Outcomes: "ok" (the command ran: its own reply, its service called); "hidden:context" and
"hidden:permissions" (Discord does not offer the command there, because of where it is asked or because
of the member's permissions: SimCord refuses the invocation and the bot never hears of it); "admin" (the
bot's admin refusal); "place" (the bot's refusal for where it was asked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord

from bot.access import ADMIN_REFUSAL, PLACE_REFUSAL
from newsdesk.settings import Settings
from tests.bot.conftest import TEST_DISCORD
from tests.bot.fakes import FakeDoc, make_answer
from tests.conftest import make_settings

pytestmark = pytest.mark.asyncio

ADMIN_ROLE = "Fact checkers"
URL = "https://aiwire.example/news/blackwell"
FEED = "http://10.0.0.1/feed.xml"  # refused by the fetch guard without any I/O: the command ran, offline

# command -> (options, what its success looks like)
COMMANDS: dict[str, dict[str, Any]] = {
    "ask": {"question": "What did Nvidia announce?"},
    "sources": {},
    "stats": {},
    "ingest": {"url": URL},
    "forget": {"url": URL},
    "feeds add": {"url": FEED},
    "feeds remove": {"url": FEED},
    "feeds list": {},
    "scope show": {},
    "scope clear": {},
}
EVERYONE = {"ask", "sources", "stats"}

CALLERS = ["member", "admin", "role", "role-not-granted", "member-granted", "dm", "dm-allowed", "other-guild",
           "other-channel"]


def expected(command: str, caller: str) -> str:
    if caller in ("other-guild", "other-channel"):
        return "place"  # checked before anything else, whoever asks
    if caller == "dm":
        return "hidden:context"  # DMs off: Discord offers no command there
    if caller == "dm-allowed":
        return "ok" if command in EVERYONE else "hidden:context"  # admin commands are guild-only
    if command in EVERYONE:
        return "ok"
    return {"member": "hidden:permissions", "admin": "ok", "role": "ok", "role-not-granted": "hidden:permissions",
            "member-granted": "admin"}[caller]



def cell(command: str, caller: str) -> Any:
    return pytest.param(command, caller, expected(command, caller),
                        id=f"{command.replace(' ', '-')}:{caller}")


MATRIX = [cell(command, caller) for command in COMMANDS for caller in CALLERS]


@pytest.fixture
def caller(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(tmp_path: Path, caller: str) -> Settings:
    discord_fields = {**TEST_DISCORD, "admin_role": ADMIN_ROLE, "allow_dms": caller == "dm-allowed"}
    return make_settings(tmp_path, discord=discord_fields)


@dataclass
class Call:
    invoke: Any  # () -> awaitable InteractionResult
    where: Any  # the channel (None in a DM)


async def arrange(world: Any, caller: str, command: str) -> Call:
    env, guild = world.env, world.guild
    options = COMMANDS[command]
    root = command.split()[0]

    async def grant(target: Any) -> None:
        app_command = next(c for c in await world.bot.tree.fetch_commands() if c.name == root)
        guild.set_command_permissions(app_command, {target: True})

    if caller in ("dm", "dm-allowed"):
        user = env.create_user("dan")
        return Call(lambda: user.slash(command, **options), None)
    if caller == "other-guild":
        # The bot leaves such a server (tests/bot/test_bot_access.py); until it has, every interaction there
        # is refused: that check is what this row tests, so the bot is kept from leaving.
        async def stay(_guilds: Any) -> None:
            return None

        world.bot._leave_unwanted = stay  # type: ignore[method-assign]
        other = env.create_guild("Elsewhere")
        editors = other.create_role("Editors", permissions=discord.Permissions(manage_guild=True))
        boss = other.add_member(env.create_user("boss"), roles=[editors])
        channel = other.create_text_channel("general")
        world.configure(allowed_guilds=[guild.id])
        return Call(lambda: boss.slash(channel, command, **options), channel)
    if caller == "other-channel":
        channel = guild.create_text_channel("random")
        world.configure(allowed_channels=[world.channel.id])
        return Call(lambda: world.admin.slash(channel, command, **options), channel)
    if caller in ("role", "role-not-granted"):
        checkers = guild.create_role(ADMIN_ROLE)
        member = guild.add_member(env.create_user("carol"), roles=[checkers])
        if caller == "role" and root not in EVERYONE:
            await grant(checkers)
        return Call(lambda: member.slash(world.channel, command, **options), world.channel)
    if caller == "member-granted":
        if root not in EVERYONE:
            await grant(world.alice)
        return Call(lambda: world.alice.slash(world.channel, command, **options), world.channel)
    actor = world.admin if caller == "admin" else world.alice
    return Call(lambda: actor.slash(world.channel, command, **options), world.channel)


def check_ran(command: str, result: Any, services: Any) -> None:
    """The command's own reply, and its service called."""
    response = result.response
    if command == "ask":
        assert response.content == make_answer().text and not result.ephemeral
        assert [q for q, _ in services.answers.calls] == ["What did Nvidia announce?"]
        return
    assert result.ephemeral  # everything but /ask answers privately
    if command == "sources":
        assert response.embeds[0].title == "Sources" and URL in response.embeds[0].description
    elif command == "stats":
        assert response.embeds[0].title == "newsdesk stats"
    elif command == "ingest":
        assert response.embeds[0].title == "Nvidia ships Blackwell" and services.pipeline.ingested == [URL]
    elif command == "forget":
        assert response.content.startswith("🗑️ Forgot “Nvidia ships Blackwell”") and not services.pipeline.forgettable
    elif command == "feeds add":
        assert response.content.startswith(f"❌ Could not add <{FEED}>: {FEED} resolves to a private address")
    elif command == "feeds remove":
        assert response.content == f"Not found: <{FEED}> is not among the feeds (see /feeds list)."
    elif command == "feeds list":
        assert response.embeds[0].title == "Feeds (0)"
    elif command == "scope show":
        assert response.content.endswith("has no scope: its answers draw on all of this server's sources.")
    elif command == "scope clear":
        assert response.content.endswith("had no scope.")


def nothing_ran(services: Any) -> None:
    assert services.answers.calls == [] and services.pipeline.ingested == []
    assert URL in services.pipeline.forgettable


@pytest.mark.parametrize(("command", "caller", "outcome"), MATRIX, indirect=["caller"])
async def test_permission_matrix(world, services, command, caller, outcome):
    services.store.docs = [FakeDoc(URL, "Nvidia ships Blackwell")]
    services.pipeline.forgettable[URL] = FakeDoc(URL, "Nvidia ships Blackwell")
    call = await arrange(world, caller, command)

    if outcome.startswith("hidden"):
        reason = {"hidden:context": "context", "hidden:permissions": "default-member-permissions"}[outcome]
        try:
            result = await call.invoke()
        except simcord.SetupError as error:
            assert str(error).endswith(f"is not visible to this user here — a real user could not run it (reason: {reason})")
            nothing_ran(services)
            return
        errors = world.env.errors  # read them, so teardown does not raise them again
        pytest.fail(f"offered here; the bot answered {result.response.content!r} ({len(errors)} errors)")
    result = await call.invoke()
    if outcome == "ok":
        check_ran(command, result, services)
        assert world.env.errors == []
        return
    refusal = {"admin": ADMIN_REFUSAL, "place": PLACE_REFUSAL}[outcome]
    assert result.ephemeral and result.response.content == refusal
    nothing_ran(services)
    if outcome == "admin":  # the failed check is recorded by SimCord as well as answered
        [error] = world.env.errors
        assert isinstance(error, discord.app_commands.CheckFailure)
    else:
        assert world.env.errors == []
