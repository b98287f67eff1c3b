"""Hostile inputs against the real pipeline and a real embedded store.

One store for the module's refusals (opened once: the embedding model and Chroma cost seconds), seeded
with two articles. Every refusal test snapshots it first (document ids and versions, every chunk id,
the counts) and compares afterwards: a refused input must leave no trace, not even a stray chunk.

Two loopback servers: `site`, the one port FETCH_ALLOW_NETWORKS lets through (a public site's stand-in,
routes added per test), and `canary`, on a port nothing allows: every SSRF test asserts it never saw a
connection, because refusing after connecting would already be too late. Names are answered by
`FakeDNS`, never by real DNS; `RoutingOpener` hands the one test-net address a test declares public to a
loopback server and fails the test on any other non-loopback connect.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingest.errors import IngestError
from ingest.fetch import GuardedClient
from newsdesk.settings import FetchSettings
from newsdesk.wiring import Services
from tests.bot.conftest import world  # noqa: F401 - the SimCord world fixture, for the bot tests here
from tests.conftest import make_settings
from tests.hostile.corpus import HTML, NO_ROBOTS, SEED
from tests.support.httpserver import LoopbackServer
from tests.support.netfakes import FakeDNS, RoutingOpener  # noqa: F401 - the SSRF tests import them from here

# ---- the store and its snapshots ---------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    documents: dict[str, str]  # doc_id -> version
    chunk_ids: frozenset[str]  # every stored chunk, current or not
    document_count: int
    chunk_count: int

    @classmethod
    def of(cls, services: Services) -> Snapshot:
        store = services.store
        return cls(
            documents={doc_id: doc.version for doc_id, doc in store.documents().items()},
            chunk_ids=frozenset(chunk.chunk_id for chunk in store.iter_all_chunks()),
            document_count=store.document_count(),
            chunk_count=store.raw_chunk_count(),
        )


def fetch_settings(*allow: str, **fields: Any) -> FetchSettings:
    return FetchSettings(_env_file=None, allow_networks=list(allow), **fields)  # type: ignore[call-arg]


def only(server: LoopbackServer) -> str:
    return f"127.0.0.1/32:{server.port}"


@pytest.fixture(scope="session")
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer({"/robots.txt": NO_ROBOTS}) as server:
        yield server


@pytest.fixture(scope="session")
def canary() -> Iterator[LoopbackServer]:
    """The 'internal' service SSRF aims at: on loopback, on a port no allowance names."""
    with LoopbackServer({"/": (200, HTML, b"internal secrets"), "/robots.txt": NO_ROBOTS}) as server:
        yield server


@pytest.fixture(scope="session")
def hostile_services(tmp_path_factory: pytest.TempPathFactory, site: LoopbackServer) -> Services:
    settings = make_settings(
        tmp_path_factory.mktemp("hostile"),
        fetch={"allow_networks": [only(site)], "timeout": 10, "extract_timeout": 15},
    )
    services = Services(settings, store_retries=0)
    for article in SEED:
        services.pipeline.ingest_article(article)
    return services


@pytest.fixture
def services(hostile_services: Services, canary: LoopbackServer) -> Iterator[Services]:
    """The shared store; at teardown, the canary must not have been reached by any test."""
    before = len(canary.connections)
    yield hostile_services
    assert len(canary.connections) == before, "a hostile input reached the internal service"


async def refused(
    services: Services, url: str, error: type[IngestError], message: str, *, client: GuardedClient | None = None
) -> IngestError:
    """Ingest `url`: it must fail with exactly `error` and `message`, and leave the store as it was."""
    before = Snapshot.of(services)
    with pytest.raises(IngestError) as caught:
        await services.pipeline.ingest_url(url, client=client)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value.message}"
    assert caught.value.message == message
    assert Snapshot.of(services) == before
    return caught.value


# ---- fake DNS and sockets ------------------------------------------------------------------------------


@pytest.fixture
def route(site: LoopbackServer) -> Iterator[Any]:
    """`route("/path", reply)` on the shared site; removed again at teardown."""
    added: list[str] = []

    def add(path: str, reply: Any) -> str:
        site.routes[path] = reply
        added.append(path)
        return site.url(path)

    yield add
    for path in added:
        site.routes.pop(path, None)


def data_dir_of(services: Services) -> Path:
    return Path(services.settings.data_dir)
