"""`newsdesk eval` metrics on a tiny hand-made corpus and query set with known expected values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from answer.evaluate import format_table, run_eval, score_query
from answer.types import Answer
from tests.conftest import make_settings
from vectorstore.records import ChunkRecord
from vectorstore.search import Hit

CORPUS = [
    {"title": "Anthropic raises $4 billion from Amazon", "author": "A. Writer", "source": "TechCrunch",
     "published_at": "2023-10-02T10:00:00+00:00", "category": "technology",
     "url": "https://techcrunch.example/anthropic-amazon",
     "body": "Anthropic said on Tuesday that Amazon will invest $4 billion in the company. The deal makes "
             "Amazon Web Services the primary cloud provider for Anthropic's Claude models."},
    {"title": "OpenAI shows its first hardware device", "author": None, "source": "The Verge",
     "published_at": "2023-11-15T09:00:00+00:00", "category": "technology",
     "url": "https://theverge.example/openai-device",
     "body": "OpenAI showed its first consumer hardware device at an event in San Francisco. The pocket-sized "
             "device has no screen and answers questions by voice."},
    {"title": "Nvidia posts record revenue", "author": None, "source": "Wired",
     "published_at": "2023-12-01T08:00:00+00:00", "category": "business", "url": "https://wired.example/nvidia",
     "body": "Nvidia reported record quarterly revenue of $18 billion, driven by data center chips. Demand for "
             "its H100 accelerators outstripped supply, the company said."},
]
QUERIES = [
    {"query": "Which company will invest $4 billion in Anthropic, according to TechCrunch?", "answer": "Amazon",
     "question_type": "inference_query",
     "evidence_list": [{"url": CORPUS[0]["url"], "source": "TechCrunch", "published_at": CORPUS[0]["published_at"],
                        "fact": "Anthropic said on Tuesday that Amazon will invest $4 billion in the company."}]},
    {"query": "Does The Verge say the OpenAI device has a screen, and did Reuters agree?", "answer": "No",
     "question_type": "comparison_query",
     "evidence_list": [
         {"url": CORPUS[1]["url"], "source": "The Verge", "published_at": CORPUS[1]["published_at"],
          "fact": "This sentence appears in no article."},
         {"url": "https://missing.example/never-imported", "source": "Elsewhere", "published_at": "",
          "fact": "Nor does this one."}]},
    {"query": "What did a Bloomberg report say about the Sygic CEO's favourite letter?",
     "answer": "Insufficient information.", "question_type": "null_query", "evidence_list": []},
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    corpus, queries = tmp_path / "corpus.json", tmp_path / "queries.json"
    corpus.write_text(json.dumps(CORPUS))
    queries.write_text(json.dumps(QUERIES))
    return corpus, queries


def test_metrics_on_a_tiny_corpus(files: tuple[Path, Path], tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    seen: list[tuple[str, int, int]] = []
    report = run_eval(*files, settings=settings, limit=None, progress=lambda *a: seen.append(a))
    overall = report["summary"]["overall"]
    assert overall["queries"] == 3
    assert overall["fact_hits_at_4"] == overall["fact_hits_at_10"] == 0.5  # query 2's facts are nowhere
    assert overall["fact_mrr_at_10"] == 0.5  # query 1's fact is in the first chunk
    assert overall["article_hits_at_10"] == 1.0
    assert overall["all_gold_at_10"] == 0.5  # query 2 names an article that was never imported
    assert overall["null_refusal"] == 1.0 and overall["false_refusal"] == 0.0
    # The extractive answer is judged too: query 1 asks "which company" and its one source names Amazon.
    assert report["summary"]["inference_query"]["answer_accuracy"] == 1.0
    assert report["summary"]["inference_query"]["lead_accuracy"] == 1.0
    assert report["summary"]["comparison_query"]["name_accuracy"] is None  # "No" is a verdict, not a name
    rows = {r["query"]: r for r in report["rows"]}
    assert rows[QUERIES[0]["query"]]["answer"].startswith("**Amazon**")
    assert report["summary"]["inference_query"]["fact_mrr_at_10"] == 1.0
    assert report["summary"]["comparison_query"]["fact_hits_at_10"] == 0.0
    assert report["summary"]["null_query"]["fact_hits_at_10"] is None
    assert ("queries", 3, 3) in seen and ("import", 3, 3) in seen

    # The same corpus again: the kept store is reused, nothing is imported; an answer function is judged.
    def no_import(*_: object) -> None:
        raise AssertionError("the eval store should have been reused")

    def answer(question: str, hits: list[Hit]) -> Answer:
        return Answer("It is Amazon [1].", [], "llm", refused="Bloomberg" in question)

    again = run_eval(*files, settings=settings, limit=2, progress=None, answer=answer, importer=no_import)
    assert again["store"] == report["store"] and again["summary"]["overall"]["queries"] == 2
    assert again["summary"]["overall"]["answer_accuracy"] == 0.5
    assert format_table(again).row_count == 3  # overall and the two question types


def chunk(text: str, header: str = "") -> ChunkRecord:
    return ChunkRecord(chunk_id=text[:8], doc_id="d", text=text, header=header, ordinal=0, char_start=0,
                       char_end=len(text), version="v", url="https://example.com/a/", title="t", site="s")


def test_fact_matching_ignores_whitespace_but_not_the_header() -> None:
    query = {"evidence_list": [{"url": "http://www.example.com/a", "fact": "Amazon  will invest\n$4 billion."}]}
    spaced = [Hit(chunk("Other text."), 1.0), Hit(chunk("So Amazon will\ninvest $4   billion. Done."), 0.5)]
    assert score_query(query, spaced) == {"fact_hits_at_4": 1.0, "fact_hits_at_10": 1.0, "fact_mrr_at_10": 0.5,
                                          "article_hits_at_10": 1.0, "all_gold_at_10": 1.0}
    header_only = [Hit(chunk("Unrelated.", header="Amazon will invest $4 billion."), 1.0)]
    assert score_query(query, header_only)["fact_hits_at_10"] == 0.0
    late = [Hit(chunk(f"Filler {i}."), 1.0) for i in range(4)] + spaced[1:]
    assert score_query(query, late)["fact_hits_at_4"] == 0.0 and score_query(query, late)["fact_mrr_at_10"] == 0.2


def test_answer_metrics_read_words_and_count_recurring_sentences() -> None:
    from answer.evaluate import answer_scores, contains, recurring_sentences

    assert contains("**Sam Bankman-Fried** [1]\nHe was convicted [1].", "Sam Bankman-Fried")
    assert not contains("It is not clear [1].", "No")  # "no" is not found inside "not"
    promo = "Sign up for our newsletter to get the week's best stories."
    articles = [{"body": f"Story {i} happened on a quiet Tuesday morning. {promo}"} for i in range(3)]
    junk = recurring_sentences(articles)
    led = Answer(f"**Amazon** [1]\nAmazon will invest in the company [1]. {promo} [2]", [], "extractive", False,
                 lead="Amazon")
    row = answer_scores(led, "Amazon", common=set(), junk=junk)
    assert row["lead_accuracy"] == 1.0 and row["name_accuracy"] == 1.0 and row["name_accuracy_rest"] == 1.0
    assert (row["answer_sentences"], row["junk_sentences"]) == (2, 1)  # the lead line is not a quoted sentence
    unled = Answer("Its cloud deal was signed this week after months of talks between the two companies' lawyers [1]. "
                   "And Amazon will invest [1].", [], "extractive", False)  # the name past the first 15 words
    row = answer_scores(unled, "Amazon", common={"amazon"}, junk=junk)
    assert row["lead_accuracy"] == 0.0 and row["name_accuracy"] == 1.0 and "lead_accuracy_rest" not in row


def test_the_eval_store_is_rebuilt_when_ingest_or_the_embedder_changes(files: tuple[Path, Path],
                                                                       tmp_path: Path) -> None:
    from answer.evaluate import corpus_dir

    settings = make_settings(tmp_path / "data")
    corpus = files[0]
    same = corpus_dir(settings, corpus, "p1-c1-200-40")
    assert corpus_dir(settings, corpus, "p1-c1-200-40") == same
    assert corpus_dir(settings, corpus, "p2-c1-200-40") != same  # the ingest pipeline changed
    other_model = settings.model_copy(update={"embedding": settings.embedding.model_copy(update={"model": "other"})})
    assert corpus_dir(other_model, corpus, "p1-c1-200-40") != same
    corpus.write_text(json.dumps(CORPUS[:2]))
    assert corpus_dir(settings, corpus, "p1-c1-200-40") != same


def test_with_an_llm_the_model_s_answers_are_measured(files: tuple[Path, Path], tmp_path: Path) -> None:
    # The real LangChain OpenAI client against a loopback stand-in: the model answers the first question
    # with a name it cites; the second question's call fails, and the bot's extractive fallback answers.
    from answer.llm import build_answerer
    from newsdesk.settings import LLMSettings
    from tests.support.llmserver import LLMServer

    with LLMServer() as server:
        server.script("Amazon is the investor [1]. Amazon will invest $9 billion [1].")  # the source says $4 billion
        llm_settings = LLMSettings(_env_file=None, model="openai:gpt-4o-mini", base_url=server.base_url,
                                   api_key="t", timeout=10)  # type: ignore[call-arg]
        settings = make_settings(tmp_path / "data", llm=llm_settings.model_dump())
        llm = build_answerer(settings.llm, settings.answer)
        report = run_eval(*files, settings=settings, limit=2, progress=None, llm=llm)
    rows = report["rows"]
    assert report["mode"] == "llm"
    assert rows[0]["answer"] == "Amazon is the investor [1]." and rows[0]["answer_accuracy"] == 1.0
    assert (rows[0]["cited_sentences"], rows[0]["recited"], rows[0]["dropped"]) == (2, 0, 1)
    assert report["summary"]["overall"]["reply_support"] == 0.5 and report["summary"]["overall"]["dropped"] == 1
    assert rows[0]["lead_accuracy"] == 1.0  # its first line names the gold answer
    assert not rows[1]["refused"] and "[1]" in rows[1]["answer"]  # the fallback, cited
    assert server.requests and "Anthropic" in server.requests[0].messages[-1]["content"]
