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
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from vectorstore.search import Hit

from .dates import date_marks
from .subject import name_spans
from .words import WORD, chunk_sentences, claims_of, question_weights, terms

Ask = Literal["person", "thing", "name", "figure", "date", "verdict", "other"]

_VERDICT_START = {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could", "will",
                  "would", "should", "shall", "may", "might", "must"}
_WH = {"who", "whom", "whose", "which", "what", "when", "where", "how", "name"}
_PERSON_NOUNS = {
    "individual", "person", "people", "player", "athlete", "man", "woman", "executive", "ceo", "founder",
    "cofounder", "co-founder", "entrepreneur", "billionaire", "quarterback", "receiver", "coach", "manager",
    "singer", "artist", "star", "actor", "actress", "leader", "politician", "president", "celebrity", "figure",
    "footballer", "cricketer", "boxer", "fighter", "striker", "forward", "midfielder", "defender", "pitcher",
    "batter", "golfer", "driver", "rapper", "musician", "author", "journalist", "investor", "chief", "head",
    "official", "judge", "lawyer", "senator", "minister", "candidate", "couple", "duo", "runner", "tennis",
}
_THING_NOUNS = {
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
_RELATIVE = re.compile(r"[a-z]+ed|is|was|were|are|has|had|says|said|reported|described|detailed|discussed")
_FIGURE = re.compile(
    r"(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:trillion|billion|million|thousand|bn|mn|m|k)\b)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:%|percent\b|per cent\b)"
    r"|\b\d[\d,]*(?:\.\d+)?(?:\s?(?:trillion|billion|million|thousand|bn)\b)?)",
    re.IGNORECASE,
)
_SCALE = {"trillion": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3}
_CURRENCIES = {"dollars": "$", "usd": "$", "euros": "€", "eur": "€", "pounds": "£", "gbp": "£", "yen": "¥"}
_WEEKDAY = re.compile(r"\b(?:on|last|this)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
                      re.IGNORECASE)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

NAME_MARGIN = 1.2  # the first name must score this many times the second
NAME_MIN_SCORE = 0.2  # ... and match at least this share of the question's claims
NAME_MIN_ARTICLES = 2  # ... and be used by this many of the sources (1 when only one bears on the question)
BEARING_SHARE = 0.4  # a source bears on the question when one of its sentences holds this share of its terms
DOC_WEIGHT = 0.02  # what each article using a name adds to its claim match
MENTION_WEIGHT = 0.05  # ... and each doubling of its mentions in the sources
SUBJECT_SHARE = 0.8  # a name said after another in its sentence is less what the sentence is about
KIND_WEIGHT = 0.2  # ... and being said beside the kind asked for ("the quarterback Brock Purdy")
TITLE_WEIGHT = 0.4  # ... and its headlines, as a share of the sources
LEAD_CITES = 3  # sources cited on the lead line, at most


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
        return "thing" if any(w in _THING_NOUNS for w in rest[:3]) else "person"
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
            if w in _PERSON_NOUNS:
                return "person"
            if w in _THING_NOUNS:
                return "thing"
        return "name"
    return "other"


def person_like(name: str) -> bool:
    """Two to four words of a person's shape: "Sam Bankman-Fried", not "Alameda Research" or "FTX"."""
    words = name.split()
    if not 2 <= len(words) <= 4:
        return False
    return all(w[0].isupper() and any(ch.islower() for ch in w) and not any(ch.isdigit() for ch in w)
               and w.lower() not in _ORG_WORDS and w.lower() not in _ROLES for w in words)


def find_lead(question: str, hits: Sequence[Hit], weights: dict[str, float], sites: Sequence[str] = (),
              skip: Set[str] = frozenset()) -> Lead | None:
    """The led answer for `question` from `hits` (best first), or None when nothing clearly answers.
    Sentences in `skip` (boilerplate) are never read."""
    ask = ask_of(question)
    hits = [_Read(hit, skip) for hit in hits]
    if ask in ("person", "thing", "name"):
        named = name_candidates(question, hits, weights, ask, sites)
        if ask == "person":  # "who is the founder ...": a person's name or nothing, never "AI" or "FTX"
            named = [n for n in named if person_like(n.display)]
        return _decide(named, _bearing(hits, weights), ask)
    if ask == "figure":
        return _figure_lead(question, hits, weights)
    if ask == "date":
        return _date_lead(hits, weights)
    return None


# ---- sentences and how well they match ------------------------------------------------------------

class _Read:
    """A hit with its readable sentences (boilerplate left out), split once."""

    def __init__(self, hit: Hit, skip: Set[str]):
        self.chunk = hit.chunk
        self.sentences = [s for s in chunk_sentences(hit) if s not in skip]


@dataclass(frozen=True)
class _Sentence:
    text: str
    doc_id: str
    rank: int
    match: float  # share of the question's weight it holds
    published: str


def _sentences(hits: Sequence[_Read], weights: dict[str, float]) -> list[_Sentence]:
    total = sum(weights.values()) or 1.0
    out: list[_Sentence] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        texts = hit.sentences
        if hit.chunk.doc_id not in seen and hit.chunk.title:
            texts = [hit.chunk.title, *texts]  # a headline names its subject
            seen.add(hit.chunk.doc_id)
        for text in texts:
            stems = set(terms(text))
            match = sum(w for t, w in weights.items() if t in stems) / total
            out.append(_Sentence(text, hit.chunk.doc_id, rank, match, hit.chunk.published))
    return out


# ---- names --------------------------------------------------------------------------------------

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


def name_candidates(question: str, hits: Sequence[_Read], weights: dict[str, float], ask: Ask,
                    sites: Sequence[str]) -> list[_Named]:
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
        named.append(_Named(entry.display, value, entry.docs))
    return sorted(named, key=lambda n: n.score, reverse=True)


def kind_words(question: str) -> list[str]:
    """The kind of thing a which / what question asks for ("Which NFL quarterback ..." -> quarterback)."""
    m = re.search(r"\b(?:which|what)\s+([^,;:?]*)", question, re.IGNORECASE)
    if not m:
        return []
    words = m.group(1).split()[:4]
    known = [w for w in words if w.lower() in _PERSON_NOUNS or w.lower() in _THING_NOUNS]
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
class _Named:
    display: str
    score: float
    docs: dict[str, int]  # doc id -> best rank


def _bearing(hits: Sequence[_Read], weights: dict[str, float]) -> int:
    """How many of the sources have a sentence holding a good share of the question's terms."""
    return len({s.doc_id for s in _sentences(hits, weights) if s.match >= BEARING_SHARE})


def _decide(named: list[_Named], bearing: int, ask: Ask) -> Lead | None:
    if not named:
        return None
    top = named[0]
    runner = named[1].score if len(named) > 1 else 0.0
    need = max(1, min(NAME_MIN_ARTICLES, bearing))
    if len(top.docs) < need or top.score < NAME_MARGIN * runner or top.score < NAME_MIN_SCORE:
        return None
    cited = [d for d, _ in sorted(top.docs.items(), key=lambda kv: kv[1])][:LEAD_CITES]
    return Lead([(top.display, cited)], ask)


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


# ---- figures ------------------------------------------------------------------------------------

def _figure_value(text: str) -> tuple[float, str] | None:
    """(value, unit) of a figure as written: "$3.2 billion" -> (3.2e9, "$"), "38%" -> (38, "%")."""
    m = re.match(r"([$€£¥]?)\s?(\d[\d,]*(?:\.\d+)?)\s?(%|percent|per cent|[a-z]+)?", text.strip(), re.IGNORECASE)
    if not m:
        return None
    try:
        value = float(m.group(2).replace(",", ""))
    except ValueError:
        return None
    word = (m.group(3) or "").lower()
    unit = m.group(1) or ("%" if word in ("%", "percent", "per cent") else "")
    rest = text[m.end():].strip().lower().split()
    if not unit and word in _CURRENCIES:
        unit = _CURRENCIES[word]
    elif not unit and rest and rest[0].strip(".,;") in _CURRENCIES:
        unit = _CURRENCIES[rest[0].strip(".,;")]
    return value * _SCALE.get(word, 1.0), unit


def _figure_lead(question: str, hits: Sequence[_Read], weights: dict[str, float]) -> Lead | None:
    asked = question.lower()
    money = "how much" in asked and not re.search(r"\bhow much (?:of|more|less|longer|time)\b", asked)
    many = re.search(r"\bhow many\s+([a-z-]+)", asked)
    noun = terms(many.group(1))[0] if many and terms(many.group(1)) else ""
    said = {m.group(0).strip() for m in _FIGURE.finditer(question)}
    found: list[tuple[float, str, _Sentence, tuple[float, str]]] = []
    for s in _sentences(hits, weights):
        for m in _FIGURE.finditer(s.text):
            figure = m.group(0).strip()
            value = _figure_value(s.text[m.start():m.end() + 12])
            after = re.match(r"\s+(dollars|euros|pounds|yen)\b", s.text[m.end():], re.IGNORECASE)
            figure = f"{figure} {after.group(1)}" if after else figure
            if value is None or figure in said or _is_year(figure, s.text, m.end()):
                continue
            if money and not value[1]:
                continue  # "how much" wants an amount or a share
            if noun and not (set(terms(s.text[m.end():m.end() + 40])[:2]) & {noun}):
                continue  # "how many employees": the number said of employees
            found.append((s.match / (1 + 0.1 * s.rank), figure, s, value))
    if not found:
        return None
    found.sort(key=lambda f: f[0], reverse=True)
    top = found[0][0]
    if top <= 0:
        return None
    close = [f for f in found if f[0] >= 0.8 * top]
    parts: dict[tuple[float, str], tuple[str, list[str]]] = {}
    for _, figure, s, value in close:
        text, doc_ids = parts.setdefault(value, (figure, []))
        if s.doc_id not in doc_ids:
            doc_ids.append(s.doc_id)
    by_doc: dict[str, tuple[float, str]] = {}
    for _, _, s, value in close:
        by_doc.setdefault(s.doc_id, value)  # each source's best figure
    values = list(dict.fromkeys(by_doc.values()))
    if len(values) > 1:
        return Lead([(parts[v][0], [d for d, dv in by_doc.items() if dv == v]) for v in values[:3]], "figure")
    value = found[0][3]
    return Lead([(parts[value][0], parts[value][1][:LEAD_CITES])], "figure")


def _is_year(figure: str, text: str, end: int) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d\d", figure)) or bool(re.match(r"\s*(?:-|to)\s*(?:19|20)\d\d", text[end:]))


# ---- dates --------------------------------------------------------------------------------------

def _date_lead(hits: Sequence[_Read], weights: dict[str, float]) -> Lead | None:
    best: tuple[float, str, _Sentence] | None = None
    for s in _sentences(hits, weights):
        said = _dates_in(s)
        if said and s.match > 0 and (best is None or s.match / (1 + 0.1 * s.rank) > best[0]):
            best = (s.match / (1 + 0.1 * s.rank), said[0], s)
    if best is None:
        return None
    return Lead([(best[1], [best[2].doc_id])], "date")


def _dates_in(s: _Sentence) -> list[str]:
    """Dates said in a sentence, as days: "on Tuesday" in an article of Thursday 5 October 2023 ->
    "Tuesday, 3 October 2023"; "October 4" -> "4 October 2023" (the year of the article)."""
    try:
        published = datetime.fromisoformat(s.published) if s.published else None
    except ValueError:
        published = None
    out: list[str] = []
    for mark in date_marks(s.text, published or datetime.now().astimezone()):
        if mark.relative or mark.since is None:
            continue
        words = s.text[mark.start:mark.end]
        if mark.until is not None and mark.until - mark.since <= timedelta(days=1):
            out.append(_long(mark.since.date()))
        else:
            out.append(words)
    if published is not None:
        for m in _WEEKDAY.finditer(s.text):
            day = _WEEKDAYS.index(m.group(1).lower())
            back = (published.weekday() - day) % 7 or (7 if m.group(0).lower().startswith("last") else 0)
            out.append(f"{m.group(1).capitalize()}, {_long(published.date() - timedelta(days=back))}")
    return out


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
