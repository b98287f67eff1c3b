"""The service over the real pieces: an embedded Chroma store, hybrid retrieval, the extractive composer,
and ChatOpenAI against the loopback stand-in."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from answer.llm import build_answerer
from answer.retrieve import Retrieval
from answer.service import NOTE_TIMEOUT, NOTE_UNSUPPORTED, AnswerService
from answer.types import Turn
from newsdesk.settings import AnswerSettings, ChromaSettings, LLMSettings, RetrievalSettings
from tests.support.answering import ARTICLES, load_articles
from tests.support.llmserver import Hang, LLMServer, RecordedRequest, Respond
from vectorstore.search import Hit, HybridRetriever
from vectorstore.store import open_store

URLS = {a["doc_id"]: a["url"] for a in ARTICLES}


class SpyRetrieval:
    """The real Retrieval, recording what it was asked."""

    def __init__(self, inner: Retrieval):
        self.inner = inner
        self.calls: list[tuple[str, tuple[Turn, ...]]] = []

    def retrieve(self, question: str, history: Sequence[Turn] = ()) -> list[Hit]:
        self.calls.append((question, tuple(history)))
        return self.inner.retrieve(question, history)

    def boilerplate(self, sentences: Iterable[str]) -> set[str]:
        return self.inner.boilerplate(sentences)


@pytest.fixture
def retrieval(tmp_path: Path, embedder) -> SpyRetrieval:
    store = open_store(ChromaSettings(_env_file=None), tmp_path, embedder, retries=0)  # type: ignore[call-arg]
    load_articles(store)
    settings = RetrievalSettings(_env_file=None)  # type: ignore[call-arg]
    return SpyRetrieval(Retrieval(HybridRetriever(store, settings, tmp_path / "lexical"), settings))


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as running:
        yield running


def make_service(server: LLMServer, retrieval: SpyRetrieval, timeout: float = 10.0) -> AnswerService:
    llm = LLMSettings(
        _env_file=None, model="openai:gpt-4o-mini", base_url=server.base_url, api_key="t", timeout=timeout
    )  # type: ignore[call-arg]
    answers = AnswerSettings(_env_file=None)  # type: ignore[call-arg]
    return AnswerService(retrieval, answers, build_answerer(llm, answers))  # the real extractive composer


def number_of(request: RecordedRequest, title: str) -> int:
    match = re.search(rf'<source-[0-9a-f]+ n="(\d+)" title="{re.escape(title)}"', request.content_of("user"))
    assert match, f"{title!r} not among the sources"
    return int(match.group(1))


@pytest.mark.asyncio
async def test_cited_answer_over_real_retrieval(server: LLMServer, retrieval: SpyRetrieval) -> None:
    def reply(request: RecordedRequest) -> str:
        return f"Nvidia announced the Rubin GPU platform at GTC [{number_of(request, ARTICLES[0]['title'])}]."

    server.script(Respond(reply))
    answer = await make_service(server, retrieval).answer("What did Nvidia announce at GTC?")
    assert answer.mode == "llm" and answer.text == "Nvidia announced the Rubin GPU platform at GTC [1]."
    assert [c.url for c in answer.citations] == [URLS["nvidia"]]
    assert "Rubin" in answer.citations[0].quote


@pytest.mark.asyncio
async def test_fallbacks_use_the_real_extractive_composer(server: LLMServer, retrieval: SpyRetrieval) -> None:
    server.script("PWNED @everyone")
    obeyed = await make_service(server, retrieval).answer("How much did Mistral raise in its funding round?")
    assert obeyed.mode == "extractive" and obeyed.unsupported and obeyed.note == NOTE_UNSUPPORTED
    assert "PWNED" not in obeyed.text and obeyed.citations and obeyed.citations[0].url == URLS["mistral"]

    server.script(Hang(30))
    started = time.monotonic()
    late = await make_service(server, retrieval, timeout=1.0).answer("What did Nvidia announce at GTC?")
    assert late.mode == "extractive" and late.note == NOTE_TIMEOUT
    assert time.monotonic() - started < 1.0 + 2.0
    assert late.citations and late.citations[0].url == URLS["nvidia"]


@pytest.mark.asyncio
async def test_follow_up_over_real_retrieval(server: LLMServer, retrieval: SpyRetrieval) -> None:
    standalone = "What did OpenAI do to its API prices?"

    def reply(request: RecordedRequest) -> str:
        return f"OpenAI cut GPT-5 mini API prices by 40 percent [{number_of(request, ARTICLES[1]['title'])}]."

    server.script(standalone, Respond(reply))
    history = [Turn("What did Nvidia announce at GTC?", "Nvidia announced its Rubin GPU platform [1].")]
    answer = await make_service(server, retrieval).answer("And what about OpenAI?", history)
    assert "What did Nvidia announce at GTC?" in server.requests[0].text
    assert retrieval.calls == [(standalone, ())]
    assert answer.mode == "llm" and [c.url for c in answer.citations] == [URLS["openai"]]


@pytest.mark.asyncio
async def test_an_extractive_follow_up_is_answered_with_the_earlier_question_s_terms(retrieval: SpyRetrieval) -> None:
    service = AnswerService(retrieval, AnswerSettings(_env_file=None))  # type: ignore[call-arg]
    history = [Turn("When do Nvidia's Rubin GPUs start shipping?", "Shipments begin in the second half of 2026 [1].")]
    answer = await service.answer("And how much faster is it than Blackwell?", history)
    assert answer.mode == "extractive" and not answer.refused
    assert "three times the inference performance of Blackwell" in answer.text
    assert [c.url for c in answer.citations] == [URLS["nvidia"]]
