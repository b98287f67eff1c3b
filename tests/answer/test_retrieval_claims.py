"""Multi-part questions: one search per claim gets every source into a short context, and the chunk
whose single sentence answers the question comes first. Real Chroma, the real MiniLM embedder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.answer.conftest import Article, make_retrieval, store_with
from vectorstore.store import Store

PROFILE = ("Quillon's chief executive talked about national robot safety rules, the Senate, and Quillon's new "
           "office in the Napa valley. The chief executive of Quillon said robot safety was a national matter. ")
ARTICLES = [
    # Three facts about one person, each in its own article of one outlet...
    Article("https://dailyai.example/chess", "Quillon's boss", "Daily AI", "2026-05-01",
            ["Before she ran a company, Dana Reyes was a national chess champion at nineteen."]),
    Article("https://dailyai.example/vineyard", "A vineyard deal", "Daily AI", "2026-05-08",
            ["Dana Reyes bought a vineyard in the Napa valley last spring, filings show."]),
    Article("https://dailyai.example/senate", "Hearing on robots", "Daily AI", "2026-05-15",
            ["Dana Reyes testified before the Senate on robot safety standards for warehouses."]),
    # ... among profiles that repeat the question's general words and crowd a whole-question search.
    *(Article(f"https://dailyai.example/profile-{i}", f"Quillon chief executive profile {i}", "Daily AI",
              f"2026-04-{10 + i:02d}", [PROFILE * 2]) for i in range(6)),
    # A short chunk with the question's words scattered over sentences, which BM25 ranks first, and a long
    # one with the sentence that answers.
    Article("https://wire.example/scattered", "Quillon robots", "Wire", "2026-06-01",
            ["Quillon robots. A fund. A round. Money, millions. Robots build. Quillon led."]),
    Article("https://wire.example/funding", "Quillon raises money", "Wire", "2026-06-02",
            ["The weather in the city was mild all week, and the trains ran on time. Local cafes reported "
             "busy mornings, while the council debated new bicycle lanes and parking rules downtown. "
             "Quillon raised $300 million in a round led by Northgate Capital to build warehouse robots."]),
]
QUESTION = ("Which chief executive of Quillon was a national chess champion, bought a vineyard in the Napa "
            "valley, and testified before the Senate on robot safety?")


@pytest.fixture(scope="module")
def claim_store(tmp_path_factory: pytest.TempPathFactory, embedder) -> Store:
    return store_with(ARTICLES, tmp_path_factory.mktemp("claims"), embedder)


def test_each_claim_of_a_question_brings_its_own_source(claim_store: Store, tmp_path) -> None:
    wanted = {"https://dailyai.example/chess", "https://dailyai.example/vineyard", "https://dailyai.example/senate"}
    retrieval = make_retrieval(claim_store, tmp_path / "a", top_k=3)
    assert retrieval.claims(retrieval.plan(QUESTION)) == [
        "chief executive of Quillon was a national chess champion", "bought a vineyard in the Napa valley",
        "testified before the Senate on robot safety"]
    assert wanted <= {h.chunk.url for h in retrieval.retrieve(QUESTION)}
    # The same question as one search: the profiles push at least one of the three out of the context.
    whole = make_retrieval(claim_store, tmp_path / "b", top_k=3, max_claims=0)
    assert not wanted <= {h.chunk.url for h in whole.retrieve(QUESTION)}


def test_a_single_claim_question_gets_no_claim_searches(claim_store: Store, tmp_path) -> None:
    retrieval = make_retrieval(claim_store, tmp_path)
    assert retrieval.claims(retrieval.plan("Who led Quillon's funding round?")) == []
    assert retrieval.claims(retrieval.plan("What did the Daily AI article say, and what did it report?")) == []


def test_the_chunk_whose_sentence_answers_comes_first(claim_store: Store, tmp_path) -> None:
    question = "Which fund led Quillon's $300 million round, and what robots will the money build?"
    retrieval = make_retrieval(claim_store, tmp_path / "a")
    hits = retrieval.retrieve(question)
    assert "Northgate Capital" in hits[0].chunk.text
    (match,) = retrieval.sentence_matches([question], hits)
    scattered = next(h for h in hits if h.chunk.url == "https://wire.example/scattered")
    assert match[hits[0].chunk.chunk_id] > match[scattered.chunk.chunk_id]
    # Ordered by the lists alone, the scattered words win.
    unweighted = make_retrieval(claim_store, tmp_path / "b", sentence_weight=0).retrieve(question)
    assert unweighted[0].chunk.url == "https://wire.example/scattered"


def test_term_idfs_weigh_rare_words_above_common_ones(claim_store: Store, tmp_path) -> None:
    retriever = make_retrieval(claim_store, tmp_path).retriever
    (weights,) = retriever.term_idfs(["Quillon vineyard zyzzyva"])
    assert len(weights) == 2  # a word no article has is not a term
    (quillon,), (vineyard,) = (retriever.term_idfs([w])[0].values() for w in ("Quillon", "vineyard"))
    assert vineyard > quillon > 0
    assert retriever.term_idfs([]) == [] and retriever.term_idfs(["the of"]) == [{}]


DATED = [
    Article("https://techcrunch.example/robotaxi", "Robotaxi permits", "TechCrunch", "2026-10-04",
            ["The city granted robotaxi permits to three operators on Tuesday."]),
    Article("https://techcrunch.example/drones", "Drone rules", "TechCrunch", "2026-10-20",
            ["New drone delivery rules cap flights at 120 metres over homes."]),
    Article("https://engadget.example/deck", "Steam Deck OLED review", "Engadget", "2026-11-09",
            ["The new handheld, the Steam Deck OLED, goes on sale on November 16 with a brighter screen."]),
    Article("https://theverge.example/sweeney", "Sweeney on stores", "The Verge", "2026-11-20",
            ["Tim Sweeney said Valve decided its store focuses exclusively on games."]),
    # Older pieces of both outlets that fill the undated claims' searches.
    *(Article(f"https://{site.lower().replace(' ', '')}.example/store-{i}", f"Store notes {i}", site,
              f"2026-09-{10 + i:02d}", [f"An article suggests Valve's store focuses exclusively on games, note {i}."])
      for i, site in enumerate(["Engadget", "The Verge"] * 3)),
]
# A single outlet (Daily AI) for the three facts, and a chunk whose words fill one claim's search.
PICKS = [*ARTICLES[:3], Article("https://dailyai.example/napa", "Napa weekend", "Daily AI", "2026-05-20",
                                ["Napa valley tours. Napa valley hotels. Napa valley inns. A vineyard lunch. "
                                 "A vineyard map. A vineyard shop. Bought here."])]


@pytest.fixture(scope="module")
def dated_store(tmp_path_factory: pytest.TempPathFactory, embedder) -> Store:
    return store_with(DATED, tmp_path_factory.mktemp("dated"), embedder)


def test_a_claim_without_a_date_may_be_another_days_source(dated_store: Store, tmp_path) -> None:
    question = ("Did the TechCrunch report on robotaxi permits published on October 4, 2026, and the report on "
                "drone delivery rules agree?")
    retrieval = make_retrieval(dated_store, tmp_path)
    plan = retrieval.plan(question)
    october_4 = int(datetime(2026, 10, 4, tzinfo=UTC).timestamp())
    assert (plan.since_ts, plan.until_ts) == (october_4, october_4 + 86399)  # not the drones story's day
    urls = {h.chunk.url for h in retrieval.retrieve(question)}
    assert {"https://techcrunch.example/robotaxi", "https://techcrunch.example/drones"} <= urls


def test_an_event_date_does_not_hide_the_article_about_it(dated_store: Store, tmp_path) -> None:
    # "on November 16" is when the handheld goes on sale, not when Engadget wrote about it (November 9).
    question = ("Does the Engadget article suggest that Valve is launching a new handheld on November 16, while "
                "The Verge article says Valve's store focuses exclusively on games?")
    retrieval = make_retrieval(dated_store, tmp_path)
    plan = retrieval.plan(question)
    assert plan.dated and not plan.cued
    urls = {h.chunk.url for h in retrieval.retrieve(question)}
    assert {"https://engadget.example/deck", "https://theverge.example/sweeney"} <= urls
    # Said of the article, the same date is a filter: nothing Engadget published on November 16.
    assert "https://engadget.example/deck" not in {h.chunk.url for h in retrieval.retrieve(
        "What did the Engadget article published on November 16 say about the new handheld?")}


def test_each_claim_picks_the_article_whose_sentence_says_it(tmp_path_factory, embedder, tmp_path) -> None:
    store = store_with(PICKS, tmp_path_factory.mktemp("picks"), embedder)
    retrieval = make_retrieval(store, tmp_path / "a", top_k=3)
    claim = "bought a vineyard in the Napa valley"
    assert claim in retrieval.claims(retrieval.plan(QUESTION))
    # Word counts alone put the Napa weekend chunk above the one sentence that says it...
    alone = retrieval.retriever.search(claim, k=1, dense=False)
    assert alone[0].chunk.url == "https://dailyai.example/napa"
    # ...but each claim brings the article whose single sentence matches it best.
    wanted = {"https://dailyai.example/chess", "https://dailyai.example/vineyard", "https://dailyai.example/senate"}
    assert {h.chunk.url for h in retrieval.retrieve(QUESTION)} == wanted


OUTLETS = [
    Article("https://wired.example/exports", "Chip trade", "Wired", "2026-07-01",
            ["A Wired report on chip exports found shipments to Asia doubled this year."]),
    Article("https://theverge.example/scattered", "Chips", "The Verge", "2026-07-02",
            ["Chip exports. Exports, exports. Chips ship. A report. Both sides."]),
    Article("https://theverge.example/exports", "Trade week", "The Verge", "2026-07-03",
            ["The weather was mild all week and the trains ran on time, while the council debated new parking "
             "rules and bicycle lanes downtown for most of the month. A report on chip exports showed that "
             "shipments fell for the first time in a decade."]),
]


def test_each_named_outlet_brings_the_article_whose_sentence_says_it(tmp_path_factory, embedder,
                                                                      tmp_path) -> None:
    store = store_with(OUTLETS, tmp_path_factory.mktemp("outlets"), embedder)
    retrieval = make_retrieval(store, tmp_path, top_k=2)
    question = "What did the report on chip exports say, according to Wired and The Verge?"
    plan = retrieval.plan(question)
    assert plan.sites == ["Wired", "The Verge"] and retrieval.claims(plan) == []
    # The Verge's own search ranks the chunk of scattered words first...
    alone = retrieval.retriever.search(question, sites=["The Verge"], k=1, dense=False)
    assert alone[0].chunk.url == "https://theverge.example/scattered"
    # ...but the outlet brings the article with the sentence that says it.
    assert {h.chunk.url for h in retrieval.retrieve(question)} == {
        "https://wired.example/exports", "https://theverge.example/exports"}


def test_a_period_bounds_every_outlet_of_the_question(dated_store: Store, tmp_path) -> None:
    question = "What did Engadget write this month about the handheld, and what did The Verge say about Valve's store?"
    hits = make_retrieval(dated_store, tmp_path).retrieve(question)
    assert {"https://engadget.example/deck", "https://theverge.example/sweeney"} <= {h.chunk.url for h in hits}
    assert all(h.chunk.published >= "2026-11-01" for h in hits)  # not September's store notes
