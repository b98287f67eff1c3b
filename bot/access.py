"""Where the bot may act, who counts as an admin, and which libraries a place draws on:
DISCORD_ALLOWED_GUILDS / _CHANNELS / _ALLOW_DMS, DISCORD_ADMIN_ROLE, DISCORD_SHARED_LIBRARY. Small pure
predicates over discord objects, shared by the commands and the listeners."""

from __future__ import annotations

import discord

from newsdesk.settings import DiscordSettings
from vectorstore.records import libraries_seen, server_library

PLACE_REFUSAL = "I don't answer in this channel. Ask me in one of the channels this server set up for me."
DM_REFUSAL = "I don't answer in direct messages here. Ask me in the server instead."
ADMIN_REFUSAL = "Only members with the Manage Server permission (or the bot's admin role) may use this command."


def scope_channel(channel: object) -> int:
    """The channel whose scope applies here: a thread follows its parent channel."""
    return getattr(channel, "parent_id", None) or getattr(channel, "id", 0)


def channel_ids(channel: object) -> list[int]:
    """The channel and, for a thread, its parent: an allowed channel's threads are allowed too."""
    ids = [getattr(channel, "id", 0)]
    parent_id = getattr(channel, "parent_id", None)
    if parent_id:
        ids.append(parent_id)
    return ids


def place_allowed(settings: DiscordSettings, guild_id: int | None, channel: object) -> bool:
    """May the bot act in this guild and channel (or DM, when guild_id is None)?"""
    if guild_id is None:
        return settings.allow_dms
    if settings.allowed_guilds and guild_id not in settings.allowed_guilds:
        return False
    if settings.allowed_channels and not set(channel_ids(channel)) & set(settings.allowed_channels):
        return False
    return True


def libraries_for(settings: DiscordSettings, guild_id: int | None) -> list[str]:
    """What answers, /sources and /stats draw on here: a server's own library and (unless
    DISCORD_SHARED_LIBRARY=false) the shared one; in DMs, the shared library only."""
    return libraries_seen(guild_id, settings.shared_library)


def library_of(guild_id: int | None) -> str:
    """Where a server's admins' /ingest and /feeds add go, and the only library their /forget touches
    (admin commands run in servers only)."""
    if guild_id is None:
        raise ValueError("admin commands run in servers only")
    return server_library(guild_id)


def refusal_for(guild_id: int | None) -> str:
    return DM_REFUSAL if guild_id is None else PLACE_REFUSAL


def auto_channel(settings: DiscordSettings, channel: object) -> bool:
    """A channel where every message is taken as a question (threads in it are not: they have their own rule)."""
    return not getattr(channel, "parent_id", None) and getattr(channel, "id", 0) in settings.auto_channels


def is_admin(user: discord.abc.User, admin_role: str | None) -> bool:
    """Manage Server (administrators and the owner have it), or the configured admin role by id or name."""
    if not isinstance(user, discord.Member):
        return False
    if user.guild_permissions.manage_guild:
        return True
    if not admin_role:
        return False
    wanted = admin_role.strip()
    for role in user.roles:
        if str(role.id) == wanted or role.name.casefold() == wanted.casefold():
            return True
    return False
