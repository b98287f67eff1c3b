"""Faults: the Chroma server down at start and mid-run, the LLM failing or hanging, a full disk.

The fourth fault, an ingest killed at random points, is `tests/ingest/test_kill.py` (5 kills by default,
20 with NEWSDESK_RUN_SLOW=1); it is not repeated here. The SimCord tests share the bot test world (a
guild, #ask-ai, members and an admin) with tests/bot.
"""

from __future__ import annotations

from ingest.extract import Article
from tests.bot.conftest import world  # noqa: F401 - the fixture, for the SimCord tests here

# The one article the outage tests ingest and expect cited.
ARTICLE = Article(
    url="https://aiwire.example/2026/03/12/rubin",
    title="Nvidia unveils Rubin GPUs at GTC",
    body="Nvidia announced its Rubin GPU platform at GTC on March 12, 2026. The company said Rubin delivers three "
    "times the inference performance of Blackwell. Shipments begin in the second half of 2026, Nvidia said.",
    site="AI Wire",
)
