"""`newsdesk run`: start the bot with DISCORD_TOKEN and turn start-up failures into one line and exit 1.

Logging is configured by the CLI (hence `log_handler=None`). SIGTERM (docker stop) is a graceful stop:
no new questions, answers in progress get DISCORD_SHUTDOWN_GRACE seconds, then the bot closes.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import discord

log = logging.getLogger(__name__)

MISSING_TOKEN = "DISCORD_TOKEN is not set; put your bot token in .env"
REJECTED_TOKEN = (
    "DISCORD_TOKEN was rejected by Discord; copy the bot's token again from the developer portal "
    "(Applications → your app → Bot → Reset Token) into .env"
)
NO_CONTENT_INTENT = (
    "Discord refused the Message Content intent; enable it in the developer portal "
    "(Applications → your app → Bot → Privileged Gateway Intents → Message Content Intent)"
)


def failure_line(error: BaseException) -> str | None:
    """The one line a start-up failure deserves, or None for an unexpected error (let it propagate)."""
    from ingest.errors import IngestError
    from newsdesk.settings import SettingsError
    from vectorstore.errors import StoreError

    if isinstance(error, discord.LoginFailure):
        return REJECTED_TOKEN
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return NO_CONTENT_INTENT
    if isinstance(error, StoreError):
        return f"store unavailable: {error}"
    if isinstance(error, SettingsError):  # e.g. LLM_MODEL names a provider whose extra is not installed
        return str(error)
    if isinstance(error, IngestError):
        return error.message
    if isinstance(error, discord.GatewayNotFound | OSError):
        return f"cannot reach Discord: {error}"
    return None


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def run_bot(services: Any) -> int:
    """Run until stopped; 0 after a clean stop, 1 with one line on stderr when the bot cannot start."""
    from .client import create_bot

    token_setting = services.settings.discord.token
    token = token_setting.get_secret_value().strip() if token_setting is not None else ""
    if not token:
        return _fail(MISSING_TOKEN)
    bot = create_bot(services.settings, services=services)
    bot.handle_signals = True
    try:
        bot.run(token, log_handler=None)
    except Exception as error:  # noqa: BLE001 - the edge: known failures become one line
        line = failure_line(error)
        if line is None:
            raise
        log.debug("the bot could not start", exc_info=True)
        return _fail(line)
    return 0
