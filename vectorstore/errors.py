"""Store errors; user-facing words are made from them at the edges (CLI, bot)."""

from __future__ import annotations


class StoreError(Exception):
    """Base for anything the store cannot do."""


class StoreUnavailableError(StoreError):
    """The Chroma server does not answer, or the embedded store cannot be opened."""


class EmbeddingMismatchError(StoreError):
    """The collection was built with another embedding model; mixing vector spaces is refused."""


class StoreWriteError(StoreError):
    """A write failed (disk full, server error). The previous version of the document is intact."""
