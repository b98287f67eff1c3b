"""The led answer: the one name, figure or date a question asks for, found in the retrieved sources.

"Who is the individual accused of misusing customer funds ...?" is answered first by **Sam Bankman-Fried**,
then by the quotes that show it. What can lead:
- a name, for who / which X / what X questions: a name (`subject.name_spans`) that the question does not
  say, that several of the top sources use in sentences matching the question, typed by the question's
  words (a person for "who" or "which player", anything but a person for "which company"), shown in the
  fullest form the sources use ("Bankman-Fried" -> "Sam Bankman-Fried");
- a figure, for how much / how many: the amount, share or count in the sentence that best matches; when
  the best sentences of different sources give different figures, each with its source;
- a date, for when: the date in the best sentence, "on Tuesday" resolved against the article's date.
Nothing leads when the question asks for a verdict (does, is, did ...: the comparison layout answers it),
or when no candidate clearly beats the next one: then the quotes stand alone. Never a list of names.
Names are found and weighed in `names`, figures and dates in `figures`; this module tells what the
question asks for and decides whether anything leads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import Literal

from vectorstore.search import Hit

from .figures import LEAD_CITES, date_lead, figure_lead
from .names import PERSON_NOUNS, THING_NOUNS, Named, name_candidates, person_like
from .words import Read, scored_sentences

Ask = Literal["person", "thing", "name", "figure", "date", "verdict", "other"]

_VERDICT_START = {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could", "will",
                  "would", "should", "shall", "may", "might", "must"}
_WH = {"who", "whom", "whose", "which", "what", "when", "where", "how", "name"}
_RELATIVE = re.compile(r"[a-z]+ed|is|was|were|are|has|had|says|said|reported|described|detailed|discussed")

NAME_MARGIN = 1.2  # the first name must score this many times the second
NAME_MIN_SCORE = 0.2  # ... and match at least this share of the question's claims
NAME_MIN_ARTICLES = 2  # ... and be used by this many of the sources (1 when only one bears on the question)
BEARING_SHARE = 0.4  # a source bears on the question when one of its sentences holds this share of its terms


@dataclass(frozen=True)
class Lead:
    """What the answer's first line says, and which sources (doc ids, best first) say it."""

    parts: list[tuple[str, list[str]]] = field(default_factory=list)  # (text, doc ids); several = disagreement
    kind: Ask = "other"

    @property
    def text(self) -> str:
        return "; ".join(text for text, _ in self.parts)


def ask_of(question: str) -> Ask:
    """What the question asks for, from its first clause that starts with a question word or a verb
    ("Considering the report from X, which company ...?" asks for a thing)."""
    clauses = [c.split() for c in re.split(r"[,;:]", question) if c.split()]
    for i, words in enumerate(clauses):
        first = words[0].lower().strip("'\"“‘")
        if first in _VERDICT_START:
            return "verdict"
        if first in _WH or (first == "and" and len(words) > 1 and words[1].lower() in _WH):
            words = [w.lower().strip(",.?'\"") for w in words[words[0].lower() == "and":]]
            if i and len(words) > 1 and _RELATIVE.fullmatch(words[1]):
                continue  # "After the report by X, which maintained that ..., was there ...?": a relative clause
            return _wh_ask(words)
    return "other"


def _wh_ask(words: list[str]) -> Ask:
    first, rest = words[0], words[1:7]
    if first in ("what", "which") and rest[:1] and rest[0] in ("is", "are", "was", "were"):
        rest = [w for w in rest[1:] if w not in ("the", "a", "an")]  # "what is the type of ..."
    if first == "how":
        return "figure" if rest and rest[0] in ("much", "many") else "other"
    if first == "when":
        return "date"
    if first in ("who", "whom", "whose"):
        return "thing" if any(w in THING_NOUNS for w in rest[:3]) else "person"
    if first == "where":
        return "thing"
    if first in ("which", "what", "name"):
        if rest and rest[0] in ("type", "types", "kind", "kinds", "sort", "term", "group", "category", "class"):
            return "other"  # a kind of thing ("what type of businesses": sportsbooks), not a name
        if any(w in ("date", "day", "year", "month") for w in rest[:2]):
            return "date"
        if rest and rest[0] in ("amount", "percentage", "number", "price", "sum", "value", "cost"):
            return "figure"
        for w in rest:  # the first noun the question word governs
            if w in PERSON_NOUNS:
                return "person"
            if w in THING_NOUNS:
                return "thing"
        return "name"
    return "other"


def find_lead(question: str, hits: Sequence[Hit], weights: dict[str, float], sites: Sequence[str] = (),
              skip: Set[str] = frozenset()) -> Lead | None:
    """The led answer for `question` from `hits` (best first), or None when nothing clearly answers.
    Sentences in `skip` (boilerplate) are never read."""
    ask = ask_of(question)
    hits = [Read(hit, skip) for hit in hits]
    if ask in ("person", "thing", "name"):
        named = name_candidates(question, hits, weights, ask, sites)
        if ask == "person":  # "who is the founder ...": a person's name or nothing, never "AI" or "FTX"
            named = [n for n in named if person_like(n.display)]
        return _decide(named, _bearing(hits, weights), ask)
    if ask == "figure":
        parts = figure_lead(question, hits, weights)
        return None if parts is None else Lead(parts, "figure")
    if ask == "date":
        parts = date_lead(hits, weights)
        return None if parts is None else Lead(parts, "date")
    return None


def _bearing(hits: Sequence[Read], weights: dict[str, float]) -> int:
    """How many of the sources have a sentence holding a good share of the question's terms."""
    return len({s.doc_id for s in scored_sentences(hits, weights) if s.match >= BEARING_SHARE})


def _decide(named: list[Named], bearing: int, ask: Ask) -> Lead | None:
    if not named:
        return None
    top = named[0]
    runner = named[1].score if len(named) > 1 else 0.0
    need = max(1, min(NAME_MIN_ARTICLES, bearing))
    if len(top.docs) < need or top.score < NAME_MARGIN * runner or top.score < NAME_MIN_SCORE:
        return None
    cited = [d for d, _ in sorted(top.docs.items(), key=lambda kv: kv[1])][:LEAD_CITES]
    return Lead([(top.display, cited)], ask)
