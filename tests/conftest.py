"""Shared fixtures: settings rooted in tmp_path, the real embedder, real Chroma (embedded and server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsdesk.settings import SECTIONS, Settings, load_settings
from tests.support.chroma_server import ChromaServer

pytest_plugins = ["tests.support.httpserver"]


def make_settings(data_dir: Path, **sections: Any) -> Settings:
    """Settings that ignore the developer's environment and .env: defaults plus what the test says.

    `sections` maps a section name to a dict of its fields, e.g. fetch={"allow_networks": [...]}.
    """
    built = {}
    for name, cls in SECTIONS.items():
        values = sections.pop(name, {})
        built[name] = values if isinstance(values, cls) else cls(_env_file=None, **values)  # type: ignore[call-arg]
    return load_settings(None, data_dir=data_dir, **built, **sections)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's settings or proxies."""
    for key in list(os.environ):
        if key.split("_")[0] in {"DISCORD", "CHROMA", "EMBEDDING", "LLM", "FETCH", "CHUNK", "RETRIEVAL", "ANSWER",
                                 "FEEDS"} or key in {"DATA_DIR", "LOG_LEVEL"}:
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="session")
def embedder():
    from vectorstore.embeddings import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "server"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh store: embedded under tmp_path, or a fresh collection on the chroma server."""
    if request.param == "embedded":
        return make_settings(tmp_path)
    server: ChromaServer = request.getfixturevalue("chroma_server")
    collection = f"t{abs(hash(request.node.nodeid)) % 10**10}"
    return make_settings(tmp_path, chroma={"host": "127.0.0.1", "port": server.port, "collection": collection})


@pytest.fixture
def store(store_settings: Settings, embedder):
    from vectorstore.store import open_store

    return open_store(store_settings.chroma, store_settings.data_dir, embedder, retries=0)
