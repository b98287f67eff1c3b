"""Does the cited source say it? The facts of a model's sentence, checked against the sources it cites.

A sentence of an LLM reply states facts a reader takes as checked because they carry a `[n]`. This module
finds what can be checked without understanding the sentence, and looks for each in the cited sources'
retrieved text:
- figures (amounts, shares, counts, years): the same value ("$3.2 billion", "3.2bn", "3,200 million"),
  within a quarter when the sentence hedges it ("over $3 billion", "about 40%"); a currency or % must agree;
- names of people, organisations and places (capitalised words not starting the sentence, and runs of
  them): said in the source, a person's surname alone counting for the person;
- quoted phrases of two words or more: said word for word (case and punctuation aside).
A sentence whose facts the cited sources hold together is supported; one that another retrieved source
holds is re-cited to it; one that nothing retrieved holds is not supported (the reply check drops it).
Not checked: what a sentence claims about its facts (who did what to whom, a verdict, a cause), and
number words ("two co-founders"): the README says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .figures import figures_in
from .names import person_like
from .words import terms

_HEDGE = re.compile(r"\b(?:about|around|approximately|roughly|nearly|almost|over|more than|less than|under|"
                    r"some|up to|at least|close to|just over|just under)\s*$", re.IGNORECASE)
_FIGURE_SPAN = re.compile(r"[$€£¥]?\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent|trillion|billion|million|"
                          r"thousand|bn|mn|m|k)\b)?", re.IGNORECASE)
_NAME = re.compile(r"(?<![\w'’])[A-Z][\w'’&.-]*[\w](?:\s+(?:of|de|van|von|del|la|&)?\s*[A-Z][\w'’&.-]*[\w])*")
_QUOTE = re.compile(r"[\"“]([^\"”]{3,200})[\"”]")
_MARK = re.compile(r"\[\d+\]")
_COMMON = {  # capitalised for other reasons than being a name
    "i", "a", "an", "the", "this", "that", "these", "those", "it", "its", "he", "she", "they", "we", "you",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
    "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
    "however", "but", "and", "also", "meanwhile", "still", "yet", "according", "in", "on", "at", "for",
    "ceo", "ai", "us", "uk", "eu", "u.s", "u.k", "u.n", "e.u",
}
TOLERANCE = 0.25  # how far a hedged figure ("over $3 billion") may sit from the source's
PASSAGE_SHARE = 0.3  # of the claim's words the passage holding its figures must share


@dataclass(frozen=True)
class Facts:
    figures: tuple[tuple[float, str, bool], ...]  # (value, unit, hedged)
    names: tuple[str, ...]
    quotes: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.figures or self.names or self.quotes)


def facts_of(sentence: str) -> Facts:
    """What of a sentence can be checked against a source."""
    text = _MARK.sub(" ", sentence)
    figures = []
    for m in _FIGURE_SPAN.finditer(text):
        value = figures_in(text[m.start():m.end() + 12])[:1]
        if value:
            hedged = bool(_HEDGE.search(text[max(0, m.start() - 20):m.start()]))
            figures.append((value[0][0], value[0][1], hedged))
    names = []
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        if m.start() == len(text) - len(text.lstrip()):  # the sentence's first word: capitalised anyway
            words = words[1:]
        words = [w.rstrip("'’s").rstrip("'’") if w.endswith(("'s", "’s")) else w for w in words]
        name = " ".join(w for w in words if w.lower().rstrip(".") not in _COMMON)
        if name and not name.isdigit():
            names.append(name)
    quotes = [q.strip() for q in _QUOTE.findall(text) if len(q.split()) >= 2]
    return Facts(tuple(figures), tuple(dict.fromkeys(names)), tuple(quotes))


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w%$€£¥.]+", " ", text.lower()).split())


def _same(value: float, unit: str, hedged: bool, said: list[tuple[float, str]]) -> bool:
    room = TOLERANCE if hedged else 0.005
    return any((not unit or not u or unit == u) and abs(v - value) <= room * max(abs(value), 1e-9) for v, u in said)


def _passages(text: str) -> list[str]:
    """Two-sentence windows of a source: where a sentence's figures must be found together."""
    sentences = [p for p in re.split(r"(?<=[.!?])\s+", text) if p.strip()]
    return [" ".join(sentences[i:i + 2]) for i in range(len(sentences))] or [text]


def holds(facts: Facts, text: str, claim: str = "") -> bool:
    """Every fact is found in `text` (the cited sources' retrieved text, together): the figures within one
    passage that shares the claim's words (a figure said somewhere else in a long article does not count),
    the names and quotes anywhere."""
    if facts.figures:
        wanted = set(terms(claim))
        found = False
        for passage in _passages(text):
            said = figures_in(passage)
            if not all(_same(v, u, h, said) for v, u, h in facts.figures):
                continue
            if not wanted or len(wanted & set(terms(passage))) >= PASSAGE_SHARE * len(wanted):
                found = True
                break
        if not found:
            return False
    plain = _squash(text)
    for name in facts.names:
        wanted = _squash(name)
        if not re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", plain):
            # "Sam Bankman-Fried" held by "Bankman-Fried" (a person's surname), "Nvidia Corp" by "Nvidia"
            words = wanted.split()
            end = (words[-1] if person_like(name) else words[0]) if len(words) > 1 else ""
            if not (len(end) > 3 and re.search(rf"(?<!\w){re.escape(end)}(?!\w)", plain)):
                return False
    return all(_squash(q) in plain for q in facts.quotes)


def supporting(sentence: str, cited: Sequence[int], texts: dict[int, str]) -> list[int] | None:
    """The source numbers that support `sentence`: the cited ones when together they hold its facts,
    else the first other retrieved source that holds them alone (a re-citation), else None."""
    facts = facts_of(sentence)
    if not facts:
        return list(cited)  # nothing checkable: the citation stands as the model gave it
    if cited and holds(facts, " ".join(texts.get(n, "") for n in cited), sentence):
        return list(cited)
    for n, text in texts.items():
        if n not in cited and holds(facts, text, sentence):
            return [n]
    return None
