"""An Answer as plain text for a terminal (`newsdesk ask`). The bot renders its own embeds."""

from __future__ import annotations

from answer.types import Answer, Citation


def format_citation(citation: Citation) -> str:
    """`[1] Title — Site, 2026-03-12` and the URL indented below it."""
    where = ", ".join(part for part in (citation.site, citation.published) if part)
    title = citation.title or citation.url
    head = f"[{citation.n}] {title}" + (f" — {where}" if where else "")
    return f"{head}\n    {citation.url}"


def format_terminal(answer: Answer) -> str:
    parts = [answer.text.strip()]
    if answer.note:
        parts.append(f"Note: {answer.note}")
    if answer.citations:
        parts.append("Sources:\n" + "\n".join(format_citation(c) for c in answer.citations))
    return "\n\n".join(part for part in parts if part) + "\n"
