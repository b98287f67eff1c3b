"""The wiring: from Settings to ready services. Used by the entry points only (the CLI, create_bot)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from newsdesk.settings import Paths, Settings

if TYPE_CHECKING:
    from answer.retrieve import Retrieval
    from answer.service import AnswerService
    from ingest.pipeline import Pipeline
    from vectorstore.embeddings import Embedder
    from vectorstore.store import Store

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the CLI and the bot work with. The store opens on first use; retrieval likewise."""

    settings: Settings
    store_retries: int | None = None
    _closed: bool = field(default=False, init=False)

    @property
    def paths(self) -> Paths:
        return Paths(self.settings.data_dir)

    @cached_property
    def embedder(self) -> Embedder:
        from vectorstore.embeddings import build_embedder

        return build_embedder(self.settings.embedding)

    @cached_property
    def store(self) -> Store:
        """Opened on first use. A failure is not cached: the next use (the bot's next request) tries
        again, without the start-up wait, so a Chroma server that comes back is picked up."""
        from vectorstore.errors import StoreUnavailableError
        from vectorstore.store import open_store

        try:
            return open_store(self.settings.chroma, self.settings.data_dir, self.embedder, retries=self.store_retries)
        except StoreUnavailableError:
            self.store_retries = 0  # the start-up wait (CHROMA_CONNECT_RETRIES) is spent; fail fast from now on
            raise

    @cached_property
    def pipeline(self) -> Pipeline:
        from ingest.pipeline import Pipeline

        return Pipeline(self.store, self.settings.chunk, self.settings.fetch)

    @cached_property
    def retrieval(self) -> Retrieval:
        from answer.retrieve import Retrieval
        from vectorstore.search import HybridRetriever

        retriever = HybridRetriever(self.store, self.settings.retrieval, self.paths.lexical)
        return Retrieval(retriever, self.settings.retrieval)

    @cached_property
    def answers(self) -> AnswerService:
        from answer.service import build_answer_service

        return build_answer_service(self.settings, self.retrieval)

    @property
    def answer_mode(self) -> str:
        return "llm" if self.settings.llm.model else "extractive"

    def stats(self, libraries: Sequence[str] | None = None) -> dict[str, object]:
        """Documents, chunks, last ingest and feed poll, embedding model, store location, answer mode
        (blocking); of `libraries` (None: the whole store)."""
        from ingest.feedstore import last_poll_at

        docs = self.store.list_documents(libraries)
        return {
            "documents": len(docs),
            "chunks": sum(d.chunks for d in docs),
            "embedding_model": self.store.embedder.name,
            "store": self.store.location,
            "answer_mode": self.answer_mode,
            "last_ingest": max((d.ingested_at for d in docs), default=""),
            "newest_article": max((d.published for d in docs), default=""),
            "last_poll": last_poll_at(self.paths.feeds_db),  # "" with no feeds
        }


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "chromadb", "discord.gateway", "urllib3", "trafilatura"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
