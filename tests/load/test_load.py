"""Fifty members asking at once while an admin ingests, and asks one after another, through the real bot
(SimCord) with the real extractive AnswerService over a small real store. These tests assert that every
interaction is acknowledged within Discord's 3 seconds (virtual time) and completed, and that memory
stays flat; the figures (answer p50/p95, RSS growth over 1,000 asks) come from `bench/load.py`.

The asks-in-a-row case runs 30 asks by default and 1,000 with NEWSDESK_RUN_SLOW=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot import create_bot
from newsdesk.wiring import Services
from tests.hostile.corpus import ARTICLE_TEXT, HTML, SEED, page
from tests.load.harness import (
    SETTLE,
    Load,
    fifty_at_once,
    in_a_row,
    load_settings,
    make_world,
    start_extraction_workers,
    stock,
)
from tests.support.httpserver import LoopbackServer

pytestmark = [pytest.mark.asyncio, pytest.mark.simcord(settle_timeout=SETTLE)]

SLOW = os.environ.get("NEWSDESK_RUN_SLOW") == "1"
IN_A_ROW = 1000 if SLOW else 30
QUESTIONS = [
    "What did Nvidia announce at GTC?",
    "How much did OpenAI cut its API prices?",
    "When do Rubin shipments begin?",
    "Did OpenAI change ChatGPT subscription prices?",
    "How fast is Rubin compared with Blackwell?",
]


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackServer]:
    long_read = [f"Part {n}. {ARTICLE_TEXT[n % 2]}" for n in range(40)]  # some 15 chunks to embed meanwhile
    routes = {"/robots.txt": (404, {}, b""), "/news/mistral": (200, HTML, page("Mistral raises 600 million euros", long_read))}
    with LoopbackServer(routes) as server:
        yield server


@pytest.fixture(scope="module")
def stocked(tmp_path_factory: pytest.TempPathFactory, site: LoopbackServer) -> Path:
    data_dir = tmp_path_factory.mktemp("load")
    settings = load_settings(data_dir).model_copy(update={"fetch": _fetch(site)})
    stock(Services(settings, store_retries=0), SEED)
    return data_dir


def _fetch(site: LoopbackServer) -> Any:
    from newsdesk.settings import FetchSettings

    return FetchSettings(_env_file=None, allow_networks=[f"127.0.0.1/32:{site.port}"])  # type: ignore[call-arg]


@pytest_asyncio.fixture
async def load(stocked: Path, site: LoopbackServer) -> Load:
    await start_extraction_workers()
    settings = load_settings(stocked).model_copy(update={"fetch": _fetch(site)})
    return Load(Services(settings, store_retries=0))


@pytest.fixture
def simcord_bot(load: Load) -> Any:
    return create_bot(load.settings, services=load)


async def test_fifty_members_ask_at_once_while_an_admin_ingests(simcord_env, load, site):
    world, users = make_world(simcord_env, 50)

    run = await fifty_at_once(world, users, load, QUESTIONS, site.url("/news/mistral"))

    assert run.dispatch_virtual < 3  # every interaction was acknowledged within Discord's 3 seconds...
    assert all(r.acknowledged and r.deferred is not None for r in [run.ingest, *run.results])
    for result in run.results:  # ...and every one got its answer
        assert "[1]" in result.response.content, result.response.content
        assert result.response.embeds and result.response.embeds[0].title == "Sources"
    assert run.ingest.response.embeds[0].description.startswith("✅ New")
    assert len(run.latencies) == 50 and run.ingest_seconds is not None
    assert simcord_env.errors == []


async def test_asks_in_a_row_keep_memory_flat(simcord_env, load):
    world, users = make_world(simcord_env, 1)

    run = await in_a_row(world, users[0], QUESTIONS, IN_A_ROW, warmup=10, every=100)

    assert run["asks"] == IN_A_ROW
    assert run["rss_growth"] < 0.10, run["samples"]
    assert simcord_env.errors == []
