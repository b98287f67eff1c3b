"""Fakes of the services the bot calls, written for these tests: an answer service that can be slowed
down or made to fail, a pipeline that can be held mid-ingest, a store with a list of documents."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from answer.types import Answer, Citation, Turn
from ingest.errors import IngestError
from newsdesk.settings import Settings


def citation(n: int, *, title: str | None = None, site: str = "aiwire.example", quote: str | None = None) -> Citation:
    return Citation(
        n=n,
        url=f"https://{site}/news/story-{n}",
        title=title if title is not None else f"Story number {n} about chips",
        site=site,
        published=f"2025-03-0{n % 9 + 1}T10:00:00+00:00",
        quote=quote if quote is not None else f"Passage {n}: Nvidia said its new chip ships in May.",
    )


def make_answer(text: str = "Nvidia announced a new chip [1], shipping in May [2].", *, n: int = 2, **kw: Any) -> Answer:
    cites = kw.pop("citations", None) or [citation(i) for i in range(1, n + 1)]
    return Answer(text=text, citations=cites, mode=kw.pop("mode", "extractive"), refused=kw.pop("refused", False),
                  as_of=kw.pop("as_of", "2025-03-03T10:00:00+00:00"), **kw)


class FakeAnswers:
    """`answer(question, history)` that records its calls, optionally sleeps (virtual time) or raises."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Turn]]] = []
        self.libraries: list[list[str] | None] = []  # what each call drew on
        self.delay = 0.0
        self.error: BaseException | None = None
        self.reply: Answer | Callable[[str], Answer] = lambda q: make_answer()
        self.active = 0
        self.most_active = 0  # the most answers that were in progress at once

    async def answer(self, question: str, history: Sequence[Turn] = (), libraries: Sequence[str] | None = None,
                     scope: Any = None) -> Answer:
        self.calls.append((question, list(history)))
        self.libraries.append(None if libraries is None else list(libraries))
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.error is not None:
                raise self.error
            return self.reply(question) if callable(self.reply) else self.reply
        finally:
            self.active -= 1


@dataclass(frozen=True)
class FakeResult:
    url: str
    title: str = "Nvidia ships Blackwell"
    site: str = "aiwire.example"
    published: str = "2025-03-01T09:00:00+00:00"
    chunks: int = 3
    status: str = "new"
    doc_id: str = "d0"
    source: str = ""


class FakePipeline:
    def __init__(self) -> None:
        self.delay = 0.0
        self.error: IngestError | None = None
        self.ingested: list[str] = []
        self.libraries: list[str] = []  # the library of each ingest and forget
        self.forgettable: dict[str, FakeDoc] = {}
        self.stages = ("fetching", "extracting", "embedding 3 chunks", "storing")

    async def ingest_url(self, url: str, *, progress: Any = None, client: Any = None, library: str = "shared") -> FakeResult:
        for stage in self.stages:
            if progress is not None:
                await progress(stage)
            if stage == "fetching" and self.delay:
                await asyncio.sleep(self.delay)
            if stage == "fetching" and self.error is not None:
                raise self.error
        self.ingested.append(url)
        self.libraries.append(library)
        return FakeResult(url=url)

    def forget(self, url: str, library: str = "shared") -> FakeDoc | None:
        self.libraries.append(library)
        return self.forgettable.pop(url, None)


@dataclass
class FakeDoc:
    url: str
    title: str
    site: str = "aiwire.example"
    published: str = ""
    chunks: int = 2


@dataclass
class FakeStore:
    docs: list[FakeDoc] = field(default_factory=list)

    def list_documents(self, libraries: Sequence[str] | None = None) -> list[FakeDoc]:
        return list(self.docs)


class FakeServices:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.answers = FakeAnswers()
        self.pipeline = FakePipeline()
        self.store = FakeStore()
        self.answer_mode = "extractive"

    def stats(self, libraries: Sequence[str] | None = None) -> dict[str, object]:
        return {
            "documents": len(self.store.docs),
            "chunks": sum(d.chunks for d in self.store.docs),
            "embedding_model": "all-MiniLM-L6-v2",
            "store": "embedded at /secret/path",
            "answer_mode": self.answer_mode,
            "last_ingest": "2025-03-04T08:00:00+00:00",
            "newest_article": "2025-03-03T10:00:00+00:00",
            "last_poll": "2025-03-04T09:30:00+00:00",
        }
