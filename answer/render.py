"""An Answer as plain text for a terminal (`newsdesk ask`). The bot renders its own embeds."""

from __future__ import annotations

from datetime import date

from answer.types import Answer, Citation


def long_date(iso: str) -> str:
    """`2026-03-12T09:00:00+00:00` -> `12 March 2026` ("" when there is no date)."""
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        return ""
    return f"{day.day} {day:%B %Y}"


def freshness(answer: Answer) -> str:
    """How old the newest source is: `as of 12 March 2026`."""
    when = long_date(answer.as_of) if answer.as_of else ""
    return f"as of {when}" if when else ""


def format_citation(citation: Citation) -> str:
    """`[1] Title — Site, 2026-03-12` and the URL indented below it."""
    where = ", ".join(part for part in (citation.site, citation.published[:10]) if part)
    title = citation.title or citation.url
    head = f"[{citation.n}] {title}" + (f" — {where}" if where else "")
    return f"{head}\n    {citation.url}"


def format_terminal(answer: Answer) -> str:
    parts = [answer.text.strip()]
    if answer.note:
        parts.append(f"Note: {answer.note}")
    if answer.citations:
        heading = f"Sources ({freshness(answer)}):" if freshness(answer) else "Sources:"
        parts.append(heading + "\n" + "\n".join(format_citation(c) for c in answer.citations))
    return "\n\n".join(part for part in parts if part) + "\n"
