"""Fair use: a per-member allowance of questions (and a per-server ceiling) and a cap on answers in
progress, with queue positions.

Pure asyncio, no discord: the cogs ask these objects and render what they say.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Allowance:
    """Fair use that limits bursts, not the next question: a member may ask `burst` questions in a row and
    regains one every `refill` seconds (a token bucket), and a server asks at most `server_per_minute`
    (0: no ceiling). `burst=1` is the old cooldown: one question per `refill` seconds. `refill=0`: no limit."""

    def __init__(self, burst: int, refill: float, server_per_minute: int = 0,
                 clock: Callable[[], float] | None = None):
        self.burst = max(1, burst)
        self.refill = refill
        self.server_per_minute = server_per_minute
        self._clock = clock or (lambda: time.monotonic())  # looked up per call: test clocks patch it
        self._members: dict[int, tuple[float, float]] = {}  # user id -> (tokens, at)
        self._servers: dict[int, tuple[float, float]] = {}

    def try_take(self, user_id: int, guild_id: int | None = None) -> float:
        """Take one question from the member's (and the server's) allowance and return 0, or return the
        seconds until one is there, taking nothing."""
        now = self._clock()
        member = self._level(self._members, user_id, self.burst, self.refill, now)
        server = None
        if guild_id is not None and self.server_per_minute > 0:
            server = self._level(self._servers, guild_id, self.server_per_minute, 60.0 / self.server_per_minute, now)
        wait = max(self._wait(member, self.refill),
                   self._wait(server, 60.0 / self.server_per_minute) if server is not None else 0.0)
        if wait > 0:
            return wait
        if member is not None:
            self._members[user_id] = (member - 1, now)
        if server is not None and guild_id is not None:
            self._servers[guild_id] = (server - 1, now)
        if len(self._members) > 10_000:  # forget members whose allowance is full again
            self._members = {u: (t, at) for u, (t, at) in self._members.items()
                             if t + (now - at) / self.refill < self.burst}
        return 0.0

    @staticmethod
    def _level(buckets: dict[int, tuple[float, float]], key: int, capacity: int, refill: float,
               now: float) -> float | None:
        """Questions left now, or None when there is no limit."""
        if refill <= 0:
            return None
        tokens, at = buckets.get(key, (float(capacity), now))
        return min(float(capacity), tokens + (now - at) / refill)

    @staticmethod
    def _wait(level: float | None, refill: float) -> float:
        return 0.0 if level is None or level >= 1 else (1 - level) * refill

    @staticmethod
    def wait_text(seconds: float) -> str:
        return f"{max(1, math.ceil(seconds))} s"


class GateClosed(Exception):
    """The bot is shutting down: queued questions are not started any more."""


Queued = Callable[[int], Awaitable[None]]


class AnswerGate:
    """At most `limit` answers run at once; the rest wait their turn, first come first served.

    Not a bare asyncio.Semaphore: a waiter needs its queue position (for the "Queued: N ahead"
    message), and shutdown needs the answers in progress (to let them finish). So the gate keeps
    the running answers as tasks, and a waiter waits for one of those tasks to end.
    """

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self._running: set[asyncio.Task[Any]] = set()
        self._waiting: list[object] = []
        self.closed = False

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _ahead(self, ticket: object) -> int:
        """Questions that will be served before this one: those running and those queued earlier."""
        return len(self._running) + self._waiting.index(ticket)

    def _my_turn(self, ticket: object) -> bool:
        free = self.limit - len(self._running)
        return free > 0 and self._waiting.index(ticket) < free

    async def run(self, work: Coroutine[Any, Any, T], on_queued: Queued | None = None) -> T:
        """Run `work` once a slot is free; `on_queued(ahead)` is awaited whenever the position changes."""
        if self.closed:
            work.close()
            raise GateClosed
        ticket = object()
        self._waiting.append(ticket)
        try:
            told: int | None = None
            while True:
                if self.closed:
                    raise GateClosed
                if self._my_turn(ticket):
                    break
                ahead = self._ahead(ticket)
                if on_queued is not None and ahead != told:
                    told = ahead
                    await on_queued(ahead)
                    continue  # the world may have moved while we were telling the user
                if self._running:
                    await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)
                else:  # slots just freed up; let the callers queued before us take them
                    await asyncio.sleep(0)
        except BaseException:
            work.close()
            raise
        finally:
            self._waiting.remove(ticket)
        task = asyncio.get_running_loop().create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await task

    def close(self) -> None:
        """Start nothing new; queued callers get GateClosed when they next wake."""
        self.closed = True

    async def drain(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the answers in progress; True when all finished."""
        self.close()
        if not self._running:
            return True
        _, pending = await asyncio.wait(set(self._running), timeout=timeout)
        return not pending
