"""Answering an interaction whatever state it is in, and turning failures into one apology with a reference.

Discord's rules make "just reply" subtle: an interaction is answered once (response), then edited
(the original) or followed up; and the first followup after a defer silently becomes the original.
These helpers keep track of the original in `interaction.extras` so no interaction is ever left
thinking, and a private message stays private.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord

NO_MENTIONS = discord.AllowedMentions.none()
PUBLIC_SORRY = "Sorry, I couldn't answer this one."
STORE_DOWN = "The article store is unavailable right now; please try again in a minute."

log = logging.getLogger(__name__)

# interaction.extras["original"]: "ephemeral" / "public" while the deferred original still shows a
# placeholder (thinking, queued, progress), "final" once it holds a real reply.
_ORIGINAL = "original"


def new_ref() -> str:
    """A short reference a user can quote and an admin can grep the log for."""
    return secrets.token_hex(4)


async def defer(interaction: discord.Interaction, *, ephemeral: bool) -> None:
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    interaction.extras[_ORIGINAL] = "ephemeral" if ephemeral else "public"


async def show_progress(interaction: discord.Interaction, text: str) -> None:
    """Put a placeholder (queued, fetching, ...) in the deferred original; it stays a placeholder."""
    await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)


async def finish(interaction: discord.Interaction, **kwargs: Any) -> discord.InteractionMessage:
    """Replace the deferred original with the real reply."""
    kwargs.setdefault("allowed_mentions", NO_MENTIONS)
    message = await interaction.edit_original_response(**kwargs)
    interaction.extras[_ORIGINAL] = "final"
    return message


async def tell(interaction: discord.Interaction, text: str | None = None, **kwargs: Any) -> None:
    """A private reply, whatever has happened to the interaction so far."""
    kwargs.setdefault("allowed_mentions", NO_MENTIONS)
    state = interaction.extras.get(_ORIGINAL)
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, **kwargs)
    elif state == "ephemeral":
        await finish(interaction, content=text, embed=kwargs.pop("embed", None), **kwargs)
    elif state == "public":
        # A public placeholder cannot turn private: close it with a neutral line, then whisper.
        await finish(interaction, content=PUBLIC_SORRY, embed=None, view=None)
        await interaction.followup.send(text, ephemeral=True, **kwargs)
    else:
        await interaction.followup.send(text, ephemeral=True, **kwargs)


async def report_error(interaction: discord.Interaction, error: BaseException, logger: logging.Logger = log) -> str:
    """Log the traceback under a fresh reference id and tell the user that id, privately."""
    ref = new_ref()
    command = interaction.command.qualified_name if interaction.command else interaction.data and interaction.data.get("custom_id")
    logger.error(
        "error ref=%s in %s (user %s, guild %s, channel %s)",
        ref, command or "interaction", interaction.user.id, interaction.guild_id, interaction.channel_id,
        exc_info=error,
    )
    try:
        await tell(interaction, f"Sorry, something went wrong on my side (ref `{ref}`). Please try again later.")
    except discord.HTTPException as failure:  # expired token, deleted channel: the log has it all
        logger.warning("could not tell the user about error ref=%s: %s", ref, failure)
    return ref
