"""Answering, tied together: clean the question, resolve a follow-up, retrieve, compose, check, fall back.

    service = build_answer_service(settings, retrieval)
    answer = await service.answer("What did Nvidia announce?", history=[Turn(...)])   # the bot
    answer = service.answer_sync("What did Nvidia announce?")                         # the CLI, eval

Extractive mode (no LLM_MODEL): retrieval gets the question and the history (it borrows terms for
follow-ups) and the extractive composer answers. Both block, so they run in a thread.

LLM mode: a follow-up is first rewritten into a standalone question (one short call); retrieval gets
that and no history. The model answers from the retrieved sources and `answer.citations` checks the
reply. The policy for what the model gets wrong:
- timeout, HTTP error, refused connection, malformed or empty reply -> the extractive answer from the
  same sources, with a note saying so (mode "extractive");
- a reply in which no sentence cites a valid source -> the same, with `unsupported=True` kept on the
  Answer so evaluation can count such replies; uncited sentences of a partly cited reply are dropped.
Both LLM calls share one budget of LLM_TIMEOUT seconds (the rewrite gets at most a third), so an
answer takes at most LLM_TIMEOUT plus retrieval and the extractive composer.

An empty question (after cleaning) gets a refused Answer asking for one, not an exception: every
caller renders Answers, so this needs no special case at the edges.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from answer.citations import STOPWORDS
from answer.llm import LLMAnswerer, LLMError, LLMTimeoutError, build_answerer
from answer.prompts import HISTORY_ANSWER_CHARS, HISTORY_TURNS, clean_question, clean_text
from answer.types import Answer, Mode, Turn
from newsdesk.settings import AnswerSettings, Settings
from vectorstore.records import Scope

if TYPE_CHECKING:
    from answer.retrieve import Retrieval
    from vectorstore.search import Hit

    Composer = Callable[[str, list[Hit], AnswerSettings], Answer]

log = logging.getLogger(__name__)

NOTE_TIMEOUT = "The language model did not answer in time; this is an extractive answer from the sources."
NOTE_ERROR = "The language model could not be reached; this is an extractive answer from the sources."
NOTE_UNSUPPORTED = (
    "The language model's answer cited none of the sources; this is an extractive answer from the sources."
)
ASK_FOR_QUESTION = "Ask me a question about the AI industry, for example: What did Nvidia announce this week?"
REWRITE_SHARE = 1 / 3  # of LLM_TIMEOUT, at most, for rewriting a follow-up
REWRITE_MIN = 2.0  # seconds, when the timeout allows


def borrow_terms(question: str, history: Sequence[Turn]) -> str:
    """The follow-up with the content words of the last question it lacks: "and OpenAI?" after
    "What did Anthropic say about pricing?" -> "and OpenAI? Anthropic pricing"."""
    if not history:
        return question
    have = {w.lower() for w in re.findall(r"\w+", question)}
    words = re.findall(r"[\w'.-]+", history[-1].question)
    extra = [w for w in words if w.lower() not in have and w.lower() not in STOPWORDS and len(w) > 2]
    return clean_question(f"{question} {' '.join(dict.fromkeys(extra))}") if extra else question


def clean_history(history: Sequence[Turn]) -> list[Turn]:
    turns = []
    for turn in list(history)[-HISTORY_TURNS:]:
        question = clean_question(turn.question)
        if question:
            turns.append(Turn(question, clean_text(turn.answer or "", limit=HISTORY_ANSWER_CHARS)))
    return turns


def _default_composer(retrieval: Retrieval) -> Composer:
    from answer.extractive import compose

    def composer(question: str, hits: list[Hit], settings: AnswerSettings) -> Answer:
        return compose(question, hits, settings, boilerplate=retrieval.boilerplate)

    return composer


class AnswerService:
    """Question (and conversation) -> Answer, in whichever mode the settings chose."""

    def __init__(
        self,
        retrieval: Retrieval,
        answer_settings: AnswerSettings,
        llm: LLMAnswerer | None = None,
        *,
        composer: Composer | None = None,
    ):
        self.retrieval = retrieval
        self.answer_settings = answer_settings
        self.llm = llm
        self._composer = composer
        self._custom_composer = composer is not None
        self._runner: asyncio.Runner | None = None
        self._runner_lock = threading.Lock()

    @property
    def _compose(self) -> Composer:
        if self._composer is None:  # resolved on first use, so building the service imports no composer
            self._composer = _default_composer(self.retrieval)
        return self._composer

    @property
    def mode(self) -> Mode:
        return "llm" if self.llm is not None else "extractive"

    def scoped(self, libraries: Collection[str] | None, scope: Scope | None = None) -> AnswerService:
        """The same service answering only from `libraries` (None: every library), within a channel's
        `scope` when given; it shares the model, the event loop and the index with this one."""
        view = copy.copy(self)
        view.retrieval = self.retrieval.scoped(libraries, scope)
        if not self._custom_composer:
            view._composer = None  # the default composer reads boilerplate from the scoped retrieval
        return view

    async def answer(self, question: str, history: Sequence[Turn] = (),
                     libraries: Collection[str] | None = None, scope: Scope | None = None) -> Answer:
        """The answer from every library, or from `libraries` (a server's and the shared one), within a
        channel's `scope`."""
        if libraries is not None or scope:
            return await self.scoped(libraries, scope).answer(question, history)
        question = clean_question(question)
        if not question:
            return Answer(text=ASK_FOR_QUESTION, citations=[], mode=self.mode, refused=True)
        turns = clean_history(history)
        if self.llm is None:
            return await asyncio.to_thread(self._extractive, question, turns)
        return await self._answer_with_llm(self.llm, question, turns)

    def answer_sync(self, question: str, history: Sequence[Turn] = (),
                    libraries: Collection[str] | None = None) -> Answer:
        """`answer` for synchronous callers (CLI, evaluation); not from inside a running event loop.
        One event loop serves every call: provider SDKs cache async HTTP clients bound to a loop."""
        with self._runner_lock:
            if self._runner is None:
                self._runner = asyncio.Runner()
            return self._runner.run(self.answer(question, history, libraries))

    def close(self) -> None:
        with self._runner_lock:
            if self._runner is not None:
                self._runner.close()
                self._runner = None

    # -- the two modes
    def _extractive(self, question: str, history: Sequence[Turn]) -> Answer:
        hits = self.retrieval.retrieve(question, history)
        # The composer picks and weighs sentences by the question's terms: a follow-up ("and how fast?")
        # needs the earlier question's terms there too, as retrieval already has them.
        return self._compose(borrow_terms(question, history), hits, self.answer_settings)

    async def _answer_with_llm(self, llm: LLMAnswerer, question: str, turns: list[Turn]) -> Answer:
        spent = 0.0
        standalone = question
        if turns:
            started = time.monotonic()
            budget = min(llm.timeout, max(REWRITE_MIN, llm.timeout * REWRITE_SHARE))
            try:
                standalone = await llm.rewrite(question, turns, budget=budget)
            except LLMError as error:
                standalone = borrow_terms(question, turns)
                log.info("follow-up rewrite failed (%s); searching with borrowed terms", type(error).__name__)
            spent = time.monotonic() - started
        hits = await asyncio.to_thread(self.retrieval.retrieve, standalone, ())
        return await self._llm_from_hits(llm, standalone, hits, llm.timeout - spent)

    def answer_hits_sync(self, question: str, hits: list[Hit]) -> Answer:
        """The answer to `question` from `hits` already retrieved, in this service's mode, fallbacks
        included (for `newsdesk eval`, which retrieves itself); not from inside a running event loop."""
        if self.llm is None:
            return self._compose(question, hits, self.answer_settings)
        llm = self.llm
        with self._runner_lock:
            if self._runner is None:
                self._runner = asyncio.Runner()
            return self._runner.run(self._llm_from_hits(llm, question, hits, llm.timeout))

    async def _llm_from_hits(self, llm: LLMAnswerer, standalone: str, hits: list[Hit], budget: float) -> Answer:
        if not hits:  # nothing to cite: the composer's refusal, no model call
            return await asyncio.to_thread(self._compose, standalone, hits, self.answer_settings)
        try:
            answer = await llm.answer(standalone, hits, budget=budget)
        except LLMTimeoutError:
            return await self._fallback(standalone, hits, NOTE_TIMEOUT)
        except LLMError:
            return await self._fallback(standalone, hits, NOTE_ERROR)
        if answer.unsupported:
            log.info("LLM reply cited no source; answering extractively")
            return await self._fallback(standalone, hits, answer.note or NOTE_UNSUPPORTED, unsupported=True,
                                        support=answer.support)
        return answer

    async def _fallback(self, question: str, hits: list[Hit], note: str, *, unsupported: bool = False,
                        support: dict[str, int] | None = None) -> Answer:
        answer = await asyncio.to_thread(self._compose, question, hits, self.answer_settings)
        note = f"{note} {answer.note}" if answer.note else note
        return dataclasses.replace(answer, mode="extractive", note=note, unsupported=unsupported,
                                   support=support or {})


def build_answer_service(settings: Settings, retrieval: Retrieval) -> AnswerService:
    """The service for these settings: LLM mode when LLM_MODEL is set (LLMConfigError if it cannot be
    built, e.g. a missing provider extra), extractive otherwise."""
    return AnswerService(retrieval, settings.answer, build_answerer(settings.llm, settings.answer))
