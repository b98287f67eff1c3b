"""Sentences, shared by the layers above: the extractive composer quotes them, retrieval matches them,
and the lexical index keys them to find an outlet's boilerplate (a sentence recurring word for word
across articles). One splitter, so a sentence the composer would quote has the key the index counted.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Inc|Ltd|Co|Corp|vs|No|U\.S|U\.K|Jan|Feb|Mar|Apr|Jun|Jul|Aug|"
                     r"Sep|Sept|Oct|Nov|Dec|[A-Z])\.$")
_NOT_WORD = re.compile(r"\W+")
MIN_KEY_CHARS = 12  # shorter sentences ("Advertisement", "Related Pages:") are never quoted anyway


def split_sentences(text: str) -> list[str]:
    """Sentences at . ! ? followed by a capital or digit, not after an abbreviation or an initial."""
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


def sentence_key(sentence: str) -> int | None:
    """A 64-bit key of the sentence's words (case, spacing and punctuation ignored); None when too short."""
    squashed = _NOT_WORD.sub("", sentence.lower())
    if len(squashed) < MIN_KEY_CHARS:
        return None
    return int.from_bytes(hashlib.blake2b(squashed.encode(), digest_size=8).digest(), "little")


def sentence_keys(text: str) -> np.ndarray:
    """The distinct keys of a text's sentences (uint64)."""
    keys = {k for k in (sentence_key(s) for s in split_sentences(text)) if k is not None}
    return np.array(sorted(keys), dtype=np.uint64)
