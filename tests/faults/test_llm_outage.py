"""The LLM endpoint failing, hanging or gone, through the real bot: the extractive answer from the same
sources arrives within DISCORD_ANSWER_TIMEOUT, with a note saying why.

Errors, refusals and malformed replies go through SimCord end to end. The hang cannot: SimCord's clock
is virtual and only moves while the bot is idle, so a wall-clock timeout on a socket that is still
open never fires under it. The hang drives the bot's own answering path (`bot.answer`: the fair-use
gate and DISCORD_ANSWER_TIMEOUT around the service) on a plain event loop, in real time, and renders
the result as /ask would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from answer.llm import MAX_RETRIES
from answer.service import NOTE_ERROR, NOTE_TIMEOUT
from newsdesk.settings import Settings
from newsdesk.wiring import Services
from tests.bot.conftest import discord_settings
from tests.conftest import make_settings
from tests.faults.conftest import ARTICLE
from tests.support.llmserver import Fail, Hang, LLMServer, Malformed, closed_port_url

pytestmark = [pytest.mark.asyncio, pytest.mark.simcord(settle_timeout=60)]

LLM_TIMEOUT = 2.0
ANSWER_TIMEOUT = 20.0


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    with LLMServer() as server:
        yield server


@pytest.fixture(params=["error", "malformed", "refused"])
def failure(request: pytest.FixtureRequest, llm: LLMServer) -> tuple[str, str]:
    """(LLM_BASE_URL, the note expected) for each way the endpoint fails."""
    if request.param == "error":
        llm.script(*[Fail(503, "overloaded")] * (1 + MAX_RETRIES))
        return llm.base_url, NOTE_ERROR
    if request.param == "malformed":
        llm.script(*[Malformed()] * (1 + MAX_RETRIES))
        return llm.base_url, NOTE_ERROR
    return closed_port_url(), NOTE_ERROR


def llm_settings(tmp_path: Path, request: pytest.FixtureRequest, base_url: str) -> Settings:
    return make_settings(
        tmp_path,
        discord=discord_settings(request, answer_timeout=ANSWER_TIMEOUT),
        llm={"model": "openai:gpt-4o-mini", "base_url": base_url, "api_key": "test", "timeout": LLM_TIMEOUT},
    )


def stocked(settings: Settings) -> Services:
    services = Services(settings, store_retries=0)
    services.pipeline.ingest_article(ARTICLE)
    return services


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest, failure: tuple[str, str]) -> Settings:
    return llm_settings(tmp_path, request, failure[0])


@pytest.fixture
def services(settings: Settings) -> Services:
    return stocked(settings)


@pytest.fixture
def simcord_bot(settings: Settings, services: Services) -> Any:
    from bot import create_bot

    return create_bot(settings, services=services)


async def test_a_failing_llm_falls_back_to_the_extractive_answer_in_time(world, services, failure):
    assert services.answer_mode == "llm"
    started = time.monotonic()

    result = await world.alice.slash(world.channel, "ask", question="What did Nvidia announce at GTC?")

    elapsed = time.monotonic() - started
    assert result.acknowledged
    message = result.response
    assert "Rubin" in message.content and "[1]" in message.content
    [sources] = message.embeds
    assert sources.description == f"*{failure[1]}*"  # the note, shown with the sources
    assert sources.fields[0].value == f"[{ARTICLE.title}]({ARTICLE.url})"
    assert elapsed < ANSWER_TIMEOUT  # real seconds: the LLM's own budget, not the bot's apology
    assert world.env.errors == []


@pytest.mark.parametrize("stage", ["answer", "rewrite"])
async def test_a_hanging_llm_falls_back_within_its_own_budget(tmp_path, request, llm, stage):
    from answer.types import Turn
    from bot import create_bot
    from bot.render import render_answer

    settings = llm_settings(tmp_path, request, llm.base_url)
    services = stocked(settings)
    bot = create_bot(settings, services=services)
    llm.script(*[Hang(60)] * 4)
    history = [Turn("What did Nvidia say at GTC?", "Nvidia announced Rubin [1].")] if stage == "rewrite" else []
    started = time.monotonic()
    try:
        answer = await bot.answer("When do Rubin shipments begin?", history, libraries=["shared"])
    finally:
        await bot.close()
    elapsed = time.monotonic() - started

    assert answer.mode == "extractive" and answer.note == NOTE_TIMEOUT and not answer.refused
    assert "[1]" in answer.text and answer.citations[0].url == ARTICLE.url
    assert elapsed < LLM_TIMEOUT + 3  # one budget for both calls, then the extractive answer
    rendered = render_answer(answer)
    assert rendered.embed is not None and rendered.embed.description == f"*{NOTE_TIMEOUT}*"
