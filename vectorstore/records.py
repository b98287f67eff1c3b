"""What the store holds: documents (one manifest record each) and their chunks.

A document's chunks carry `version` (the content hash). The manifest record names the version that is
current; readers only see chunks of current versions, so a half-written or half-deleted document is
never visible (see `Store.replace_document`).

Every document belongs to one library (`library`, on the document and on each chunk): the shared one
or a server's. The library is part of the document id (`ingest.urls.doc_id_for`), so the same URL in two
libraries is two documents: one server's fetch or forget never touches what another server reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SHARED = "shared"  # the library of everything fed from the command line, bulk imports and the CLI's feeds


def server_library(guild_id: int) -> str:
    """The library of one Discord server: what its admins add with /ingest and /feeds."""
    return f"g{int(guild_id)}"


def library_name(server: int | None) -> str:
    """The library of a server id, or the shared library for None."""
    return SHARED if server is None else server_library(server)


def libraries_seen(server: int | None, shared: bool = True) -> list[str]:
    """What a server's answers draw on: its own library and, when `shared`, the shared one; outside any
    server (DMs, the CLI without --server), the shared library."""
    if server is None:
        return [SHARED]
    return [server_library(server), SHARED] if shared else [server_library(server)]


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    url: str  # canonical URL: the link every citation uses
    title: str
    site: str
    version: str  # content hash of the body and metadata that was embedded
    chunks: int
    author: str = ""
    published: str = ""  # ISO 8601, "" when unknown
    published_ts: int | None = None  # epoch seconds, for Chroma where-filters
    ingested_at: str = ""
    ingested_ts: int = 0
    source: str = ""  # what the admin gave: URL, file path, feed
    library: str = SHARED  # whose it is: the shared library or one server's (part of the doc id)
    feed: str = ""  # the feed it came through ("" : none), for channel scopes

    def to_metadata(self) -> dict[str, Any]:
        meta = {k: v for k, v in asdict(self).items() if v is not None}
        return meta

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> DocumentRecord:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in meta.items() if k in fields})


@dataclass(frozen=True)
class ChunkRecord:
    chunk_id: str
    doc_id: str
    text: str  # the body text shown and quoted; never the header
    header: str  # title/site/date line embedded (and lexically indexed) with the text
    ordinal: int
    char_start: int
    char_end: int
    version: str
    url: str
    title: str
    site: str
    author: str = ""
    published: str = ""
    published_ts: int | None = None
    ingested_at: str = ""
    library: str = SHARED
    feed: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def embed_text(self) -> str:
        return f"{self.header}\n{self.text}" if self.header else self.text

    def to_metadata(self) -> dict[str, Any]:
        meta = {k: v for k, v in asdict(self).items() if k not in {"text", "chunk_id", "extra"} and v is not None}
        return meta

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> ChunkRecord:
        fields = cls.__dataclass_fields__
        known = {k: v for k, v in meta.items() if k in fields}
        return cls(chunk_id=chunk_id, text=text or "", **known)


@dataclass(frozen=True)
class Scope:
    """What a channel's answers may draw on, within its server's libraries: articles of these sites or
    that came through these feeds (either matches). Empty: no limit."""

    sites: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sites or self.feeds)
