"""Boilerplate, found in general: sentences that recur word for word across several articles.

An outlet's subscription promo, its newsletter plug, "Tip TechCrunch", an affiliate disclosure or a
byline box is the same sentence in article after article; a sentence of news is not. So a sentence
whose key (`vectorstore.text.sentence_key`) is in at least `RECUR_ARTICLES` articles is boilerplate,
with one exception: articles that are copies of each other (a wire story syndicated by three outlets,
the same page ingested under two URLs) share most of their sentences, and count once.

It is decided when an answer is composed, from the lexical index's current snapshot, never stored with
an article: the third article that repeats a promo makes the first two's copy boilerplate as well, a
forgotten article no longer counts, and bulk imports and feed-text fallbacks are covered like any page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .lexical_parts import PartRows

RECUR_ARTICLES = 3  # distinct articles a sentence must be in to be boilerplate
COPY_SHARE = 0.6  # two articles sharing this share of the smaller one's other sentences are copies


class Recurrence:
    """Sentence keys -> the articles that contain them, over the live rows of an index snapshot."""

    def __init__(self, parts: Iterable[tuple[PartRows, np.ndarray]]):
        per_doc: dict[str, list[np.ndarray]] = {}
        for rows, alive in parts:
            for i in np.flatnonzero(alive):
                per_doc.setdefault(rows.doc_ids[i], []).append(rows.sentences[i])
        self._docs = list(per_doc)
        self._keys = [np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.uint64)
                      for keys in per_doc.values()]
        flat = np.concatenate(self._keys) if self._keys else np.zeros(0, np.uint64)
        owners = np.repeat(np.arange(len(self._keys)), [len(k) for k in self._keys])
        order = np.argsort(flat, kind="stable")
        self._flat, self._owners = flat[order], owners[order]

    def articles(self, key: int) -> list[str]:
        """Ids of the articles holding the sentence `key`."""
        return [self._docs[i] for i in self._holders(key)]

    def _holders(self, key: int) -> np.ndarray:
        k = np.uint64(key)
        lo, hi = np.searchsorted(self._flat, k, "left"), np.searchsorted(self._flat, k, "right")
        return self._owners[lo:hi]

    def distinct_articles(self, key: int) -> int:
        """Articles holding `key`, copies of one another counted once (what they share besides `key`
        decides, so three short articles sharing only their promo are three)."""
        kept: list[np.ndarray] = []
        this = np.array([key], dtype=np.uint64)
        for owner in self._holders(key):
            keys = np.setdiff1d(self._keys[owner], this, assume_unique=True)
            if not any(_copies(keys, other) for other in kept):
                kept.append(keys)
        return len(kept)

    def boilerplate(self, keys: Sequence[int]) -> set[int]:
        """Those of `keys` that are boilerplate."""
        return {k for k in set(keys) if len(self._holders(k)) >= RECUR_ARTICLES
                and self.distinct_articles(k) >= RECUR_ARTICLES}


def _copies(a: np.ndarray, b: np.ndarray) -> bool:
    smaller = min(len(a), len(b))
    return smaller > 0 and len(np.intersect1d(a, b, assume_unique=True)) >= COPY_SHARE * smaller
