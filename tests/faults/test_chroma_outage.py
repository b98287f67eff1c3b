"""Chroma server mode with the server down: at start (the bot starts anyway, /ask says so in one sentence,
`newsdesk health` fails in one line) and mid-run (the bot picks the server up again, no restart)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.replies import PUBLIC_SORRY, STORE_DOWN
from newsdesk import cli
from newsdesk.settings import Settings
from newsdesk.wiring import Services
from tests.bot.conftest import discord_settings
from tests.conftest import make_settings
from tests.faults.conftest import ARTICLE
from tests.support.chroma_server import ChromaServer, free_port
from vectorstore.errors import StoreError

pytestmark = [pytest.mark.asyncio, pytest.mark.chroma_server, pytest.mark.simcord(settle_timeout=60)]

QUESTION = "What did Nvidia announce at GTC?"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    """Not started: the test starts and stops it on a fixed port."""
    chroma = ChromaServer(tmp_path / "chroma-data", port=free_port())
    yield chroma
    chroma.stop()


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest, server: ChromaServer) -> Settings:
    return make_settings(
        tmp_path / "data",
        discord=discord_settings(request),
        chroma={"host": "127.0.0.1", "port": server.port, "collection": "outage", "connect_retries": 0},
    )


@pytest.fixture
def services(settings: Settings) -> Services:
    return Services(settings, store_retries=0)


@pytest.fixture
def simcord_bot(settings: Settings, services: Services) -> Any:
    from bot import create_bot

    return create_bot(settings, services=services)


def said(result: Any) -> list[str]:
    """Everything the bot told the asker: the original response and the followups."""
    texts = [result.response.content] if result.response is not None else []
    return texts + [f.content for f in result.followups]


async def ask_works(world: Any) -> None:
    result = await world.alice.slash(world.channel, "ask", question=QUESTION)
    assert "[1]" in result.response.content and "Rubin" in result.response.content, said(result)
    assert result.response.embeds and result.response.embeds[0].title == "Sources"


async def ask_says_store_down(world: Any) -> None:
    result = await world.alice.slash(world.channel, "ask", question=QUESTION)
    assert result.acknowledged
    assert said(result) == [PUBLIC_SORRY, STORE_DOWN]  # one sentence, whispered; no reference, no trace
    assert result.followups[0].ephemeral


def store_errors(world: Any) -> int:
    """How many errors the bot's error handler saw so far; every one of them a store outage."""
    errors = world.env.errors
    assert all(isinstance(getattr(e, "original", e), StoreError) for e in errors), errors
    return len(errors)


def health(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(settings.chroma.port))
    monkeypatch.setenv("CHROMA_COLLECTION", settings.chroma.collection)
    code = cli.main(["--env-file", str(settings.data_dir / "no.env"), "health"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_server_down_at_start_then_back_then_restarted_mid_run(
    world, server, settings, services, monkeypatch, capsys
):
    # The bot started (the world fixture logged it in) although nothing listens on the Chroma port.
    assert world.bot.is_ready() and "store" not in vars(services)
    await ask_says_store_down(world)
    stats = await world.alice.slash(world.channel, "stats")
    assert stats.ephemeral and said(stats) == [STORE_DOWN]
    assert store_errors(world) == 1  # /stats went through the tree's error handler (SimCord records it)

    code, out, err = health(settings, monkeypatch, capsys)
    assert code == 1 and out == ""
    assert err.startswith(f"error: store unavailable: the Chroma server at http://127.0.0.1:{server.port} does not answer")
    assert err.count("\n") == 1

    server.start()
    seeding = Services(settings, store_retries=0)
    seeding.pipeline.ingest_article(ARTICLE)
    await ask_works(world)  # the bot opened the store on this request: no restart
    assert health(settings, monkeypatch, capsys)[0] == 0

    server.stop()
    await world.env.advance_time(10)  # past the lexical index's refresh interval
    await ask_says_store_down(world)
    sources = await world.alice.slash(world.channel, "sources")
    assert said(sources) == [STORE_DOWN]
    assert store_errors(world) == 2
    await world.bob.send(world.channel, f"{world.bot.user.mention} {QUESTION}")  # a mention, in its thread
    assert [m.content for m in world.channel.threads[-1].history()][-1] == STORE_DOWN

    server.start()
    await world.env.advance_time(10)
    await ask_works(world)  # the same client reconnects to the restarted server
    assert store_errors(world) == 2
