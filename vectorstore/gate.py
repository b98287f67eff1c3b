"""A readers-writer gate: many Chroma calls at once, or one reopen of the client alone.

The standard library has no readers-writer lock, and one small class is cheaper than a dependency.
A waiting reopen stops new calls from entering, so a busy bot cannot starve it.
Not re-entrant: a holder of `call()` must not take `call()` again (a pending reopen would deadlock it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Gate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0  # calls inside
        self._exclusive = False  # a reopen is waiting or running

    @contextmanager
    def call(self) -> Iterator[None]:
        """Shared: any number of calls run together."""
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                if self._active == 0:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Alone: waits for the calls inside to finish, and keeps new ones (and other reopens) out."""
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._exclusive = True
            while self._active:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()
