"""Question understanding: which outlets a question names, which dates it means, whether it wants news.

Everything here is pure text work (no store, no model), so it is fast and tested on its own:
`understand(question, now, sites)` -> `QueryPlan`. Outlets are matched against the sites actually in
the store; dates become a published_ts window relative to an injectable `now`. Dates from phrases like
"published on October 5, 2023" name the sources the question needs, so several such dates widen the
window to cover all of them, while "before"/"after"/"since"/"between" bound it. Each date also belongs to
one outlet mention (the one named before it), and is told apart as said of the articles ("published on",
"reported in", "last week") or possibly of an event in them ("goes on sale on November 16").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .dates import DateMark, date_marks, window

_RECENT = re.compile(r"\b(latest|most recent|recent(?:ly)?|newest|now|currently|current|nowadays|these days|so far"
                     r"|up to date|lately|right now|this week|today)\b", re.IGNORECASE)
_ANCHOR = re.compile(
    r"\b(?P<dir>before|after|since)\s+(?P<event>(?:the|when|[A-Z]\w+)\b[^,.?;]{3,80}?)\s+"
    r"(?:was|were|had been|got|first)\s+(?:reported|announced|revealed|released|unveiled|launched|confirmed)",
)
_CAP = r"(?:[A-Z][\w&.-]*|of|and|&|on)"
_PIECE = r"(?:article|articles|report|reports|piece|story|stories|review|coverage|column|editorial|op-ed|newsletter" \
         r"|podcast|broadcast|segment|feature|interview|analysis|investigation|exclusive)"
_OUTLET_NAMED = re.compile(
    rf"\b(?:a|an)\s+(?P<a>[A-Z][\w&.-]*(?:\s+{_CAP}){{0,4}})\s+{_PIECE}\b"
    rf"|\b{_PIECE}\s+(?:published\s+)?(?:in|by|from)\s+(?:the\s+)?(?P<b>[A-Z][\w&.-]*(?:\s+{_CAP}){{0,4}})"
    rf"|\b(?:reported|according to|published|written|cited|covered)\s+(?:by|in|to)\s+(?:the\s+)?"
    rf"(?P<c>[A-Z][\w&.-]*(?:\s+{_CAP}){{0,4}})"
)
_NOT_OUTLETS = {name.lower() for name in [*calendar.month_name[1:], *calendar.day_name]} | {
    "same", "latest", "recent", "previous", "subsequent", "earlier", "later", "first", "second", "other", "both"}
_LIST_GAP = re.compile(r"\s*(?:(?:and|or|as well as|both|the)\s+)*")


@dataclass(frozen=True)
class QueryPlan:
    text: str  # what to search for
    sites: list[str] = field(default_factory=list)  # store sites the question names, in order of mention
    mentions: list[Mention] = field(default_factory=list)  # each place an outlet is named
    since_ts: int | None = None
    until_ts: int | None = None
    recency: bool = False  # favour newer articles
    anchor: tuple[str, str] | None = None  # ("before" | "after", event text) to date by a search
    unknown_outlets: list[str] = field(default_factory=list)  # cited outlets the store has nothing from
    soft: bool = False  # the window comes from bare years only ("a 2012 ceasefire"): drop it if it empties
    cued: bool = False  # some date is said of the articles ("published on", "last week"), not only of events
    period: tuple[int | None, int | None] = (None, None)  # what "last week", "the past month" bound: all of it

    @property
    def dated(self) -> bool:
        return self.since_ts is not None or self.until_ts is not None


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _aliases(site: str) -> set[str]:
    """The ways people name a site: "The Verge" -> the verge, verge? no (too short); "Cnbc | World ..." -> cnbc."""
    names = {_norm(site)}
    head = re.split(r"\s+[|:\-–—]\s+|:\s", site)[0]
    names.add(_norm(head))
    for name in list(names):
        if name.startswith("the ") and len(name) >= 10:  # "guardian", "new york times", not "age" or "verge"
            names.add(name[4:])
    return {n for n in names if len(n) >= 3}


def _common_words(alias: str) -> bool:
    return all(len(word) <= 4 for word in alias.split())


def _capitalised(question: str, alias: str) -> bool:
    """The alias appears with its content words capitalised ("The Age", "the Age")."""
    pattern = r"\W+".join(re.escape(w) for w in alias.split())
    for m in re.finditer(rf"(?<!\w){pattern}(?!\w)", question, re.IGNORECASE):
        words = [w for w in re.split(r"\W+", m.group(0)) if w.lower() != "the"]
        if words and all(w[0].isupper() for w in words):
            return True
    return False


def find_sites(question: str, sites: Sequence[str]) -> list[tuple[int, int, str]]:
    """(start, end, site) of each outlet mention, in the normalised question, by position."""
    text = f" {_norm(question)} "
    by_alias: dict[str, list[str]] = {}
    for site in sites:
        for alias in _aliases(site):
            by_alias.setdefault(alias, []).append(site)
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for alias in sorted(by_alias, key=len, reverse=True):
        for m in re.finditer(rf"(?<= ){re.escape(alias)}(?= )", text):
            span = (m.start(), m.end())  # without the spaces around: "fortune the verge" holds both
            if _common_words(alias) and not _capitalised(question, alias):
                continue  # "the age of AI" is not The Age
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue  # inside a longer name already matched ("the independent sports" vs "the independent")
            taken.append(span)
            found.extend((span[0], span[1], site) for site in by_alias[alias])
    return sorted(found)


def match_sites(question: str, sites: Sequence[str]) -> list[str]:
    """Sites named in the question (case- and punctuation-insensitive), in order of first mention."""
    return list(dict.fromkeys(site for _, _, site in find_sites(question, sites)))


@dataclass(frozen=True)
class Mention:
    """One place the question names an outlet, and what it says there."""

    sites: tuple[str, ...]  # usually one; "The Independent" may be several sections
    clause: str  # the words between the neighbouring mentions ("the TechCrunch report on X published on ...")
    since_ts: int | None = None  # dates said in the clause
    until_ts: int | None = None


def mentions(question: str, sites: Sequence[str], now: datetime) -> list[Mention]:
    """Outlet mentions in order ("Does the TechCrunch article say X, while The Verge claims Y?" ->
    TechCrunch: "does the article say x while", The Verge: "claims y"), each with its own dates."""
    text = f" {_norm(question)} "
    found = find_sites(question, sites)
    spans = sorted({(start, end) for start, end, _ in found})
    # "reported by Fortune, The Verge and TechCrunch": a list of outlets shares the words around it.
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and _LIST_GAP.fullmatch(text[groups[-1][-1][1]:span[0]]):
            groups[-1].append(span)
        else:
            groups.append([span])
    # Each date belongs to the outlet named before it ("the report from Fortune published on October 4,
    # and the one from TechCrunch") unless it comes right before one ("on October 7, TechCrunch said").
    blanked = text
    for start, end in spans:
        blanked = blanked[:start] + " " * (end - start) + blanked[end:]
    dates: list[list[DateMark]] = [[] for _ in groups]
    for mark in date_marks(blanked, now):
        after = next((g for g, group in enumerate(groups) if group[0][0] >= mark.end), None)
        before = max((g for g, group in enumerate(groups) if group[-1][1] <= mark.start), default=None)
        close = after is not None and not text[mark.end:groups[after][0][0]].split()
        owner = after if before is None or close else before
        if owner is not None:
            dates[owner].append(mark)
    out: list[Mention] = []
    for g, group in enumerate(groups):
        before = groups[g - 1][-1][1] if g else 0
        after = groups[g + 1][0][0] if g + 1 < len(groups) else len(text)
        clause = " ".join((text[before:group[0][0]] + " " + text[group[-1][1]:after]).split())
        since, until = window(dates[g])
        for start, end in group:
            out.append(Mention(tuple(s for a, e, s in found if (a, e) == (start, end)), clause, since, until))
    return out


def unknown_outlets(question: str, sites: Sequence[str]) -> list[str]:
    """Outlets the question cites as sources ("a Bloomberg article", "reported by Reuters") that are not
    among the store's sites: what they said is not something the store can answer."""
    known = [_norm(site) for site in sites]
    aliases = {alias for site in sites for alias in _aliases(site)}
    out: list[str] = []
    for m in _OUTLET_NAMED.finditer(question):
        name = (m.group("a") or m.group("b") or m.group("c")).strip()
        name = re.sub(r"\s+(?:of|and|&|on)$", "", name)
        norm = _norm(name)
        if not norm or "'" in name or "’" in name or norm.split()[0] in _NOT_OUTLETS or norm in _NOT_OUTLETS:
            continue  # possessives ("Meta's report") are companies, not outlets
        bare = norm.removeprefix("the ")
        if any(bare in k or k in norm for k in known) or any(a in norm.split() or a == bare for a in aliases):
            continue
        out.append(name)
    return list(dict.fromkeys(out))


def without_sites(question: str, sites: Sequence[str]) -> str:
    """The question with outlet names blanked, so "Business Today" or "... Latest News" date nothing."""
    for alias in sorted({a for site in sites for a in _aliases(site)}, key=len, reverse=True):
        pattern = r"\W+".join(re.escape(word) for word in alias.split())
        question = re.sub(rf"(?<!\w){pattern}(?!\w)", " ", question, flags=re.IGNORECASE)
    return question


def understand(question: str, now: datetime, sites: Sequence[str] = ()) -> QueryPlan:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    said = mentions(question, sites, now)
    named = list(dict.fromkeys(site for m in said for site in m.sites))
    rest = without_sites(question, named)
    marks = date_marks(rest, now)
    since, until = window(marks)
    soft = bool(marks) and all(m.years_only for m in marks)
    anchor = None
    if since is None and until is None and (m := _ANCHOR.search(rest)):
        anchor = ("before" if m.group("dir").lower() == "before" else "after", m.group("event"))
    recency = bool(_RECENT.search(rest)) and since is None and until is None
    return QueryPlan(question.strip(), named, said, since, until, recency, anchor,
                     unknown_outlets(question, sites), soft, cued=any(m.cued for m in marks),
                     period=window([m for m in marks if m.relative]))
