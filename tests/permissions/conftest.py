"""The permission matrix runs the real bot on SimCord with the fake services of tests/bot."""

from __future__ import annotations

from tests.bot.conftest import services, simcord_bot, world  # noqa: F401 - the fixtures
