"""The only module that builds chat models, and the answerer that talks to one.

`build_chat_model` turns LLMSettings into a LangChain chat model through `init_chat_model`, so any
provider is a settings change: `openai:`, `anthropic:`, `xai:`, `ollama:` (each an optional extra),
or any OpenAI-compatible server through LLM_BASE_URL. Retries are kept to one: a user is waiting,
and the extractive answer is a better use of the time than a third attempt.

`LLMAnswerer` makes the two calls answering needs (rewrite a follow-up, answer from sources), each
under a hard wall-clock budget (`asyncio.timeout`; client timeouts alone are per read, not per call).
Anything that goes wrong becomes `LLMError` (`LLMTimeoutError` for time); the service falls back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from answer.citations import check_reply, newest_date
from answer.prompts import REFUSAL, answer_messages, clean_question, gather_sources, new_nonce, rewrite_messages
from answer.types import Answer, Turn
from newsdesk.settings import AnswerSettings, LLMSettings, SettingsError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from vectorstore.search import Hit

log = logging.getLogger(__name__)

EXTRAS = {"openai": "openai", "azure_openai": "openai", "anthropic": "anthropic", "xai": "xai", "ollama": "ollama"}
MAX_RETRIES = 1
REWRITE_MAX_CHARS = 400


NOTE_NOT_HELD = ("The language model's answer said things its sources do not; this is an extractive answer from "
                 "the sources.")


class LLMConfigError(SettingsError):
    """LLM_MODEL names a provider that is unknown or whose package is missing; one line for the user."""


class LLMError(Exception):
    """The chat model gave no usable reply: HTTP error, refused connection, malformed or empty reply."""


class LLMTimeoutError(LLMError):
    """The chat model did not answer within its budget."""


def chat_model_kwargs(settings: LLMSettings) -> tuple[str, str, dict[str, Any]]:
    """(provider, model name, constructor kwargs) for `init_chat_model`."""
    assert settings.model, "LLM_MODEL is not set"
    provider, _, name = settings.model.partition(":")
    provider = provider.strip().lower().replace("-", "_")
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if provider == "ollama":
        client: dict[str, Any] = {"timeout": settings.timeout}
        if key:  # an Ollama behind an authenticating proxy
            client["headers"] = {"Authorization": f"Bearer {key}"}
        kwargs: dict[str, Any] = {
            "temperature": settings.temperature,
            "num_predict": settings.max_tokens,
            "client_kwargs": client,
        }
        if settings.base_url:
            kwargs["base_url"] = settings.base_url
        return provider, name, kwargs
    kwargs = {
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "timeout": settings.timeout,
        "max_retries": MAX_RETRIES,
    }
    if key:
        kwargs["api_key"] = key
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
        if provider == "openai":
            kwargs.setdefault("api_key", "unused")  # local OpenAI-compatible servers often want no key
            kwargs["use_responses_api"] = False  # compatible servers implement /chat/completions only
    return provider, name, kwargs


def build_chat_model(settings: LLMSettings) -> BaseChatModel:
    """A LangChain chat model for LLM_MODEL; LLMConfigError (one line) when it cannot be built."""
    from langchain.chat_models import init_chat_model

    provider, name, kwargs = chat_model_kwargs(settings)
    where = f"LLM_MODEL={settings.model}"
    try:
        return init_chat_model(name, model_provider=provider, **kwargs)
    except ImportError:
        extra = EXTRAS.get(provider)
        if extra:
            raise LLMConfigError(f"{where} needs the {extra} extra: pip install 'newsdesk[{extra}]'") from None
        package = f"langchain-{provider.replace('_', '-')}"
        raise LLMConfigError(f"{where} needs the {package} package: pip install {package}") from None
    except Exception as error:  # noqa: BLE001 - provider SDKs raise their own kinds (missing key, ...)
        text = str(error)
        if re.search(r"unsupported provider|unable to infer model provider", text, re.IGNORECASE):
            message = f"{where}: unknown provider {provider!r} (try openai, anthropic, xai or ollama)"
        elif re.search(r"api[_ ]?key|credential", text, re.IGNORECASE):
            message = f"{where} needs an API key: set LLM_API_KEY"
        else:
            message = f"{where}: cannot set up the chat model: {_first_line(error)}"
        raise LLMConfigError(message) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


def _is_timeout(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError) or "timeout" in type(seen).__name__.lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class LLMAnswerer:
    """Answers from sources with a chat model; every failure is an LLMError for the caller to handle."""

    def __init__(
        self,
        chat_model: BaseChatModel,
        settings: LLMSettings,
        answer_settings: AnswerSettings,
        *,
        today: Callable[[], date] = date.today,
    ):
        self.chat_model = chat_model
        self.settings = settings
        self.answer_settings = answer_settings
        self.today = today

    @property
    def timeout(self) -> float:
        return self.settings.timeout

    @property
    def name(self) -> str:
        return self.settings.model or "?"

    async def _complete(self, messages: list[BaseMessage], budget: float | None, purpose: str) -> str:
        budget = self.timeout if budget is None else max(budget, 0.05)
        started = time.monotonic()
        try:
            # asyncio.timeout, not wait_for: no extra task per call, and SimCord (the bot tests) can follow
            # the provider's retry sleep inside it, which it cannot inside wait_for's inner task.
            async with asyncio.timeout(budget):
                message = await self.chat_model.ainvoke(messages)
        except Exception as error:  # noqa: BLE001 - whatever the provider raises, the caller falls back
            kind = LLMTimeoutError if _is_timeout(error) else LLMError
            log.warning("LLM %s call failed after %.1fs: %s", purpose, time.monotonic() - started, type(error).__name__)
            log.debug("LLM %s failure", purpose, exc_info=True)
            raise kind(f"{type(error).__name__}: {_first_line(error)}") from error
        text = message.text if hasattr(message, "text") else str(getattr(message, "content", ""))
        if not isinstance(text, str) or not text.strip():
            raise LLMError(f"empty {purpose} reply")
        log.debug("LLM %s call took %.1fs", purpose, time.monotonic() - started)
        return text.strip()

    async def rewrite(self, question: str, history: Sequence[Turn], *, budget: float | None = None) -> str:
        """The follow-up `question` as a standalone question, using the conversation so far."""
        reply = await self._complete(rewrite_messages(question, history, nonce=new_nonce()), budget, "rewrite")
        line = next((ln for ln in reply.splitlines() if ln.strip()), "")
        for label in ("standalone question:", "question:", "rewritten question:"):
            if line.lower().startswith(label):
                line = line[len(label) :]
        standalone = clean_question(line.strip().strip("\"'“”`"))
        if not standalone or len(standalone) > REWRITE_MAX_CHARS or standalone == REFUSAL:
            raise LLMError("unusable rewrite")
        return standalone

    async def answer(self, question: str, hits: Sequence[Hit], *, budget: float | None = None) -> Answer:
        """An LLM answer with checked, renumbered citations; `unsupported` when nothing cited a source."""
        context = [hit.chunk for hit in hits[: self.answer_settings.context_chunks]]
        sources = gather_sources(context)
        messages = answer_messages(
            question,
            sources,
            today=self.today().isoformat(),
            max_words=self.answer_settings.max_words,
            nonce=new_nonce(),
        )
        reply = await self._complete(messages, budget, "answer")
        checked = check_reply(reply, sources, question)
        if checked.invalid_numbers or checked.dropped_sentences or checked.not_found or checked.recited:
            log.info(
                "LLM reply: removed citations %s, dropped %d uncited sentence(s), %d of %d cited sentence(s) not "
                "found in the sources, %d re-cited",
                checked.invalid_numbers, checked.dropped_sentences, checked.not_found, checked.cited_sentences,
                checked.recited,
            )
        note = ""
        if checked.unsupported_reply:
            note = NOTE_NOT_HELD
        elif checked.not_found:
            k = checked.not_found
            note = f"{k} statement{'s' if k > 1 else ''} not found in the sources {'was' if k == 1 else 'were'} left out."
        return Answer(
            text=checked.text,
            citations=checked.citations,
            mode="llm",
            refused=checked.refused,
            note=note,
            as_of=newest_date(checked.citations),
            unsupported=(checked.unsupported or checked.unsupported_reply) and not checked.refused,
            chunks=[chunk.chunk_id for chunk in context],
            support={"cited": checked.cited_sentences, "recited": checked.recited, "dropped": checked.not_found},
        )


def build_answerer(settings: LLMSettings, answer_settings: AnswerSettings) -> LLMAnswerer | None:
    """None when LLM_MODEL is unset (extractive answers); LLMConfigError when it cannot be built."""
    if not settings.model:
        return None
    return LLMAnswerer(build_chat_model(settings), settings, answer_settings)
