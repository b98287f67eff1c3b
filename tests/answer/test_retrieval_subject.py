"""A many-part question about someone it never names: the name its first articles share carries each
claim's search to the article that says the claim in other words. Real Chroma, the real MiniLM embedder."""

from __future__ import annotations

import pytest

from answer.subject import shared_names
from tests.answer.conftest import Article, make_retrieval, store_with
from vectorstore.store import Store

SPONSOR = "https://civic.example/okafor-robots"
ARTICLES = [
    # Three articles that name the subject and match most of the question...
    Article("https://chips.example/lumio", "Lumio's founder", "Chip Weekly", "2026-05-01",
            ["Wren Okafor founded Lumio, a chip startup building low-power processors for phones."]),
    Article("https://money.example/lumio-round", "Lumio funding", "Money Wire", "2026-05-08",
            ["Lumio, the chip startup Wren Okafor started, raised $2 billion from investors this week."]),
    Article("https://arts.example/opera", "Opera board", "Arts Daily", "2026-05-15",
            ["Wren Okafor, the Lumio founder, now chairs the city opera board."]),
    # ...the one that says the last claim in other words ("gives money", "teens", "machines")...
    Article(SPONSOR, "Okafor gives to a school", "Civic News", "2026-05-20",
            ["Okafor gives money each year to a high-school club where teens build machines after class, "
             "and goes to every one of its shows in the spring."]),
    # ...and clubs that share as much of the claim's own words, which crowd its search.
    *(Article(f"https://local.example/club-{i}", f"Weekend {i}", "Local Times", f"2026-04-{10 + i:02d}",
              [f"The {name} club met on the high street this season."])
      for i, name in enumerate(["chess", "knitting", "debate", "film", "hiking", "rowing"])),
]
QUESTION = ("Who founded the chip startup that raised $2 billion, chairs the city opera board, and sponsored "
            "a teenager's robotics club?")


@pytest.fixture(scope="module")
def subject_store(tmp_path_factory: pytest.TempPathFactory, embedder) -> Store:
    return store_with(ARTICLES, tmp_path_factory.mktemp("subject"), embedder)


def test_the_name_the_articles_share_finds_the_claim_said_in_other_words(subject_store: Store, tmp_path) -> None:
    retrieval = make_retrieval(subject_store, tmp_path / "a", top_k=5)
    claim = "sponsored a teenager's robotics club"
    assert claim in retrieval.claims(retrieval.plan(QUESTION))
    # The claim's own words find the clubs, not Okafor's robot builders...
    assert SPONSOR not in {h.chunk.url for h in retrieval.retriever.search(claim, k=5, dense=False)}
    # ...the first search's articles share a name the question never says...
    main = retrieval.retriever.search(QUESTION, k=5)
    assert "Okafor" in shared_names(QUESTION, main, retrieval.retriever.term_idfs)
    # ...and with it the claim's search brings the article that says it.
    assert SPONSOR in {h.chunk.url for h in retrieval.retrieve(QUESTION)}
    without = make_retrieval(subject_store, tmp_path / "b", top_k=5)
    without.subject_weight = 0.0
    assert SPONSOR not in {h.chunk.url for h in without.retrieve(QUESTION)}


def test_a_shared_name_is_one_several_articles_say_and_the_question_does_not(subject_store: Store,
                                                                               tmp_path) -> None:
    retriever = make_retrieval(subject_store, tmp_path, top_k=5).retriever
    hits = retriever.search(QUESTION, k=10)
    names = shared_names(QUESTION, hits, retriever.term_idfs)
    assert names and {"Okafor", "Lumio"} & set(names)
    # A name the question says is no bridge; nor is one that too few articles share.
    assert "Lumio" not in shared_names(QUESTION + " (Lumio)", hits, retriever.term_idfs)
    assert shared_names(QUESTION, hits, retriever.term_idfs, min_articles=len(ARTICLES)) == []
    # Only capitalised words are names: "street", "season" are in every club article but are no name.
    every = shared_names(QUESTION, hits, retriever.term_idfs, limit=50)
    assert {"Okafor", "Lumio", "Wren"} <= set(every) and not {"street", "season"} & {n.lower() for n in every}


SCHOOL_CLUBS = [
    *ARTICLES[:4],
    # Civic News's other school clubs, as close to the question's words as the sponsor's article and shorter.
    *(Article(f"https://civic.example/club-{i}", f"School life {i}", "Civic News", f"2026-03-{10 + i:02d}",
              [f"The {name} club at the high school met again, and its members built a stage for its shows."])
      for i, name in enumerate(["chess", "knitting", "debate", "film", "hiking", "rowing"])),
]


def test_an_outlet_search_also_looks_for_the_unnamed_subject(tmp_path_factory, embedder, tmp_path) -> None:
    store = store_with(SCHOOL_CLUBS, tmp_path_factory.mktemp("school"), embedder)
    question = "What did Civic News report about the chip startup founder's club?"
    retrieval = make_retrieval(store, tmp_path / "a", top_k=5)
    plan = retrieval.plan(question)
    assert plan.sites == ["Civic News"] and retrieval.claims(plan) == []
    # Civic News's own search, by the question's words alone, ranks five other clubs above the sponsor's...
    alone = retrieval.retriever.search(question, sites=["Civic News"], k=5, max_per_doc=1, dense=False)
    assert SPONSOR not in {h.chunk.url for h in alone}
    # ...with the name the first search's articles share, it finds the article about the founder's club.
    assert SPONSOR in {h.chunk.url for h in retrieval.retrieve(question)}
    without = make_retrieval(store, tmp_path / "b", top_k=5)
    without.subject_weight = 0.0
    assert SPONSOR not in {h.chunk.url for h in without.retrieve(question)}
