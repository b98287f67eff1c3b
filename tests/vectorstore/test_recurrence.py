"""Boilerplate found in general: a sentence said word for word in 3 or more distinct articles of the store,
as the lexical index sees them (adds, deletions, a reload from disk), copies of one article counted once."""

from __future__ import annotations

from pathlib import Path

import pytest

import vectorstore.lexical as lexical_module
from tests.vectorstore.test_lexical import open_test_store, put
from vectorstore.lexical import LexicalIndex
from vectorstore.search import HybridRetriever
from vectorstore.store import Store
from vectorstore.text import sentence_key

PROMO = "Subscribe to Circuit Daily for the best AI coverage in your inbox every morning."
NEWS = [
    "Vantor AI raised $2.5 billion in a round led by Northwind Capital on Monday.",
    "Brightline priced its Halo inference chip at $12,000 for data centers.",
    "Kestrel's board hired an outside auditor to review the startup's accounts.",
    "Solace Robotics opened a humanoid robot factory near Munich this week.",
]


def circuit(store: Store, i: int) -> str:
    return put(store, f"https://circuit.example/{i}", f"Story {i}", "Circuit Daily", [f"{NEWS[i]} {PROMO}"])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_test_store(tmp_path / "chroma")


def junk(index: LexicalIndex, *sentences: str) -> set[str]:
    keys = {sentence_key(s): s for s in sentences}
    return {keys[k] for k in index.recurrence().boilerplate([k for k in keys if k is not None])}


def test_a_sentence_in_three_articles_is_boilerplate_and_stops_being_when_one_goes(store: Store) -> None:
    index = LexicalIndex(store, refresh_seconds=0)
    first, second = circuit(store, 0), circuit(store, 1)
    assert junk(index, PROMO, NEWS[0]) == set()  # two articles: not yet
    circuit(store, 2)
    assert junk(index, PROMO, NEWS[0]) == {PROMO}  # the third makes all three copies boilerplate
    assert junk(index, PROMO.upper().replace(".", "!")) == {PROMO.upper().replace(".", "!")}  # case, punctuation
    store.forget(second)
    assert junk(index, PROMO) == set()  # a forgotten article no longer counts
    circuit(store, 3)
    assert junk(index, PROMO) == {PROMO}
    assert first in index.recurrence().articles(sentence_key(PROMO))


def test_copies_of_one_story_count_once(store: Store) -> None:
    # A wire story syndicated by three outlets shares nearly every sentence: its news is not boilerplate.
    story = ["Vantor AI raised $2.5 billion in a round led by Northwind Capital on Monday.",
             "The company said it would spend the money on a new data center in Oregon.",
             "Vantor AI was founded in 2023 by two former researchers."]
    for site in ("Wire One", "Wire Two", "Wire Three"):
        put(store, f"https://{site.replace(' ', '').lower()}.example/vantor", "Vantor raises", site, [" ".join(story)])
    index = LexicalIndex(store, refresh_seconds=0)
    assert junk(index, *story) == set()


def test_the_recurrence_survives_a_restart_from_the_saved_index(store: Store, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(lexical_module, "MIN_DELTA", 0)  # the first build is a base, and is saved
    for i in range(3):
        circuit(store, i)
    LexicalIndex(store, index_dir=tmp_path / "lexical", refresh_seconds=0).refresh(force=True)
    monkeypatch.setattr(lexical_module, "MIN_DELTA", 1000)
    reloaded = LexicalIndex(store, index_dir=tmp_path / "lexical", refresh_seconds=0)
    assert junk(reloaded, PROMO, NEWS[1]) == {PROMO}


def test_the_retriever_names_the_boilerplate_among_sentences(store: Store, tmp_path: Path) -> None:
    from newsdesk.settings import RetrievalSettings

    for i in range(3):
        circuit(store, i)
    settings = RetrievalSettings(_env_file=None, refresh_seconds=0.0)  # type: ignore[call-arg]
    retriever = HybridRetriever(store, settings, tmp_path / "lexical")
    assert retriever.boilerplate([PROMO, NEWS[2], "Too short."]) == {PROMO}
