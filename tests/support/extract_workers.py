"""Stand-ins for `ingest.extract.extract` that `extract_async(..., _target=...)` runs in its worker
process, so tests exercise the real deadline, kill and crash paths. Module-level, hence picklable."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ingest.extract import Article, extract
from ingest.fetch import FetchedPage


def hang(page: FetchedPage, *, source: str = "") -> Article:
    """Write this worker's pid to the file named by `source`, then never finish (well, 30 s)."""
    Path(source).write_text(str(os.getpid()))
    time.sleep(30)
    raise AssertionError("the hung extraction was not killed")


def slow(page: FetchedPage, *, source: str = "") -> Article:
    """A real extraction that takes 2.5 s."""
    time.sleep(2.5)
    return extract(page, source=source)


def crash(page: FetchedPage, *, source: str = "") -> Article:
    """The worker dies the way a segfault in a parser would take it."""
    os._exit(3)
