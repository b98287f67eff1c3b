"""Words and sentences as the answer engine weighs them: content terms, question weights, quotable sentences,
a hit's readable sentences and how well each matches a question.

Shared by retrieval (claim and sentence matching), the unnamed subject, the led answer and the extractive
composer, so all of them agree on what a question's terms are and on what a whole sentence is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from dataclasses import dataclass

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from vectorstore.search import Hit
from vectorstore.text import split_sentences

# Words that frame a question rather than name what it is about.
_FRAMING = {
    "article", "articles", "report", "reports", "reported", "reporting", "according", "considering", "information",
    "suggest", "suggests", "mention", "mentioned", "mentions", "discuss", "discussed", "discussing", "detail",
    "detailing", "published", "publish", "source", "sources", "news", "story", "latest", "recent", "recently",
    "say", "said", "says", "tell", "told", "question", "answer", "which", "what", "who", "whom", "whose", "when",
    "where", "why", "how", "does", "did", "do", "is", "was", "were", "are", "between", "both", "also", "while",
    "whereas", "compared", "comparison", "regarding", "concerning", "based", "like", "one", "single", "separate",
}
# Function words bm25s's short list lacks; a sentence sharing only these with a question does not bear on it.
_FUNCTION = {"its", "it's", "have", "has", "had", "having", "been", "being", "would", "could", "should", "can", "may",
             "might", "must", "his", "her", "hers", "him", "we", "our", "us", "you", "your", "i", "me", "my",
             "during", "although", "despite", "while", "whether", "about", "more", "most", "than", "very", "just",
             "only", "even", "still", "yet", "any", "all", "some", "each", "every", "other", "another", "own", "same", "so", "too", "via", "per", "get", "got"}
STOP = set(STOPWORDS_EN) | _FRAMING | _FUNCTION
WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
_stemmer = Stemmer.Stemmer("english")
# Claims of a question (measured on the dev queries for retrieval: fact hits@10 0.905 -> 0.922):
CLAUSE_SPLIT = re.compile(r",(?!\s*(?:19|20)\d\d\b)|[;:?]|\b(?:and|while|whereas|but|which|who|that)\b",
                          re.IGNORECASE)  # not the comma in "October 4, 2023"
CLAUSE_MIN_TERMS = 2  # content words a claim needs ("under 30" has, "the article says" not)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_MENTIONS = re.compile(r"^(?:\s*(?:@everyone|@here|<@[!&]?\d+>|<#\d+>))+\s*")
_WHOLE_END = re.compile(r"[.!][\"'”’)\]]*$")


def terms(text: str) -> list[str]:
    """Stemmed content words, lower-cased, stop and framing words left out; "$1,000" and "$1000" alike."""
    words = [w.lower().strip("'’-") for w in WORD.findall(_THOUSANDS.sub("", text))]
    return _stemmer.stemWords([w for w in words if w and w not in STOP and len(w) > 1])


def claims_of(text: str) -> list[str]:
    """The parts of a question that say something of its subject ("accused of fraud", "backed a startup").
    A part's words are counted with the function words ("has been accused"): retrieval was tuned on that
    count, and without them it loses claims it finds articles by (dev all-gold@10 0.765 -> 0.764)."""
    parts = [p.strip() for p in CLAUSE_SPLIT.split(text) if p and p.strip()]
    return [p for p in parts if len(terms(p)) + sum(w.lower() in _FUNCTION for w in WORD.findall(p))
            >= CLAUSE_MIN_TERMS]


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


def chunk_sentences(hit: Hit) -> list[str]:
    """Whole, readable sentences of a chunk: the fragments cut at its borders are dropped."""
    sentences = split_sentences(hit.chunk.text)
    if sentences and hit.chunk.char_start > 0 and not re.match(r"[\"'“‘(\[]?[A-Z0-9]", sentences[0]):
        sentences = sentences[1:]  # the chunker starts at sentences, except inside an overlong one
    if sentences and not re.search(r"[.!?][\"'”’)\]]*$", sentences[-1]):
        sentences = sentences[:-1]
    return [s for s in sentences if 5 <= len(s.split()) <= 70 and not s.isupper()]


def quotable(sentence: str) -> bool:
    """A statement that reads on its own: it ends as a statement (not a question put to readers, not a
    fragment without an end), starts with a capital, a digit or a quote (after any mention syntax a page
    put in front: "@everyone Anthropic opened ..."; the renderer makes mentions inert), and has no
    template markup."""
    start = _MENTIONS.sub("", sentence)
    return (bool(_WHOLE_END.search(sentence)) and bool(re.match(r"[\"'“‘(\[]?[A-Z0-9]", start))
            and "{{" not in sentence and "\n" not in sentence.strip())


class Read:
    """A hit with its readable sentences (boilerplate left out), split once."""

    def __init__(self, hit: Hit, skip: Set[str]):
        self.chunk = hit.chunk
        self.sentences = [s for s in chunk_sentences(hit) if s not in skip]


@dataclass(frozen=True)
class ScoredSentence:
    text: str
    doc_id: str
    rank: int
    match: float  # share of the question's weight it holds
    published: str


def scored_sentences(hits: Sequence[Read], weights: dict[str, float]) -> list[ScoredSentence]:
    """Each hit's readable sentences, its article's headline before the first, with the share of the
    question's weight each holds."""
    total = sum(weights.values()) or 1.0
    out: list[ScoredSentence] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        texts = hit.sentences
        if hit.chunk.doc_id not in seen and hit.chunk.title:
            texts = [hit.chunk.title, *texts]  # a headline names its subject
            seen.add(hit.chunk.doc_id)
        for text in texts:
            stems = set(terms(text))
            match = sum(w for t, w in weights.items() if t in stems) / total
            out.append(ScoredSentence(text, hit.chunk.doc_id, rank, match, hit.chunk.published))
    return out
