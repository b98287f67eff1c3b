"""Extractive mode, question cleaning, and the terminal rendering of an Answer."""

from __future__ import annotations

import asyncio
import threading

import pytest

from answer.render import format_terminal
from answer.service import ASK_FOR_QUESTION, AnswerService, borrow_terms, clean_history
from answer.types import Answer, Citation, Turn
from newsdesk.settings import AnswerSettings
from tests.support.answering import ARTICLES, FakeRetrieval, fake_compose


def make_service(retrieval: FakeRetrieval) -> AnswerService:
    return AnswerService(retrieval, AnswerSettings(_env_file=None), composer=fake_compose)  # type: ignore[call-arg]


@pytest.mark.asyncio
async def test_extractive_mode_passes_history_to_retrieval_and_runs_off_the_loop() -> None:
    retrieval = FakeRetrieval()
    loop_thread = threading.get_ident()
    threads: list[int] = []
    original = retrieval.retrieve

    def retrieve(question, history=()):
        threads.append(threading.get_ident())
        return original(question, history)

    retrieval.retrieve = retrieve  # type: ignore[method-assign]
    service = make_service(retrieval)
    history = [Turn("What did Nvidia announce?", "Rubin [1].")]
    answer = await service.answer("and OpenAI prices?", history)
    assert service.mode == "extractive" and answer.mode == "extractive"
    assert retrieval.calls == [("and OpenAI prices?", tuple(history))]
    assert threads and threads[0] != loop_thread
    assert answer.citations[0].url == ARTICLES[1]["url"]


@pytest.mark.asyncio
async def test_questions_are_cleaned_and_capped_before_anything_else() -> None:
    retrieval = FakeRetrieval()
    service = make_service(retrieval)
    await service.answer("  What\u202e did\x00 Nvidia\u200b\n\n announce?  ")
    await service.answer("Nvidia " * 400)
    assert retrieval.calls[0][0] == "What did Nvidia announce?"
    assert 900 < len(retrieval.calls[1][0]) <= 1000


@pytest.mark.asyncio
async def test_empty_question_asks_for_one_without_retrieving() -> None:
    retrieval = FakeRetrieval()
    for question in ("", "   ", "\u202e\u200b\x00\n"):
        answer = await make_service(retrieval).answer(question)
        assert answer.refused and answer.text == ASK_FOR_QUESTION and answer.citations == []
    assert retrieval.calls == []


def test_answer_sync_works_repeatedly() -> None:
    service = make_service(FakeRetrieval())
    try:
        assert service.answer_sync("What did Nvidia announce?").citations
        assert service.answer_sync("How much did Mistral raise?").citations
    finally:
        service.close()
    assert asyncio.run(service.answer("OpenAI prices?")).citations  # async still fine after close


def test_borrow_terms_and_history_cleaning() -> None:
    history = [Turn("What did Anthropic say about pricing?")]
    assert borrow_terms("and OpenAI?", history) == "and OpenAI? Anthropic pricing"
    assert borrow_terms("What did Anthropic say about pricing?", history) == "What did Anthropic say about pricing?"
    assert borrow_terms("and OpenAI?", []) == "and OpenAI?"
    turns = clean_history([Turn(f"q{i}\u202e", "a" * 2000) for i in range(6)] + [Turn("  ")])
    assert [t.question for t in turns] == ["q4", "q5"]  # the last three turns, the empty one dropped
    assert all(len(t.answer) <= 600 for t in turns)


def test_format_terminal() -> None:
    answer = Answer(
        text="OpenAI cut prices [1]. Nvidia showed Rubin [2].",
        citations=[
            Citation(
                1, "https://techwire.example/openai-prices", "OpenAI cuts API prices", "Techwire", "2026-02-20", "q"
            ),
            Citation(2, "https://news.example/nvidia-rubin", "Nvidia unveils Rubin", "", "", "q"),
        ],
        mode="extractive",
        refused=False,
        note="The language model did not answer in time; this is an extractive answer from the sources.",
        as_of="2026-02-20T08:00:00+00:00",
    )
    assert format_terminal(answer) == (
        "OpenAI cut prices [1]. Nvidia showed Rubin [2].\n\n"
        "Note: The language model did not answer in time; this is an extractive answer from the sources.\n\n"
        "Sources (as of 20 February 2026):\n"
        "[1] OpenAI cuts API prices — Techwire, 2026-02-20\n"
        "    https://techwire.example/openai-prices\n"
        "[2] Nvidia unveils Rubin\n"
        "    https://news.example/nvidia-rubin\n"
    )
    refused = Answer(text="Nothing on that.", citations=[], mode="llm", refused=True)
    assert format_terminal(refused) == "Nothing on that.\n"
