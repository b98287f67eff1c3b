"""The ingest error hierarchy. Each message is one sentence a user can read; the CLI prints it, the bot
sends it ephemerally, the traceback goes to the log. `kind` is a stable machine-readable tag."""

from __future__ import annotations


class IngestError(Exception):
    """Something about one input stopped it from being ingested. Nothing was stored for it."""

    kind = "ingest"

    def __init__(self, message: str, *, url: str | None = None):
        super().__init__(message)
        self.url = url

    @property
    def message(self) -> str:
        return str(self.args[0])


class FetchError(IngestError):
    kind = "fetch"


class BadURLError(FetchError):
    """Not an http(s) URL, credentials in it, unparsable host."""

    kind = "bad_url"


class BlockedAddressError(FetchError):
    """The host resolves to an address newsdesk must not connect to (loopback, private, ...)."""

    kind = "blocked_address"


class RobotsDisallowedError(FetchError):
    kind = "robots"


class FetchTimeoutError(FetchError):
    kind = "timeout"


class TooLargeError(FetchError):
    kind = "too_large"


class ContentTypeError(FetchError):
    kind = "content_type"


class TooManyRedirectsError(FetchError):
    kind = "redirects"


class HTTPStatusError(FetchError):
    kind = "http_status"


class ExtractError(IngestError):
    """The page was fetched but holds no article (or the extractor gave up)."""

    kind = "not_article"


class BulkFormatError(IngestError):
    """A bulk-import file that is not a JSON list / JSON Lines of articles."""

    kind = "bulk_format"


class StoreError(IngestError):
    """The vector store refused or failed the write (disk full, server gone). Nothing half-written."""

    kind = "store"
