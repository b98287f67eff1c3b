"""Dates in a question: which published window each one allows, relative to an injectable `now`.

Pure text work, used by `answer.query`. "published on October 5, 2023" names a day; "before"/"after"/
"since" bound; "last week", "the past two days" are relative to now. Each date is marked as said of the
articles ("published on", "reported in", "last week") or possibly of an event in them ("goes on sale on
November 16"), since only the first is surely a filter on the published date.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS.pop("may", None)  # the verb; "May" is matched below only with a day or a year
_MONTH_NAMES = (r"january|february|march|april|june|july|august|september|october|november|december"
                r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|(?-i:May)(?=\s+\d)")


def _month(group: str) -> str:
    return rf"(?P<{group}>{_MONTH_NAMES})\.?"


_YEAR = r"(?:19|20)\d\d"
_YEAR_AFTER = "|".join(rf"(?<=\b{w}\s)" for w in ("in", "of", "during", "since", "before", "after", "from", "until"))
_DATE = re.compile(
    rf"\b(?:{_month('month')}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>{_YEAR}))?"
    rf"|(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_month('month2')}(?:,?\s+(?P<year2>{_YEAR}))?"
    rf"|(?P<iso>{_YEAR}-\d\d-\d\d)"
    rf"|{_month('month3')}(?:,?\s+(?P<year3>{_YEAR}))?"
    rf"|(?:{_YEAR_AFTER})(?P<year4>{_YEAR})"
    rf"(?!\s+[A-Z0-9])(?!-))\b",
    re.IGNORECASE,
)
_BOUND = re.compile(r"\b(before|prior to|until|till|by|after|since|from|between|as of)\s+(?:the\s+)?(?:end\s+of\s+)?$",
                    re.IGNORECASE)
# A date said of the articles themselves ("published on", "TechCrunch reported on it before", "the report
# from X on"), not of an event in them ("its June 2017 launch", "goes on sale on November 16").
_CUE = re.compile(r"\b(?:publish(?:ed|es)?|post(?:ed|s)?|report(?:ed|s|ing)?|articles?|stor(?:y|ies)|pieces?"
                  r"|coverage|covered|reviews?|wr(?:ote|itten|ites)|said|says?|news|dated|editions?|columns?"
                  r"|interviews?|headlines)\b(?:\W+\w+){0,3}\W*$", re.IGNORECASE)
_RELATIVE = re.compile(
    r"\b(?P<what>today|yesterday|this week|last week|past week|this month|last month|past month|this year|last year"
    r"|(?:in\s+the\s+)?(?:past|last)\s+(?P<n>\d+|two|three|four|five|six|seven|ten)\s+(?P<unit>days?|weeks?|months?|years?))\b",
    re.IGNORECASE,
)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}


def _day_span(year: int, month: int, day: int) -> tuple[datetime, datetime] | None:
    try:
        start = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
    return start, start + timedelta(days=1)


def _month_span(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _latest_year(month: int, day: int, now: datetime) -> int:
    """The year of the most recent MONTH DAY not after now ("since November" said in March means last year)."""
    return now.year if (month, day) <= (now.month, now.day) else now.year - 1


def _absolute(m: re.Match[str], now: datetime) -> tuple[datetime, datetime] | None:
    g = m.groupdict()
    if g["iso"]:
        y, mo, d = (int(p) for p in g["iso"].split("-"))
        return _day_span(y, mo, d)
    if g["year4"]:
        year = int(g["year4"])
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    name = g["month"] or g["month2"] or g["month3"]
    month = MONTHS.get(name.lower().rstrip("."), 5 if name.lower().startswith("may") else 0)
    if not month:
        return None
    day = g["day"] or g["day2"]
    year = g["year"] or g["year2"] or g["year3"]
    if day:
        y = int(year) if year else _latest_year(month, int(day), now)
        return _day_span(y, month, int(day))
    y = int(year) if year else _latest_year(month, 1, now)
    return _month_span(y, month)


def _relative(m: re.Match[str], now: datetime) -> tuple[datetime, datetime]:
    what = m.group("what").lower()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if what == "today":
        return today, today + timedelta(days=1)
    if what == "yesterday":
        return today - timedelta(days=1), today
    if what == "this week":
        return today - timedelta(days=today.weekday()), now
    if what in ("last week", "past week"):
        return now - timedelta(days=7), now
    if what == "this month":
        return today.replace(day=1), now
    if what == "last month":
        first = today.replace(day=1)
        return (first - timedelta(days=1)).replace(day=1), first
    if what == "past month":
        return now - timedelta(days=31), now
    if what == "this year":
        return today.replace(month=1, day=1), now
    if what == "last year":
        return today.replace(year=today.year - 1, month=1, day=1), today.replace(month=1, day=1)
    n = m.group("n").lower()
    count = _NUMBERS.get(n) or int(n)
    unit = m.group("unit").lower().rstrip("s")
    days = {"day": 1, "week": 7, "month": 31, "year": 366}[unit] * count
    return now - timedelta(days=days), now


@dataclass(frozen=True)
class DateMark:
    """One date said in a question, and the published window it allows."""

    start: int
    end: int
    since: datetime | None
    until: datetime | None  # exclusive
    bound: str  # "" (on, in, a bare date), "upper" (before, until), "lower" (after, since)
    relative: bool  # "last week", "the past two days": always a period of publication
    years_only: bool  # a bare year ("in 2012"), which often names a thing rather than a time
    cued: bool  # said of the articles: "published on", "reported in", "the report from X on"


def date_marks(text: str, now: datetime) -> list[DateMark]:
    """Every date in the text, in order."""
    marks: list[DateMark] = []
    for m in _DATE.finditer(text):
        span = _absolute(m, now)
        if span is None:
            continue
        bound = _BOUND.search(text[: m.start()])
        word = bound.group(1).lower() if bound else ""
        cued = bool(_CUE.search(text[: m.start()]))
        if word in ("before", "prior to", "until", "till", "by"):
            until = span[0] if word in ("before", "prior to") else span[1]
            marks.append(DateMark(m.start(), m.end(), None, until, "upper", False, bool(m.group("year4")), cued))
        elif word in ("after", "since", "from", "as of"):
            marks.append(DateMark(m.start(), m.end(), span[0], None, "lower", False, bool(m.group("year4")), cued))
        else:  # "on", "in", "between ... and", or a bare date: the period itself
            marks.append(DateMark(m.start(), m.end(), *span, "", False, bool(m.group("year4")), cued))
    for m in _RELATIVE.finditer(text):
        marks.append(DateMark(m.start(), m.end(), *_relative(m, now), "", True, False, True))
    return sorted(marks, key=lambda mark: mark.start)


def window(marks: Sequence[DateMark]) -> tuple[int | None, int | None]:
    """The published_ts window [since, until] that a question's dates allow (either end open)."""
    spans = [(m.since, m.until) for m in marks if not m.bound]
    lower = [m.since for m in marks if m.bound == "lower"]
    upper = [m.until for m in marks if m.bound == "upper"]
    if len(lower) == 1 and len(upper) == 1 and not spans and lower[0] < upper[0]:  # type: ignore[operator]
        since, until = lower[0], upper[0]  # "after October 4 and before December 1": a range
    else:
        # Each date usually names a different source ("the report before May 2 and the one on June 9"),
        # so the window is the union of what each allows.
        starts = [s for s, _ in spans] + lower + ([None] if upper else [])
        ends = [e for _, e in spans] + upper + ([None] if lower else [])
        since = None if None in starts or not starts else min(starts)  # type: ignore[type-var]
        until = None if None in ends or not ends else max(ends)  # type: ignore[type-var]
    return (int(since.timestamp()) if since else None, int(until.timestamp()) - 1 if until else None)


def parse_dates(question: str, now: datetime) -> tuple[int | None, int | None]:
    """The published_ts window [since, until] the question asks for (either end open)."""
    return window(date_marks(question, now))


def strip_dates(text: str) -> str:
    """The text without its dates ("published on October 6, 2023"), which say when, not what."""
    return _DATE.sub(" ", text)
