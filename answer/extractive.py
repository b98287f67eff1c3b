"""Extractive answers, the default with no LLM: the few retrieved sentences that best answer a question.

`compose(question, hits, settings)` picks whole sentences from the retrieved chunk bodies (never the
header, never a fragment cut at a chunk border), greedily, each one chosen for the question terms it
adds, until about `settings.max_words`. Each sentence is followed by its [n]; citations are numbered
in order of first use and built from stored metadata. When the retrieved text covers too little of
what the question asks about (`evidence < settings.min_score`), it refuses instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from newsdesk.settings import AnswerSettings
from vectorstore.search import Hit

from .types import Answer, Citation

REFUSAL = "My sources don't cover that."
# Words that frame a question rather than name what it is about.
_FRAMING = {
    "article", "articles", "report", "reports", "reported", "reporting", "according", "considering", "information",
    "suggest", "suggests", "mention", "mentioned", "mentions", "discuss", "discussed", "discussing", "detail",
    "detailing", "published", "publish", "source", "sources", "news", "story", "latest", "recent", "recently",
    "say", "said", "says", "tell", "told", "question", "answer", "which", "what", "who", "whom", "whose", "when",
    "where", "why", "how", "does", "did", "do", "is", "was", "were", "are", "between", "both", "also", "while",
    "whereas", "compared", "comparison", "regarding", "concerning", "based", "like", "one", "single", "separate",
}
_STOP = set(STOPWORDS_EN) | _FRAMING
WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Inc|Ltd|Co|Corp|vs|No|U\.S|U\.K|Jan|Feb|Mar|Apr|Jun|Jul|Aug|"
                     r"Sep|Sept|Oct|Nov|Dec|[A-Z])\.$")
_stemmer = Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Stemmed content words, lower-cased, stop and framing words left out."""
    words = [w.lower().strip("'’-") for w in WORD.findall(text)]
    return _stemmer.stemWords([w for w in words if w and w not in _STOP and len(w) > 1])


def question_weights(question: str) -> dict[str, float]:
    """Term -> weight: names (capitalised mid-sentence) and numbers count double."""
    weights: dict[str, float] = {}
    for i, m in enumerate(WORD.finditer(question)):
        word = m.group(0)
        stems = terms(word)
        if not stems:
            continue
        named = (i > 0 and word[0].isupper()) or word[0].isdigit()
        weights[stems[0]] = max(weights.get(stems[0], 0.0), 2.0 if named else 1.0)
    return weights


def split_sentences(text: str) -> list[str]:
    parts: list[str] = []
    pending = ""
    for piece in _SENTENCE_END.split(text):
        pending = f"{pending} {piece}".strip() if pending else piece.strip()
        if not _ABBREV.search(pending):
            parts.append(pending)
            pending = ""
    if pending:
        parts.append(pending)
    return parts


def chunk_sentences(hit: Hit) -> list[str]:
    """Whole, readable sentences of a chunk: the fragments cut at its borders are dropped."""
    sentences = split_sentences(hit.chunk.text)
    if sentences and hit.chunk.char_start > 0 and not re.match(r"[\"'“‘(\[]?[A-Z0-9]", sentences[0]):
        sentences = sentences[1:]  # the chunker starts at sentences, except inside an overlong one
    if sentences and not re.search(r"[.!?][\"'”’)\]]*$", sentences[-1]):
        sentences = sentences[:-1]
    return [s for s in sentences if 5 <= len(s.split()) <= 70 and not s.isupper()]


@dataclass
class _Candidate:
    text: str
    hit_index: int
    stems: set[str]
    words: int


def evidence(weights: dict[str, float], hits: Sequence[Hit], depth: int = 4) -> float:
    """Share of the question's term weight found in the best few chunks (header included)."""
    total = sum(weights.values())
    if not total or not hits:
        return 0.0
    found: set[str] = set()
    for hit in hits[:depth]:
        found.update(terms(hit.chunk.embed_text))
    return sum(w for t, w in weights.items() if t in found) / total


def select(question: str, hits: Sequence[Hit], max_words: int, depth: int) -> list[_Candidate]:
    weights = question_weights(question)
    seen: set[str] = set()
    pool: list[_Candidate] = []
    for i, hit in enumerate(hits[:depth]):
        for sentence in chunk_sentences(hit):
            key = re.sub(r"\W+", "", sentence.lower())
            if key in seen:
                continue  # overlapping chunks repeat sentences
            seen.add(key)
            pool.append(_Candidate(sentence, i, set(terms(sentence)), len(sentence.split())))
    chosen: list[_Candidate] = []
    covered: set[str] = set()
    words = 0

    def gain(c: _Candidate) -> float:  # the question weight a sentence adds, for its length and rank
        new = sum(weights.get(t, 0.0) for t in c.stems - covered)
        return new / math.sqrt(max(c.words, 8)) / (1 + 0.15 * c.hit_index)

    while pool:
        best = max(pool, key=gain)
        if gain(best) <= 0 or (chosen and words + best.words > max_words):
            pool.remove(best)
            if gain(best) <= 0:
                break
            continue
        chosen.append(best)
        covered |= best.stems
        words += best.words
        pool.remove(best)
        if len(chosen) >= 4:
            break
    return chosen


def compose(question: str, hits: Sequence[Hit], settings: AnswerSettings) -> Answer:
    ids = [h.chunk.chunk_id for h in hits]
    weights = question_weights(question)
    if evidence(weights, hits) < settings.min_score:
        return Answer(REFUSAL, [], "extractive", True, chunks=ids)
    chosen = select(question, hits, settings.max_words, settings.context_chunks)
    if not chosen:
        return Answer(REFUSAL, [], "extractive", True, chunks=ids)
    numbers: dict[str, int] = {}
    quotes: dict[str, list[str]] = {}
    parts: list[str] = []
    for cand in chosen:
        chunk = hits[cand.hit_index].chunk
        n = numbers.setdefault(chunk.doc_id, len(numbers) + 1)
        quotes.setdefault(chunk.doc_id, []).append(cand.text)
        parts.append(f"{cand.text} [{n}]")
    citations: list[Citation] = []
    by_doc = {h.chunk.doc_id: h.chunk for h in reversed(hits)}
    for doc_id, n in numbers.items():
        c = by_doc[doc_id]
        citations.append(Citation(n, c.url, c.title, c.site, c.published[:10], " ".join(quotes[doc_id])))
    as_of = max((c.published for c in citations if c.published), default="")
    return Answer(" ".join(parts), citations, "extractive", False, as_of=as_of, chunks=ids)
