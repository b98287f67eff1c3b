"""The unnamed subject of a many-part question.

"Who became known for ChatGPT, backed a teenager's startup, and was accused of misleading a board?" never
says "Sam Altman", yet every article it needs does: the first search finds the articles that match most of
the question, and the name they share is the bridge to the ones that match a claim only in other words
("Altman backs teens' startup" shares just "startup" with its claim). A name that several of the top
articles share and the question does not say is added to the search of each claim and of each outlet the
question names (pseudo-relevance feedback, kept to names so a common topic word does not take over).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vectorstore.search import Hit

from .extractive import WORD
from .extractive import terms as content_terms

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
