"""Extractive answers over the real store: cited sentences, numbering, refusal, follow-ups."""

from __future__ import annotations

import re

from answer.extractive import REFUSAL, compose
from answer.retrieve import Retrieval
from answer.types import Turn
from newsdesk.settings import AnswerSettings
from tests.answer.conftest import ARTICLES
from vectorstore.text import split_sentences

SETTINGS = AnswerSettings(_env_file=None)  # type: ignore[call-arg]


def ask(retrieval: Retrieval, question: str, history=()):
    # As the answer service does: a follow-up is composed with the earlier question's words borrowed.
    borrowed = " ".join([question, *(t.question for t in list(history)[-1:])])
    return compose(borrowed, retrieval.retrieve(question, history), SETTINGS)


def test_a_cited_answer_from_the_right_source(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "How much will Amazon invest in Anthropic?")
    assert not answer.refused and answer.mode == "extractive"
    assert "$4 billion" in answer.text
    first = answer.citations[0]
    assert first.n == 1 and first.url == "https://techcrunch.example/anthropic-amazon"
    assert first.site == "TechCrunch" and first.published == "2026-03-10" and first.title.startswith("Anthropic")
    assert "$4 billion" in first.quote and first.quote in ARTICLES[0].paragraphs[0]
    assert answer.as_of == max(c.published for c in answer.citations)
    assert re.search(r"\$4 billion[^\[]*\[1\]", answer.text)


def test_sentences_are_whole_unique_cited_and_short(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "How does Mistral train its models, and how much did Mistral raise?")
    assert not answer.refused
    sentences = re.findall(r"(.+?) \[(\d+)\]\s*", answer.text)
    assert sentences and "".join(f"{s} [{n}] " for s, n in sentences).strip() == answer.text
    texts = [s for s, _ in sentences]
    assert len(texts) == len(set(texts))
    assert all(s[0].isupper() and s.endswith((".", "!", "?")) for s in texts)
    assert not any(" | " in s for s in texts)  # never the header
    assert len(answer.text.split()) <= SETTINGS.max_words + 10
    numbers = [int(n) for _, n in sentences]
    assert sorted(set(numbers)) == list(range(1, len(answer.citations) + 1))
    assert numbers[0] == 1 and all(b <= max(numbers[:i + 1]) + 1 for i, b in enumerate(numbers[1:]))
    assert "600 million euros" in answer.text
    assert {c.url for c in answer.citations} >= {"https://eunews.example/mistral-funding"}


def test_refuses_when_the_sources_do_not_cover_it(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "What did Tesla say about its Optimus robot deliveries in Texas?")
    assert answer.refused and answer.text == REFUSAL and answer.citations == []


def test_refuses_a_question_about_an_outlet_the_store_lacks(retrieval: Retrieval) -> None:
    assert retrieval.retrieve("What did a Bloomberg article say about Amazon investing in Anthropic?") == []
    answer = ask(retrieval, "What did a Bloomberg article say about Amazon investing in Anthropic?")
    assert answer.refused and not answer.citations
    assert not ask(retrieval, "What did a TechCrunch article say about Amazon investing in Anthropic?").refused


def test_a_follow_up_borrows_the_earlier_question(retrieval: Retrieval) -> None:
    assert ask(retrieval, "Which were affected?").refused
    history = [Turn("How many people did Google lay off in its cloud division?", "About 200 [1].")]
    answer = ask(retrieval, "Which were affected?", history)
    assert not answer.refused
    assert answer.citations[0].url == "https://theverge.example/google-layoffs"


def test_sentence_splitting_keeps_abbreviations_together() -> None:
    text = "Mr. Altman met U.S. officials on Monday. He said \"AI is here.\" Then he left. Shares rose 3.5% to $12."
    assert split_sentences(text) == ["Mr. Altman met U.S. officials on Monday.", "He said \"AI is here.\"",
                                     "Then he left.", "Shares rose 3.5% to $12."]
