"""The loopback stand-in itself (streaming, recording, unscripted calls) and LLMAnswerer's own edges."""

from __future__ import annotations

import httpx
import pytest

from answer.llm import LLMAnswerer, LLMError, build_chat_model
from answer.types import Turn
from newsdesk.settings import AnswerSettings, LLMSettings
from tests.support.llmserver import LLMServer, Reply


def _answerer(server: LLMServer, timeout: float = 5.0) -> LLMAnswerer:
    settings = LLMSettings(
        _env_file=None, model="openai:gpt-4o-mini", base_url=server.base_url, api_key="t", timeout=timeout
    )  # type: ignore[call-arg]
    return LLMAnswerer(build_chat_model(settings), settings, AnswerSettings(_env_file=None))  # type: ignore[call-arg]


@pytest.mark.asyncio
async def test_streaming_through_the_real_client() -> None:
    with LLMServer() as server:
        server.script(Reply("Nvidia announced Rubin [1]."))
        model = _answerer(server).chat_model
        pieces = [chunk.text async for chunk in model.astream("hi")]
        assert "".join(pieces) == "Nvidia announced Rubin [1]."
        assert server.requests[0].body["stream"] is True
        assert server.requests[0].messages == [{"role": "user", "content": "hi"}]


def test_unscripted_requests_fail_loudly_and_unknown_paths_404() -> None:
    with LLMServer() as server:
        response = httpx.post(f"{server.base_url}/chat/completions", json={"messages": []})
        assert response.status_code == 500 and "unscripted" in response.text
        assert httpx.post(f"{server.base_url}/embeddings", json={}).status_code == 404
        assert len(server.requests) == 1 and server.pending == 0


@pytest.mark.asyncio
async def test_rewrite_reply_is_tidied_or_rejected() -> None:
    with LLMServer() as server:
        server.script('Standalone question: "What did OpenAI announce?"\nextra line', "   ", "x" * 500)
        answerer = _answerer(server)
        history = [Turn("What did Nvidia announce?")]
        assert await answerer.rewrite("and OpenAI?", history) == "What did OpenAI announce?"
        with pytest.raises(LLMError):
            await answerer.rewrite("and OpenAI?", history)  # empty
        with pytest.raises(LLMError):
            await answerer.rewrite("and OpenAI?", history)  # too long to be a question
