"""Faults: the Chroma server down at start and mid-run, the LLM failing or hanging, a full disk.

The fourth fault, an ingest killed at random points, is `tests/ingest/test_kill.py` (5 kills by default,
20 with NEWSDESK_RUN_SLOW=1); it is not repeated here. The SimCord tests share the bot test world (a
guild, #ask-ai, members and an admin) with tests/bot.
"""

from __future__ import annotations

from tests.bot.conftest import world  # noqa: F401 - the fixture, for the SimCord tests here
