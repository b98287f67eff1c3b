"""The Discord bot: discord.py only. It parses interactions and messages, calls the services, renders the
results. No retrieval or ingest logic lives here."""

from .client import NewsdeskBot, create_bot

__all__ = ["NewsdeskBot", "create_bot"]
