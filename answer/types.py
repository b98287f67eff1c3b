"""The answer's shape, shared by the CLI, the bot and the evaluation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Mode = Literal["extractive", "llm"]


@dataclass(frozen=True)
class Citation:
    """One numbered source. Built from stored metadata, never from model output."""

    n: int
    url: str
    title: str
    site: str
    published: str  # ISO date or "" when unknown
    quote: str  # the passage the answer relies on
    # The source's passage for each statement citing it, in order (an LLM answer: one per claim); empty
    # when `quote` says it all. Answers stored before this field existed have none and show `quote`.
    passages: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    text: str  # with [n] markers
    citations: list[Citation]
    mode: Mode
    refused: bool
    note: str = ""  # e.g. why an LLM answer fell back to extractive
    as_of: str = ""  # ISO date of the newest cited source ("" when none)
    unsupported: bool = False  # an LLM reply that carried no valid citation
    chunks: list[str] = field(default_factory=list)  # ids of the retrieved context, for evaluation
    lead: str = ""  # the name, figure or date the answer's first line leads with ("" when none)
    # An LLM reply's support check: {"cited": sentences citing a source, "recited": moved to the source that
    # holds them, "dropped": held by none}; empty for extractive answers.
    support: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Exactly the CLI's --json shape."""
        return {
            "answer": self.text,
            "lead": self.lead,
            "refused": self.refused,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation (a Discord thread), oldest first."""

    question: str
    answer: str = ""
