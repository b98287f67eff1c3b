"""The unnamed subject of a many-part question.

"Who became known for ChatGPT, backed a teenager's startup, and was accused of misleading a board?" never
says "Sam Altman", yet every article it needs does: the first search finds the articles that match most of
the question, and the name they share is the bridge to the ones that match a claim only in other words
("Altman backs teens' startup" shares just "startup" with its claim). A name that several of the top
articles share and the question does not say is added to the search of each claim and of each outlet the
question names (pseudo-relevance feedback, kept to names so a common topic word does not take over).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence

from vectorstore.search import Hit

from .words import STOP as _STOP_WORDS
from .words import WORD
from .words import terms as content_terms

SUBJECT_NAMES = 3  # at most this many shared names
SUBJECT_MIN_ARTICLES = 3  # a name counts when this many distinct articles among the top hits say it

Idfs = Callable[[Sequence[str]], list[dict[int, float]]]


def shared_names(question: str, hits: Sequence[Hit], idfs: Idfs, *, limit: int = SUBJECT_NAMES,
                 min_articles: int = SUBJECT_MIN_ARTICLES) -> list[str]:
    """Capitalised words that at least `min_articles` of the hits' articles use and `question` does not,
    the most telling first (articles saying it x its idf over the store)."""
    said = set(content_terms(question))
    articles: dict[str, set[str]] = {}
    surface: dict[str, str] = {}
    for hit in hits:
        for word in WORD.findall(hit.chunk.text):
            stems = content_terms(word) if word[0].isupper() else []
            if not stems or stems[0] in said:
                continue
            articles.setdefault(stems[0], set()).add(hit.chunk.doc_id)
            surface.setdefault(stems[0], word)
    shared = sorted(stem for stem, docs in articles.items() if len(docs) >= min_articles)
    if not shared:
        return []
    weights = idfs([surface[stem] for stem in shared])
    scored = sorted(((len(articles[stem]) * max(w.values(), default=0.0), stem) for stem, w in
                     zip(shared, weights, strict=True)), reverse=True)
    return [surface[stem] for score, stem in scored[:limit] if score > 0]


# ---- names of several words, for the led answer ---------------------------------------------------

_CONNECTORS = {"of", "de", "del", "da", "van", "von", "der", "&"}  # inside a name: "Bank of England"
_NAME_WORD = re.compile(r"[A-Za-z0-9][\w'’&.-]*[\w]|[A-Za-z0-9&]")
_POSSESSIVE = re.compile(r"['’]s?$")
_CALENDAR = {m.lower() for m in (*calendar.month_name, *calendar.day_name) if m} | {"sept"}
_LEADING = {"the", "a", "an"}
_PRONOUNS = {"he", "she", "it", "they", "we", "i", "you", "his", "her", "its", "their", "our", "my", "your", "this",
             "that", "these", "those", "there", "here", "then", "now", "yet", "still", "meanwhile", "however"}


def _capitalised(word: str) -> bool:
    return word[0].isupper() or (word[0].islower() and any(ch.isupper() for ch in word[1:]))  # iPhone, eBay


def name_spans(sentence: str, known: Callable[[str], bool] | None = None) -> list[str]:
    """The names in a sentence: runs of capitalised words joined only by spaces (and "of", "de", ...),
    possessives cut ("Google's" -> "Google"), a leading "The" dropped, a model number kept after a name
    ("Diablo 4"). A run parts where its words change shape, so a title or an initialism beside a name is
    not part of it ("Google CEO Sundar Pichai" -> "Google", "CEO", "Sundar Pichai"). A sentence's first
    word counts only when `known(word)` says it is capitalised elsewhere too (not "Another", "Singer")."""
    spans: list[str] = []
    run: list[str] = []
    last_end = 0

    def close() -> None:
        for part in _by_shape(run):
            while part and part[-1].lower() in _CONNECTORS:
                part.pop()
            while part and (part[0].lower() in _LEADING or part[0].lower() in _STOP_WORDS
                            or part[0].lower() in _PRONOUNS):
                part.pop(0)  # "When Google" -> "Google"
            if part and not all(w.lower() in _CALENDAR or w.isdigit() for w in part):
                spans.append(" ".join(part))
        run.clear()

    for i, m in enumerate(_NAME_WORD.finditer(sentence)):
        word, gap = m.group(0), sentence[last_end:m.start()]
        last_end = m.end()
        if run and (gap.strip() or "\n" in gap):  # a comma, a quote, a dash or a line break ends a name
            close()
        possessive = bool(_POSSESSIVE.search(word)) and len(word) > 2
        word = _POSSESSIVE.sub("", word) if possessive else word
        if not word:
            close()
            continue
        lower = word.lower()
        if (i == 0 or "\n" in gap) and (lower in _STOP_WORDS or lower in _PRONOUNS or (known is not None and not known(word))):
            continue
        if _capitalised(word) and lower not in _CALENDAR and not re.search(r"[-'’][a-z]+$", word):  # not "UK-listed"
            run.append(word)
        elif run and lower in _CONNECTORS and len(run) == 1:  # "Bank of England", not "Messi of Inter Miami"
            run.append(word)
        elif run and word.isdigit() and len(word) <= 2 and _model_number(sentence[m.end():]):
            run.append(word)
        else:
            close()
        if possessive:
            close()
    close()
    return spans


def _model_number(after: str) -> bool:
    """A number right after a name is part of it when nothing lower-case follows ("Diablo 4", "iPhone 15
    Pro"), not a count or a share ("Spears 30 per cent", "Chiefs 21 points")."""
    follows = re.match(r"\s*(\S)", after)
    return follows is None or not (follows.group(1).islower() or follows.group(1) in "%-")


def _shape(word: str) -> str:
    if word.isdigit() or word.lower() in _CONNECTORS:
        return ""  # takes the shape of what it joins
    return "caps" if word.isupper() and len(word) > 1 else "word"


def _by_shape(run: list[str]) -> list[list[str]]:
    """A run split where all-capital words meet ordinary ones, and at a "The" inside it."""
    parts: list[list[str]] = []
    current: list[str] = []
    shape = ""
    for word in run:
        this = _shape(word)
        if current and ((this and shape and this != shape) or word in ("The", "A", "An")):
            parts.append(current)
            current, shape = [], ""
        current.append(word)
        shape = this or shape
    if current:
        parts.append(current)
    return parts
