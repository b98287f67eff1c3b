"""Name candidates for the led answer: which names the sources give for what a who / which X / what X
question asks about, and how well each answers it.

A candidate is a name (`subject.name_spans`) that the question does not say, that several of the top sources
use in sentences matching the question, typed by the question's words (a person for "who" or "which player",
anything but a person for "which company"), shown in the fullest form the sources use ("Bankman-Fried" ->
"Sam Bankman-Fried"). A name's worth: for each claim of the question ("accused of fraud", "backed a
startup"), the best match among the passages naming it (its sentence and the next), averaged over the
claims; plus how prominent it is in the sources (articles using it, mentions, headlines), since the thing
asked about is what the articles are about, while the people around it (witnesses, rivals) share its
sentences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .subject import name_spans
from .words import WORD, Read, claims_of, question_weights, terms

if TYPE_CHECKING:
    from .lead import Ask

PERSON_NOUNS = {
    "individual", "person", "people", "player", "athlete", "man", "woman", "executive", "ceo", "founder",
    "cofounder", "co-founder", "entrepreneur", "billionaire", "quarterback", "receiver", "coach", "manager",
    "singer", "artist", "star", "actor", "actress", "leader", "politician", "president", "celebrity", "figure",
    "footballer", "cricketer", "boxer", "fighter", "striker", "forward", "midfielder", "defender", "pitcher",
    "batter", "golfer", "driver", "rapper", "musician", "author", "journalist", "investor", "chief", "head",
    "official", "judge", "lawyer", "senator", "minister", "candidate", "couple", "duo", "runner", "tennis",
}
THING_NOUNS = {
    "company", "companies", "organization", "organisation", "firm", "institution", "entity", "entities", "team",
    "club", "platform", "country", "nation", "city", "group", "agency", "startup", "business", "brand", "service",
    "product", "app", "game", "device", "exchange", "network", "league", "body", "bank", "regulator", "government",
    "model", "tool", "website", "site", "company's", "corporation", "giant", "maker", "manufacturer", "studio",
    "franchise", "event", "tournament", "sportsbook", "operator", "retailer", "publication", "outlet", "state",
}
_ORG_WORDS = {
    "inc", "corp", "corporation", "company", "co", "group", "research", "capital", "ventures", "labs", "lab",
    "bank", "commission", "council", "reserve", "association", "league", "university", "sportsbook", "club", "fc",
    "united", "city", "department", "ministry", "agency", "foundation", "fund", "partners", "holdings",
    "technologies", "systems", "media", "news", "times", "post", "party", "court", "house", "office",
    "authority", "board", "committee", "institute", "network", "studios", "games", "motors", "airlines",
    "energy", "health", "entertainment", "records", "music", "sports", "federation", "union", "cloud", "ai",
    "store", "app", "pro", "max", "plus", "series", "cup", "awards", "day", "week", "street", "road",
    "tower", "stadium", "arena", "park", "hotel", "tour", "bowl", "award", "trophy", "prize", "act", "law", "bill",
    "robotics", "dynamics", "industries", "software", "semiconductor", "semiconductors", "intelligence", "computing",
    "analytics", "therapeutics", "pharma", "security", "solutions", "data", "digital", "electric", "aerospace",
    "automotive", "mobility", "devices", "platforms", "robots", "chips", "quantum", "space", "api", "deck", "championship", "finals", "odds", "tournament", "state", "states", "world",
}
_ROLES = {  # words of a title before a name, never part of it ("Co-Founder Sam Bankman-Fried" in a headline)
    "co-founder", "cofounder", "founder", "ceo", "cto", "cfo", "president", "chief", "director", "chairman", "chair",
    "judge", "attorney", "general", "senator", "governor", "minister", "prosecutor", "former", "coach", "manager",
    "star", "actor", "singer", "rapper", "quarterback", "boss", "billionaire", "executive", "mr", "mrs", "ms", "dr",
    "prof", "sir", "king", "queen", "prince", "princess", "pope", "secretary", "spokesperson", "head", "new", "ex",
}

DOC_WEIGHT = 0.02  # what each article using a name adds to its claim match
MENTION_WEIGHT = 0.05  # ... and each doubling of its mentions in the sources
SUBJECT_SHARE = 0.8  # a name said after another in its sentence is less what the sentence is about
KIND_WEIGHT = 0.2  # ... and being said beside the kind asked for ("the quarterback Brock Purdy")
TITLE_WEIGHT = 0.4  # ... and its headlines, as a share of the sources


def person_like(name: str) -> bool:
    """Two to four words of a person's shape: "Sam Bankman-Fried", not "Alameda Research" or "FTX"."""
    words = name.split()
    if not 2 <= len(words) <= 4:
        return False
    return all(w[0].isupper() and any(ch.islower() for ch in w) and not any(ch.isdigit() for ch in w)
               and w.lower() not in _ORG_WORDS and w.lower() not in _ROLES for w in words)


@dataclass
class _Seen:
    """What the sources say of one name: its best match per claim, where and how it is written."""

    best: list[float]
    docs: dict[str, int] = field(default_factory=dict)  # doc id -> best rank
    forms: dict[str, int] = field(default_factory=dict)  # surface form -> mentions
    first: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc id -> (chunk ordinal, sentence) first said
    titles: set[str] = field(default_factory=set)  # doc ids whose headline says it
    typed: int = 0  # mentions with the kind asked for beside them ("the quarterback Brock Purdy")

    @property
    def mentions(self) -> int:
        return sum(self.forms.values())

    @property
    def display(self) -> str:
        return max(self.forms.items(), key=lambda kv: (kv[1], len(kv[0])))[0]


def name_candidates(question: str, hits: Sequence[Read], weights: dict[str, float], ask: Ask,
                    sites: Sequence[str]) -> list[Named]:
    """Names the question does not say, best first. A name's worth: for each claim of the question
    ("accused of fraud", "backed a startup"), the best match among the passages naming it (its sentence
    and the next), averaged over the claims; plus how prominent it is in the sources (articles using it,
    mentions, headlines), since the thing asked about is what the articles are about, while the people
    around it (witnesses, rivals) share its sentences."""
    said = set(terms(question))
    outlets = {_key(re.sub(r"^the\s+", "", s, flags=re.IGNORECASE)) for s in [*sites, *(h.chunk.site for h in hits)]}
    claims = [question_weights(c) for c in claims_of(question)] or [weights]
    per_hit = [hit.sentences for hit in hits]
    inner = {w for sentences in per_hit for sentence in sentences for w in _inner_capitals(sentence)}
    lower = {w for sentences in per_hit for sentence in sentences for w in WORD.findall(sentence) if w.islower()}

    def known(word: str) -> bool:  # a sentence's first word is a name when it is one elsewhere ("After" is not)
        return word in inner and word.lower() not in lower
    seen: dict[str, _Seen] = {}
    kinds = set(terms(" ".join(kind_words(question))))
    for rank, (hit, sentences) in enumerate(zip(hits, per_hit, strict=True)):
        doc = hit.chunk.doc_id
        for j, sentence in enumerate(sentences):
            window = set(terms(" ".join(sentences[j:j + 2])))
            match = [_share(claim, window) / (1 + 0.05 * rank) for claim in claims]
            first = True
            typed_here = bool(kinds) and bool(kinds & window)
            for name in name_spans(sentence, known):
                key = _key(name)
                stems = terms(name)
                if not stems or key in outlets or all(t in said for t in stems):
                    continue
                said_of = match if first else [m * SUBJECT_SHARE for m in match]
                first = False
                entry = seen.setdefault(key, _Seen([0.0] * len(claims)))
                entry.best = [max(a, b) for a, b in zip(entry.best, said_of, strict=True)]
                entry.docs.setdefault(doc, rank)
                entry.forms[name] = entry.forms.get(name, 0) + 1
                entry.typed += typed_here and _near(sentence, name, kinds)
                entry.first[doc] = min(entry.first.get(doc, (hit.chunk.ordinal, j)), (hit.chunk.ordinal, j))
    for hit in hits:  # a headline is said first, and often has the full name the body shortens
        doc = hit.chunk.doc_id
        for name in name_spans(hit.chunk.title):
            key = _key(name)
            if key not in seen and len(key.split()) > 1 and any(_contains(key.split(), k.split()) for k in seen):
                seen[key] = _Seen([0.0] * len(claims), forms={name: 0})
            if key in seen:
                seen[key].titles.add(doc)
                seen[key].first[doc] = (-1, 0)
    _merge_short_forms(seen)
    docs = len({h.chunk.doc_id for h in hits}) or 1
    named = []
    for entry in seen.values():
        if not entry.docs:
            continue
        value = (sum(entry.best) / len(entry.best) + DOC_WEIGHT * len(entry.docs)
                 + MENTION_WEIGHT * math.log1p(entry.mentions) + TITLE_WEIGHT * len(entry.titles) / docs
                 + KIND_WEIGHT * min(1.0, entry.typed / 2))
        shaped = person_like(entry.display)
        if (ask == "person" and not shaped) or (ask == "thing" and shaped):
            value *= 0.5
        named.append(Named(entry.display, value, entry.docs))
    return sorted(named, key=lambda n: n.score, reverse=True)


def kind_words(question: str) -> list[str]:
    """The kind of thing a which / what question asks for ("Which NFL quarterback ..." -> quarterback)."""
    m = re.search(r"\b(?:which|what)\s+([^,;:?]*)", question, re.IGNORECASE)
    if not m:
        return []
    words = m.group(1).split()[:4]
    known = [w for w in words if w.lower() in PERSON_NOUNS or w.lower() in THING_NOUNS]
    return known[-1:] or []


def _near(sentence: str, name: str, kinds: set[str], reach: int = 4) -> bool:
    at = sentence.find(name)
    if at < 0:
        return False
    before = terms(" ".join(sentence[:at].split()[-reach:]))
    after = terms(" ".join(sentence[at + len(name):].split()[:reach]))
    return bool(kinds & {*before, *after})


def _inner_capitals(sentence: str) -> list[str]:
    """Capitalised words inside a sentence (not its first): the words that are names wherever they stand."""
    words = [w for line in sentence.splitlines() for w in line.split()[1:]]
    return [re.sub(r"['’]s$|[^\w'’&.-]", "", w) for w in words if w[:1].isupper()]


@dataclass(frozen=True)
class Named:
    """A name candidate: the form shown, its worth, and the sources using it."""

    display: str
    score: float
    docs: dict[str, int]  # doc id -> best rank


def _share(weights: dict[str, float], stems: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in stems) / total if total else 0.0


def _key(name: str) -> str:
    return re.sub(r"\W+", " ", name.lower()).strip()


def _merge_short_forms(seen: dict[str, _Seen]) -> None:
    """A name's short form counts for its full form, and is then no candidate of its own, when the full
    form is a person's whole name ("Bankman-Fried" -> "Sam Bankman-Fried"), or when the sources introduce
    the short form by the full one: in most articles using both, the full form comes first, as news style
    does ("Caesars Sportsbook ... Caesars"; not "Amazon ... Amazon Web Services", where AWS is a part)."""
    for short in sorted(seen, key=lambda k: len(k.split())):
        words = short.split()
        longer = [k for k in seen if len(k.split()) > len(words) and _contains(k.split(), words)]
        if not longer and _initialism(seen[short].display):
            longer = [k for k in seen if _initials(seen[k].display) == seen[short].display]
        if not longer:
            continue
        fits = [k for k in longer if _full_form_of(seen[k], k, seen[short], short)]
        if not fits:
            continue
        b = seen[short]  # "Trump": Donald Trump, introduced first, rather than Ivanka Trump, said more often
        full = max(fits, key=lambda k: (seen[k].mentions > 0, _introduced(seen[k], b), seen[k].mentions,
                                        -len(k.split())))  # a headline's "Co-Founder Sam Bankman-Fried" last
        a = seen[full]
        a.best = [max(x, y) for x, y in zip(a.best, b.best, strict=True)]
        for doc, rank in b.docs.items():
            a.docs[doc] = min(rank, a.docs.get(doc, rank))
        for doc, where in b.first.items():
            a.first[doc] = min(where, a.first.get(doc, where))
        a.titles |= b.titles
        a.forms[a.display] = a.forms.get(a.display, 0) + b.mentions  # counted as mentions of the full form
        del seen[short]


def _full_form_of(a: _Seen, full: str, b: _Seen, short: str) -> bool:
    if full.endswith(" " + short) and person_like(a.display):
        return True  # a surname: "Bankman-Fried" of "Sam Bankman-Fried"
    if _initialism(b.display) and _initials(a.display) == b.display:
        return True  # "SBF", "AWS"
    both = sum(d in b.first for d in a.first)
    return bool(both) and _introduced(a, b) * 2 >= both and len(a.first) * 2 >= len(b.first)


def _initialism(name: str) -> bool:
    return 2 <= len(name) <= 5 and name.isalpha() and name.isupper()


def _initials(name: str) -> str:
    """"Sam Bankman-Fried" -> "SBF", "Amazon Web Services" -> "AWS"."""
    return "".join(part[0] for part in re.split(r"[\s-]+", name) if part[:1].isupper())


def _introduced(a: _Seen, b: _Seen) -> int:
    """Articles where the (longer) name `a` is said before `b`."""
    return sum(where < b.first[d] for d, where in a.first.items() if d in b.first)


def _contains(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return any(words[i:i + n] == part for i in range(len(words) - n + 1))
