"""Figures and dates for the led answer, found in the sentences that best match the question.

- a figure, for how much / how many: the amount, share or count in the sentence that best matches; when
  the best sentences of different sources give different figures, each with its source;
- a date, for when: the date in the best sentence, "on Tuesday" resolved against the article's date.
Each is given as the lead's parts, (text, doc ids) pairs, best sources first; None when nothing fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from .dates import date_marks
from .words import Read, ScoredSentence, scored_sentences, terms

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

LEAD_CITES = 3  # sources cited on the lead line, at most


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


def figures_in(text: str) -> list[tuple[float, str]]:
    """Every figure of a text as (value, unit): "$3.2 billion" and "3.2bn" are both 3.2e9."""
    out = []
    for m in _FIGURE.finditer(text):
        value = _figure_value(text[m.start():m.end() + 12])
        if value is not None:
            out.append(value)
    return out


def figure_lead(question: str, hits: Sequence[Read],
                weights: dict[str, float]) -> list[tuple[str, list[str]]] | None:
    """The figure a how much / how many question asks for, one part per figure when sources differ."""
    asked = question.lower()
    money = "how much" in asked and not re.search(r"\bhow much (?:of|more|less|longer|time)\b", asked)
    many = re.search(r"\bhow many\s+([a-z-]+)", asked)
    noun = terms(many.group(1))[0] if many and terms(many.group(1)) else ""
    said = {m.group(0).strip() for m in _FIGURE.finditer(question)}
    found: list[tuple[float, str, ScoredSentence, tuple[float, str]]] = []
    for s in scored_sentences(hits, weights):
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
        return [(parts[v][0], [d for d, dv in by_doc.items() if dv == v]) for v in values[:3]]
    value = found[0][3]
    return [(parts[value][0], parts[value][1][:LEAD_CITES])]


def _is_year(figure: str, text: str, end: int) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d\d", figure)) or bool(re.match(r"\s*(?:-|to)\s*(?:19|20)\d\d", text[end:]))


# ---- dates --------------------------------------------------------------------------------------

def date_lead(hits: Sequence[Read], weights: dict[str, float]) -> list[tuple[str, list[str]]] | None:
    """The date said in the sentence that best matches a when question, with its source."""
    best: tuple[float, str, ScoredSentence] | None = None
    for s in scored_sentences(hits, weights):
        said = _dates_in(s)
        if said and s.match > 0 and (best is None or s.match / (1 + 0.1 * s.rank) > best[0]):
            best = (s.match / (1 + 0.1 * s.rank), said[0], s)
    if best is None:
        return None
    return [(best[1], [best[2].doc_id])]


def _dates_in(s: ScoredSentence) -> list[str]:
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
