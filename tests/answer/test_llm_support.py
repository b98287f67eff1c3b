"""An LLM's sentences checked against the sources they cite, end to end: the real ChatOpenAI against the
loopback stand-in, whose scripted replies plant the errors a model makes (a wrong figure, an invented name
or place, a claim cited to the wrong article) beside faithful paraphrases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from answer.llm import NOTE_NOT_HELD
from answer.support import facts_of, holds
from tests.answer.test_service_llm import make_service
from tests.support.answering import FakeRetrieval
from tests.support.llmserver import LLMServer

QUESTION = "What did OpenAI do to API prices, and how much did Mistral raise?"


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as running:
        yield running


def retrieval() -> FakeRetrieval:
    nvidia, openai, mistral = FakeRetrieval().chunks
    return FakeRetrieval(fixed=[openai, mistral, nvidia])  # prompt numbers: 1 openai, 2 mistral, 3 nvidia


async def answer_to(server: LLMServer, reply: str):
    server.script(reply)
    return await make_service(server.base_url, retrieval()).answer(QUESTION)


@pytest.mark.asyncio
@pytest.mark.parametrize("planted", [
    "OpenAI cut GPT-5 mini API prices by 55 percent [1].",  # a wrong figure
    "Tobias Fenn negotiated the Mistral round [2].",  # a name no source says
    "Mistral raised 600 million euros at a ceremony in Lisbon [2].",  # an invented place
    'OpenAI called the cut "a gift to every developer" [1].',  # a quote no source has
])
async def test_a_planted_error_never_reaches_the_reader(server: LLMServer, planted: str) -> None:
    answer = await answer_to(server, f"OpenAI cut GPT-5 mini API prices by 40 percent [1]. {planted}")
    assert answer.mode == "llm" and not answer.unsupported
    assert answer.text == "OpenAI cut GPT-5 mini API prices by 40 percent [1]."
    assert answer.note == "1 statement not found in the sources was left out."


@pytest.mark.asyncio
async def test_a_claim_cited_to_the_wrong_article_is_cited_to_the_right_one(server: LLMServer) -> None:
    answer = await answer_to(server, "OpenAI cut prices by 40 percent [1]. Mistral raised 600 million euros [1].")
    assert answer.text == "OpenAI cut prices by 40 percent [1]. Mistral raised 600 million euros [2]."
    assert [c.url for c in answer.citations] == ["https://techwire.example/openai-prices",
                                                  "https://startups.example/mistral-round"]
    assert "600 million euros" in answer.citations[1].quote and answer.note == ""


@pytest.mark.asyncio
async def test_faithful_paraphrases_are_all_kept(server: LLMServer) -> None:
    reply = ("OpenAI lowered its GPT-5 mini API prices by 40% [1]. Mistral's round brought in €600 million, led by "
             "General Catalyst [2]. The Rubin platform, shown at GTC, arrives in the second half of 2026 [3].")
    answer = await answer_to(server, reply)
    assert answer.text == reply and answer.note == "" and len(answer.citations) == 3


@pytest.mark.asyncio
async def test_a_sentence_leaning_on_a_dropped_one_goes_with_it(server: LLMServer) -> None:
    answer = await answer_to(server, "OpenAI cut GPT-5 mini API prices by 40 percent [1]. Mistral raised 900 million "
                                     "euros [2]. However, it will spend it on new chips [2]. Nvidia showed Rubin at "
                                     "GTC [3].")
    assert answer.text == "OpenAI cut GPT-5 mini API prices by 40 percent [1]. Nvidia showed Rubin at GTC [2]."
    assert answer.note == "2 statements not found in the sources were left out."


@pytest.mark.asyncio
async def test_a_reply_mostly_not_in_the_sources_gives_the_extractive_answer(server: LLMServer) -> None:
    answer = await answer_to(server, "OpenAI cut prices by 75 percent [1]. Mistral raised 2 billion euros [2]. "
                                     "Nvidia shipped Rubin in Lisbon [3].")
    assert answer.mode == "extractive" and answer.unsupported and answer.note == NOTE_NOT_HELD


def test_what_is_checked_in_a_sentence() -> None:
    facts = facts_of("Alphabet's Google agreed a $3.2bn compute deal with Anthropic in Tokyo.")
    assert [f[:2] for f in facts.figures] == [(3.2e9, "$")] and set(facts.names) == {"Google", "Anthropic", "Tokyo"}
    source = "Anthropic said Google will supply $3.2 billion of compute from its Tokyo region."
    assert holds(facts, source) and not holds(facts_of("The deal is worth $3.5 billion."), source)
    assert holds(facts_of("Google will supply over $3 billion of compute."), source)  # hedged: within a quarter
    assert not holds(facts_of("Google will supply $3 billion of compute."), source)  # unhedged: the figure
    assert holds(facts_of("Sam Bankman-Fried denied it."), "Bankman-Fried denied the charges.")  # a surname
