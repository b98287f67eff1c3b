"""Building chat models from LLMSettings: providers, base URLs, timeouts, and one-line config errors."""

from __future__ import annotations

import sys

import pytest
from langchain.chat_models import base as chat_models_base

from answer.llm import MAX_RETRIES, LLMConfigError, build_answerer, build_chat_model
from answer.service import build_answer_service
from newsdesk.settings import AnswerSettings, LLMSettings, SettingsError, load_settings
from tests.support.answering import FakeRetrieval


def _llm(**values) -> LLMSettings:
    return LLMSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def fresh_provider_cache():
    chat_models_base._get_chat_model_creator.cache_clear()  # it caches imported provider classes
    yield
    chat_models_base._get_chat_model_creator.cache_clear()


def test_openai_compatible_server() -> None:
    model = build_chat_model(
        _llm(model="openai:gpt-4o-mini", base_url="http://127.0.0.1:9/v1", api_key="k", timeout=7, temperature=0.3)
    )
    assert type(model).__name__ == "ChatOpenAI"
    assert model.model_name == "gpt-4o-mini"
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.openai_api_key.get_secret_value() == "k"
    assert model.request_timeout == 7 and model.max_retries == MAX_RETRIES <= 1
    assert model.temperature == 0.3 and model.max_tokens == 600
    assert model.use_responses_api is False


def test_openai_compatible_server_without_key() -> None:
    model = build_chat_model(_llm(model="openai:llama-3.1-8b", base_url="http://127.0.0.1:9/v1"))
    assert model.openai_api_key.get_secret_value() == "unused"


def test_anthropic() -> None:
    pytest.importorskip("langchain_anthropic")  # an optional extra
    model = build_chat_model(_llm(model="anthropic:claude-sonnet-4-5", api_key="k", timeout=9, max_tokens=300))
    assert type(model).__name__ == "ChatAnthropic"
    assert model.model == "claude-sonnet-4-5"
    assert model.default_request_timeout == 9 and model.max_retries == MAX_RETRIES and model.max_tokens == 300


def test_xai() -> None:
    pytest.importorskip("langchain_xai")  # an optional extra
    model = build_chat_model(_llm(model="xai:grok-4", api_key="k", timeout=9))
    assert type(model).__name__ == "ChatXAI"
    assert model.model_name == "grok-4" and model.request_timeout == 9


def test_ollama() -> None:
    pytest.importorskip("langchain_ollama")  # an optional extra
    model = build_chat_model(_llm(model="ollama:llama3.1:8b", base_url="http://127.0.0.1:11434", timeout=9))
    assert type(model).__name__ == "ChatOllama"
    assert model.model == "llama3.1:8b" and model.base_url == "http://127.0.0.1:11434"
    assert model.num_predict == 600 and model.client_kwargs == {"timeout": 9}


@pytest.mark.usefixtures("fresh_provider_cache")
def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)  # import now raises ImportError
    with pytest.raises(LLMConfigError) as caught:
        build_chat_model(_llm(model="anthropic:claude-sonnet-4-5", api_key="k"))
    message = str(caught.value)
    assert message == (
        "LLM_MODEL=anthropic:claude-sonnet-4-5 needs the anthropic extra: pip install 'newsdesk[anthropic]'"
    )
    assert isinstance(caught.value, SettingsError)  # the CLI prints SettingsError as one line


def test_unknown_provider_and_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LLMConfigError, match=r"^LLM_MODEL=foo:bar: unknown provider 'foo'"):
        build_chat_model(_llm(model="foo:bar"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMConfigError, match=r"^LLM_MODEL=openai:gpt-4o-mini needs an API key: set LLM_API_KEY$"):
        build_chat_model(_llm(model="openai:gpt-4o-mini"))


def test_mode_follows_llm_model(tmp_path) -> None:
    assert build_answerer(_llm(), AnswerSettings()) is None
    retrieval = FakeRetrieval()
    plain = load_settings(None, data_dir=tmp_path, llm=_llm())
    assert build_answer_service(plain, retrieval).mode == "extractive"
    with_llm = load_settings(
        None, data_dir=tmp_path, llm=_llm(model="openai:gpt-4o-mini", base_url="http://127.0.0.1:9/v1")
    )
    service = build_answer_service(with_llm, retrieval)
    assert service.mode == "llm" and service.llm is not None and service.llm.timeout == 30.0
