"""Fair use: a per-user cooldown on asking and a cap on answers in progress, with queue positions.

Pure asyncio, no discord: the cogs ask these objects and render what they say.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Cooldown:
    """At most one ask per user every `seconds` (monotonic clock)."""

    def __init__(self, seconds: float, clock: Callable[[], float] | None = None):
        self.seconds = seconds
        self._clock = clock or (lambda: time.monotonic())  # looked up per call: test clocks patch it
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """Seconds until `user_id` may ask again (0 when they may ask now)."""
        last = self._last.get(user_id)
        if last is None or self.seconds <= 0:
            return 0.0
        return max(0.0, last + self.seconds - self._clock())

    def try_take(self, user_id: int) -> float:
        """Start the user's cooldown and return 0, or return the seconds left without starting it."""
        left = self.retry_after(user_id)
        if left > 0:
            return left
        now = self._clock()
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if t + self.seconds > now}
        return 0.0

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
