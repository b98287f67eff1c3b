"""The real bot (create_bot) against SimCord, with fake services unless a test asks for real ones.

Per-test Discord settings: `@pytest.mark.bot_settings(ask_cooldown=30, allow_dms=True, ...)`.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot import NewsdeskBot, create_bot
from newsdesk.settings import DiscordSettings, Paths, Settings
from tests.bot.fakes import FakeServices
from tests.conftest import make_settings

# Defaults for the tests: no cooldown (most tests ask repeatedly), generous timeouts.
TEST_DISCORD = {"ask_cooldown": 0, "max_concurrent_answers": 4, "answer_timeout": 60, "shutdown_grace": 5}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bot_settings(**fields): DiscordSettings fields for the bot under test")


def discord_settings(request: pytest.FixtureRequest, **extra: Any) -> DiscordSettings:
    marker = request.node.get_closest_marker("bot_settings")
    fields = {**TEST_DISCORD, **(marker.kwargs if marker else {}), **extra}
    return DiscordSettings(_env_file=None, **fields)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return make_settings(tmp_path, discord=discord_settings(request))


@pytest.fixture
def services(settings: Settings) -> FakeServices:
    return FakeServices(settings)


@pytest.fixture
def simcord_bot(settings: Settings, services: Any) -> NewsdeskBot:
    return create_bot(settings, services=services)


@dataclass
class World:
    """A server with an #ask-ai channel, two members, and an admin (Manage Server via a role)."""

    env: Any
    bot: NewsdeskBot
    guild: Any
    channel: Any
    alice: Any
    bob: Any
    admin: Any

    def configure(self, **fields: Any) -> None:
        """Change the running bot's Discord settings (ids only known once SimCord made the world)."""
        self.bot.config = self.bot.config.model_copy(update=fields)


@pytest.fixture
def world(simcord_env: Any) -> World:
    guild = simcord_env.create_guild("Newsroom")
    channel = guild.create_text_channel("ask-ai")
    editors = guild.create_role("Editors", permissions=discord.Permissions(manage_guild=True))
    alice = guild.add_member(simcord_env.create_user("alice"))
    bob = guild.add_member(simcord_env.create_user("bob"))
    admin = guild.add_member(simcord_env.create_user("editor"), roles=[editors])
    return World(simcord_env, simcord_env.bot, guild, channel, alice, bob, admin)


# ---- assertions helpers -------------------------------------------------------------------------------


def custom_ids(message: Any) -> list[str]:
    """Every button custom_id on a message (ResponseMessage components or discord.Message)."""
    rows = message.components
    found: list[str] = []
    for row in rows:
        children = row.get("components", []) if isinstance(row, dict) else getattr(row, "children", [])
        for child in children:
            cid = child.get("custom_id") if isinstance(child, dict) else getattr(child, "custom_id", None)
            if cid:
                found.append(cid)
    return found


def answer_id_of(message: Any) -> int:
    for cid in custom_ids(message):
        if match := re.fullmatch(r"nd:vote:(\d+):up", cid):
            return int(match[1])
    raise AssertionError(f"no vote button on {message!r}")


def vote_rows(data_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(Paths(data_dir).bot_db) as db:
        return db.execute("SELECT answer_id, user_id, vote, question, answer, sources FROM votes ORDER BY user_id").fetchall()


def posted_allowed_mentions(env: Any) -> list[Any]:
    """allowed_mentions of every message the bot posted or edited with content."""
    found = []
    for request in env.http_requests:
        body = request.json
        if isinstance(body, dict) and isinstance(body.get("data"), dict):  # an interaction callback
            body = body["data"]
        if request.method in {"POST", "PATCH"} and isinstance(body, dict) and body.get("content"):
            found.append(body.get("allowed_mentions"))
    return found
