"""Token-based chunking, measured with the embedding model's own tokenizer.

all-MiniLM-L6-v2 silently truncates at 256 word pieces, so no embedded text (header + body) may
exceed the model's budget. Bodies are packed from whole sentences up to about CHUNK_TOKENS word
pieces, with about CHUNK_OVERLAP pieces of the previous chunk repeated, so a sentence (a "fact") is
rarely cut in two. The header (title | site | date) is embedded and lexically indexed with each chunk
but is never part of the chunk's text.

Written here rather than taken from LangChain's splitters: those measure length but do not give
exact character spans, and none packs against a budget shared with a per-document header.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

HEADER_MAX_TOKENS = 48
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-*•]\s)")


class TokenCounter(Protocol):
    """What the chunker needs from an embedder (vectorstore.embeddings.Embedder satisfies it)."""

    max_tokens: int
    special_tokens: int

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...


def make_header(title: str, site: str, published: datetime | None) -> str:
    parts = [title.strip(), site.strip(), published.date().isoformat() if published else ""]
    return " | ".join(p for p in parts if p)


def fit_header(header: str, counter: TokenCounter) -> str:
    """Cut an overlong header (a 300-character title) to HEADER_MAX_TOKENS word pieces."""
    offsets = counter.token_offsets(header)
    if len(offsets) <= HEADER_MAX_TOKENS:
        return header
    return header[: offsets[HEADER_MAX_TOKENS - 1][1]].rstrip() + "…"


def _sentence_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in _SENTENCE_END.finditer(text))
    return starts


def _units(offsets: Sequence[tuple[int, int]], text: str, budget: int) -> list[tuple[int, int]]:
    """Token ranges [start, end) of sentences; a sentence over budget is cut at token borders."""
    starts = _sentence_starts(text)
    units: list[tuple[int, int]] = []
    current = 0
    current_sentence = 0
    for i, (start, _) in enumerate(offsets):
        sentence = bisect.bisect_right(starts, start) - 1
        if sentence != current_sentence and i > current:
            units.append((current, i))
            current = i
        current_sentence = sentence
    if current < len(offsets):
        units.append((current, len(offsets)))
    out: list[tuple[int, int]] = []
    for a, b in units:
        while b - a > budget:
            out.append((a, a + budget))
            a += budget
        out.append((a, b))
    return out


def split_spans(text: str, counter: TokenCounter, budget: int, overlap: int) -> list[tuple[int, int]]:
    """Character spans of chunks of `text`, each at most `budget` word pieces."""
    offsets = counter.token_offsets(text)
    if not offsets:
        return []
    units = _units(offsets, text, budget)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, size = i, 0
        while j < len(units) and size + (units[j][1] - units[j][0]) <= budget:
            size += units[j][1] - units[j][0]
            j += 1
        spans.append((offsets[units[i][0]][0], offsets[units[j - 1][1] - 1][1]))
        if j >= len(units):
            break
        # Step back over whole sentences worth about `overlap` pieces, always moving forward.
        k, carried = j, 0
        while k - 1 > i and carried + (units[k - 1][1] - units[k - 1][0]) <= overlap:
            k -= 1
            carried += units[k][1] - units[k][0]
        i = k
    return spans


def body_budget(header: str, counter: TokenCounter, tokens: int) -> int:
    room = counter.max_tokens - counter.special_tokens - len(counter.token_offsets(header)) - 1
    return max(16, min(tokens, room))
