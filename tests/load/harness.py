"""Load on the real bot through SimCord, shared by tests/load (which assert) and bench/load.py (which measures).

`Load` is the bot's services (the real AnswerService over a real store, the real pipeline) with one
twist for "at once": answers and ingests wait, on SimCord's virtual clock, until a common release
instant. SimCord finishes each interaction before it starts the next, so without the hold fifty asks
would be fifty asks in a row; with it, all fifty are acknowledged and in flight when the clock moves,
and then compete for the answer slots, the threads and the store together, as they would in a server.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import discord

from answer.types import Answer, Turn
from ingest.extract import Article, extract_async
from ingest.fetch import FetchedPage
from newsdesk.settings import Settings
from newsdesk.wiring import Services

# Virtual seconds between the first dispatch and the release. Longer than SimCord's settle_timeout
# (SETTLE, real seconds), or SimCord would sit out the hold in real time at the first ask; shorter than
# an interaction's 15 minutes. DISCORD_ANSWER_TIMEOUT must exceed it (see `load_settings`).
HOLD = 600.0
SETTLE = 300.0


@dataclass
class Timing:
    released: float = 0.0  # real clock at release
    answered: list[float] = field(default_factory=list)  # real clock when each answer was ready
    ingested: float | None = None


class Load:
    """What the bot uses of Services, with answers and ingests held until `release_at` (virtual time)."""

    def __init__(self, services: Services):
        self.services = services
        self.settings: Settings = services.settings
        self.release_at: datetime | None = None  # SimCord's virtual clock; None: no hold
        self.timing = Timing()
        self.answers = self  # the bot calls services.answers.answer(...)

    # the parts the bot reads
    @property
    def store(self) -> Any:
        return self.services.store

    @property
    def pipeline(self) -> Any:
        return _HeldPipeline(self)

    def stats(self, libraries: Sequence[str] | None = None) -> dict[str, object]:
        return self.services.stats(libraries)

    async def _hold(self) -> None:
        if self.release_at is not None:  # discord's clock, which SimCord makes virtual inside the bot
            await asyncio.sleep(max(0.0, (self.release_at - discord.utils.utcnow()).total_seconds()))

    async def answer(self, question: str, history: Sequence[Turn] = (), libraries: Sequence[str] | None = None,
                     scope: object = None) -> Answer:
        await self._hold()
        answer = await self.services.answers.answer(question, history, libraries, scope)  # type: ignore[arg-type]
        self.timing.answered.append(time.perf_counter())
        return answer


class _HeldPipeline:
    def __init__(self, load: Load):
        self.load = load

    async def ingest_url(self, url: str, **kwargs: Any) -> Any:
        await self.load._hold()
        result = await self.load.services.pipeline.ingest_url(url, **kwargs)
        self.load.timing.ingested = time.perf_counter()
        return result

    def forget(self, url: str, library: str = "shared") -> Any:
        return self.load.services.pipeline.forget(url, library)


def load_settings(data_dir: Any, **discord_fields: Any) -> Settings:
    """Extractive answers, no cooldown, the default four answers at once, a timeout beyond the hold."""
    from tests.conftest import make_settings

    fields = {"ask_cooldown": 0, "max_concurrent_answers": 4, "answer_timeout": HOLD + SETTLE, **discord_fields}
    return make_settings(data_dir, discord=fields)


def stock(services: Services, articles: Sequence[Article]) -> None:
    for result in services.pipeline.ingest_articles(articles):
        if isinstance(result, Exception):
            raise result


async def start_extraction_workers() -> None:
    """Before SimCord starts: it freezes time.monotonic in bot-owned work, and multiprocessing's
    wait(timeout=0), used when a worker process starts, spins forever on a clock that does not move."""
    page = FetchedPage("https://warm.example/", "https://warm.example/", 200, "text/plain", "utf-8",
                       b"Warming up the extraction workers. " * 10, {})
    await extract_async(page)


@dataclass
class World:
    env: Any
    guild: Any
    channel: Any
    admin: Any


def make_world(env: Any, members: int) -> tuple[World, list[Any]]:
    guild = env.create_guild("Load")
    channel = guild.create_text_channel("ask-ai")
    editors = guild.create_role("Editors", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(env.create_user("editor"), roles=[editors])
    users = [guild.add_member(env.create_user(f"user{i:02d}")) for i in range(members)]
    return World(env, guild, channel, admin), users


class LoopLag:
    """How late the bot's event loop runs a callback posted from another thread, every `every` seconds:
    the time an interaction would wait before the bot could even acknowledge it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, every: float = 0.02):
        self.loop, self.every = loop, every
        self.lags: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            done = threading.Event()
            self.loop.call_soon_threadsafe(self._ran, time.perf_counter(), done)
            done.wait(5)

    def _ran(self, posted: float, done: threading.Event) -> None:
        self.lags.append(time.perf_counter() - posted)
        done.set()

    def __enter__(self) -> LoopLag:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class AtOnce:
    results: list[Any]  # InteractionResult per ask, in dispatch order
    ingest: Any  # the /ingest InteractionResult
    latencies: list[float]  # seconds from release to each answer being ready (real clock)
    ingest_seconds: float | None
    wall: float  # release to everything delivered
    dispatch_virtual: float  # virtual seconds the dispatches took (must stay under Discord's 3 s)
    loop_lag: list[float]


async def fifty_at_once(world: World, users: Sequence[Any], load: Load, questions: Sequence[str],
                        ingest_url: str) -> AtOnce:
    """Every user asks and the admin ingests within one virtual instant; then the clock moves."""
    env, loop = world.env, asyncio.get_running_loop()
    started = env.now()
    load.release_at = started + timedelta(seconds=HOLD)
    ingest = await world.admin.slash(world.channel, "ingest", url=ingest_url)
    results = [await user.slash(world.channel, "ask", question=questions[i % len(questions)])
               for i, user in enumerate(users)]
    dispatch_virtual = (env.now() - started).total_seconds()
    with LoopLag(loop) as lag:
        load.timing.released = time.perf_counter()
        await env.advance_time(HOLD)
        wall = time.perf_counter() - load.timing.released
    load.release_at = None
    released = load.timing.released
    return AtOnce(
        results=results, ingest=ingest, latencies=[t - released for t in load.timing.answered],
        ingest_seconds=None if load.timing.ingested is None else load.timing.ingested - released,
        wall=wall, dispatch_virtual=dispatch_virtual, loop_lag=lag.lags,
    )


def rss_bytes() -> int:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss


async def in_a_row(world: World, user: Any, questions: Sequence[str], count: int, *, warmup: int = 20,
                   every: int = 100) -> dict[str, Any]:
    """`count` asks one after another by one member (no cooldown); RSS after the warm-up and every `every`."""
    samples: list[tuple[int, int]] = []
    seconds: list[float] = []
    for i in range(warmup + count):
        if i == warmup:
            samples.append((0, rss_bytes()))
        started = time.perf_counter()
        result = await user.slash(world.channel, "ask", question=questions[i % len(questions)])
        seconds.append(time.perf_counter() - started)
        assert result.acknowledged and result.response is not None and result.response.content, i
        if i >= warmup and (i - warmup + 1) % every == 0:
            samples.append((i - warmup + 1, rss_bytes()))
    if samples[-1][0] != count:
        samples.append((count, rss_bytes()))
    first, last = samples[0][1], samples[-1][1]
    return {"asks": count, "rss_start_mb": first / 1e6, "rss_end_mb": last / 1e6,
            "rss_growth": (last - first) / first, "samples": samples, "seconds": seconds[warmup:]}


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
