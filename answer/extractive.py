"""Extractive answers, the default with no LLM: the answer the sources name, then the sentences that show it.

`compose(question, hits, settings, boilerplate=...)`:
1. Refuses when the retrieved text covers too little of what the question asks about
   (`evidence < settings.min_score` over the best few chunks; over the whole context when the sources
   agree on a led answer, as a question of many parts spreads its words over several articles).
2. Leads with the answer when the question asks for a name, a figure or a date and the sources clearly
   give one (`answer.lead`): "**Sam Bankman-Fried** [1][2]" on the first line.
3. Quotes whole sentences of the retrieved chunk bodies (never the header, never a fragment cut at a chunk
   border), greedily, each chosen for the question terms it adds (and for naming the led answer), until
   about `settings.max_words`. A sentence must bear on the question: hold a good share of its terms, or
   the led answer. Boilerplate is never quoted: sentences that recur word for word across articles
   (`boilerplate`, from the lexical index), questions put to readers, fragments. A sentence starting with
   "He", "It", "The company" is quoted with the sentence before it, or not at all.
4. A question that asks whether two outlets agree gets one line per outlet, each with what that outlet
   says about the point, cited; no verdict (Yes or No is for a model to say).
Citations are numbered in order of first use and built from stored metadata.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime

from newsdesk.settings import AnswerSettings
from vectorstore.search import Hit

from .dates import strip_dates
from .lead import Lead, ask_of, find_lead
from .types import Answer, Citation
from .words import chunk_sentences, question_weights, quotable, terms

REFUSAL = "My sources don't cover that."
Boilerplate = Callable[[Iterable[str]], set[str]]  # sentences -> those that are boilerplate
BEAR_SHARE = 0.25  # of the question's term weight a quoted sentence must hold (unless it names the lead) ...
BEAR_MIN = 3.0  # ... or this much of it: two names, or three plain terms, for a long question
LEAD_GAIN = 1.5  # what naming the led answer adds to a sentence's worth, in question-term weight
MAX_SENTENCES = 4
_TIMESTAMP = re.compile(r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?")
_DANGLING = re.compile(r"^(?:he|she|it|they|his|her|its|their|this|these|those|that|such|the (?:company|firm|"
                       r"group|startup|platform|team|club|organi[sz]ation|agency|move|deal|report|move))\b",
                       re.IGNORECASE)


@dataclass
class _Candidate:
    text: str
    hit_index: int
    stems: set[str]
    words: int
    names_lead: bool = False


def undated(question: str) -> str:
    """The question without its dates: "published on October 4, 2023" or "2023-10-04T22:42:00+00:00" say
    when, not what, and their numbers must not make "Oct. 22 6:00 a.m." bear on it."""
    return strip_dates(_TIMESTAMP.sub(" ", question))


def evidence(weights: dict[str, float], hits: Sequence[Hit], depth: int = 4) -> float:
    """Share of the question's term weight found in the best few chunks (header included)."""
    total = sum(weights.values())
    if not total or not hits:
        return 0.0
    found: set[str] = set()
    for hit in hits[:depth]:
        found.update(terms(hit.chunk.embed_text))
    return sum(w for t, w in weights.items() if t in found) / total


def candidates(hits: Sequence[Hit], depth: int, junk: Set[str] = frozenset()) -> list[_Candidate]:
    """Every quotable sentence of the first `depth` chunks, once; a dangling one joined to the one before;
    none of `junk` (boilerplate)."""
    per_hit = [chunk_sentences(hit) for hit in hits[:depth]]
    seen: set[str] = set()
    pool: list[_Candidate] = []
    for i, sentences in enumerate(per_hit):
        for j, sentence in enumerate(sentences):
            if sentence in junk or not quotable(sentence):
                continue
            if _DANGLING.match(sentence):
                before = sentences[j - 1] if j else ""
                if not before or before in junk or not quotable(before) or _DANGLING.match(before):
                    continue
                sentence = f"{before} {sentence}"
            key = re.sub(r"\W+", "", sentence.lower())
            if key in seen:
                continue  # overlapping chunks repeat sentences
            seen.add(key)
            pool.append(_Candidate(sentence, i, set(terms(sentence)), len(sentence.split())))
    return pool


def _names(text: str, lead: Lead | None) -> bool:
    if lead is None:
        return False
    lower = text.lower()
    return any(part.lower() in lower or part.split()[-1].lower() in lower for part, _ in lead.parts if part.split())


def select(weights: dict[str, float], pool: list[_Candidate], max_words: int, lead: Lead | None = None,
           limit: int = MAX_SENTENCES) -> list[_Candidate]:
    """Greedy: the sentence adding most question weight for its length and rank, while it bears on the question."""
    total = sum(weights.values()) or 1.0
    pool = [c for c in pool if _bears(c, weights, total, lead)]
    chosen: list[_Candidate] = []
    covered: set[str] = set()
    words = 0
    named = False

    def gain(c: _Candidate) -> float:  # the question weight a sentence adds, for its length and rank
        new = sum(weights.get(t, 0.0) for t in c.stems - covered)
        if c.names_lead and not named:
            new += LEAD_GAIN
        return new / math.sqrt(max(c.words, 8)) / (1 + 0.15 * c.hit_index)

    while pool and len(chosen) < limit:
        best = max(pool, key=gain)
        pool.remove(best)
        if gain(best) <= 0:
            break
        if chosen and words + best.words > max_words:
            continue
        chosen.append(best)
        covered |= best.stems
        words += best.words
        named = named or best.names_lead
    return chosen


def _bears(c: _Candidate, weights: dict[str, float], total: float, lead: Lead | None) -> bool:
    c.names_lead = _names(c.text, lead)
    held = sum(w for t, w in weights.items() if t in c.stems)
    return c.names_lead or held >= min(BEAR_SHARE * total, BEAR_MIN)


def compose(question: str, hits: Sequence[Hit], settings: AnswerSettings, *,
            boilerplate: Boilerplate | None = None) -> Answer:
    ids = [h.chunk.chunk_id for h in hits]
    weights = question_weights(undated(question))
    context = list(hits[: settings.context_chunks])
    junk = boilerplate({s for hit in context for s in chunk_sentences(hit)}) if boilerplate else set()
    lead = find_lead(question, context, weights, sites=sorted({h.chunk.site for h in context}), skip=junk)
    if evidence(weights, hits) < settings.min_score and not (
            lead is not None and evidence(weights, context, depth=len(context)) >= settings.min_score):
        # A question of many parts spreads its words over several articles: it is answered when the
        # whole context covers it and the sources agree on one answer.
        return Answer(REFUSAL, [], "extractive", True, chunks=ids)
    pool = candidates(context, len(context), junk)
    book = _Book(context)
    outlets = _compared_outlets(question, context)
    if outlets:
        lines = _side_by_side(question, outlets, pool, context, book)
        if lines:
            return book.answer("\n".join(lines), ids)
    chosen = select(_topic(weights, context), pool, settings.max_words, lead)
    if not chosen and lead is None:
        return Answer(REFUSAL, [], "extractive", True, chunks=ids)
    parts = []  # the lead is numbered first, so its line reads [1][2]
    for text, doc_ids in lead.parts if lead else []:
        marks = "".join(f"[{book.cite(d, _quote_for(d, text, pool, context))}]" for d in doc_ids)
        parts.append(f"**{text}** {marks}")
    quoted = " ".join(f"{c.text} [{book.cite(context[c.hit_index].chunk.doc_id, c.text)}]" for c in chosen)
    if lead is None:
        return book.answer(quoted, ids)
    return book.answer("; ".join(parts) + ("\n" + quoted if quoted else ""), ids, lead=lead.text)


def _topic(weights: dict[str, float], context: Sequence[Hit]) -> dict[str, float]:
    """The question's terms less the outlets' names: "TechCrunch" says where, not what, so a sentence
    that shares only an outlet's name and a word with the question does not bear on it."""
    outlets = {t for h in context for t in terms(h.chunk.site)}
    topic = {t: w for t, w in weights.items() if t not in outlets}
    return topic or weights


def _quote_for(doc_id: str, text: str, pool: list[_Candidate], context: Sequence[Hit]) -> str:
    """The sentence of this source that says the led answer (for the citation's quote)."""
    said = re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", re.IGNORECASE)
    for c in pool:
        if context[c.hit_index].chunk.doc_id == doc_id and said.search(c.text):
            return c.text
    for hit in context:
        if hit.chunk.doc_id == doc_id:
            for sentence in chunk_sentences(hit):
                if said.search(sentence):
                    return sentence
    return ""


class _Book:
    """Citations in order of first use, each with the passages the answer took from its source."""

    def __init__(self, context: Sequence[Hit]):
        self._chunks = {h.chunk.doc_id: h.chunk for h in reversed(context)}
        self._numbers: dict[str, int] = {}
        self._quotes: dict[str, list[str]] = {}

    def cite(self, doc_id: str, quote: str = "") -> int:
        n = self._numbers.setdefault(doc_id, len(self._numbers) + 1)
        quotes = self._quotes.setdefault(doc_id, [])
        if quote and quote not in quotes:
            quotes.append(quote)
        return n

    def answer(self, text: str, ids: list[str], lead: str = "") -> Answer:
        citations = []
        for doc_id, n in self._numbers.items():
            c = self._chunks[doc_id]
            citations.append(Citation(n, c.url, c.title, c.site, c.published[:10], " ".join(self._quotes[doc_id])))
        as_of = max((c.published for c in citations if c.published), default="")
        return Answer(text, citations, "extractive", False, as_of=as_of, chunks=ids, lead=lead)


# ---- comparisons ---------------------------------------------------------------------------------

def _compared_outlets(question: str, context: Sequence[Hit]) -> list[tuple[str, str]]:
    """(outlet, what the question says there) for a verdict question naming two or more retrieved outlets."""
    if ask_of(question) != "verdict":
        return []
    from .query import mentions

    sites = sorted({h.chunk.site for h in context if h.chunk.site})
    found: dict[str, str] = {}
    for mention in mentions(question, sites, datetime.now(UTC)):
        for site in mention.sites:
            found.setdefault(site, mention.clause)
    return list(found.items()) if len(found) >= 2 else []


def _side_by_side(question: str, outlets: list[tuple[str, str]], pool: list[_Candidate], context: Sequence[Hit],
                  book: _Book) -> list[str]:
    """One line per outlet: its sentence that best matches what the question says of it (and the question)."""
    whole = question_weights(question)
    lines: list[str] = []
    for site, clause in outlets:
        weights = dict(whole)
        for term, weight in question_weights(clause).items():
            weights[term] = weights.get(term, 0.0) + weight
        own = [c for c in pool if context[c.hit_index].chunk.site == site]
        best = select(weights, own, max_words=70, limit=1)
        if best:
            c = best[0]
            lines.append(f"**{site}**: {c.text} [{book.cite(context[c.hit_index].chunk.doc_id, c.text)}]")
    return lines if len(lines) >= 2 else []
