"""Question understanding: outlets matched against the store's sites, dates relative to an injected now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from answer.dates import parse_dates
from answer.query import match_sites, mentions, understand

NOW = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)
SITES = ["TechCrunch", "The Verge", "The Age", "The Guardian", "Cnbc | World Business News Leader",
         "The Independent - Sports", "The Independent - Travel"]


def day(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


@pytest.mark.parametrize(("question", "expected"), [
    ("As reported by TechCrunch and The Verge, what did OpenAI ship?", ["TechCrunch", "The Verge"]),
    ("what did the verge and techcrunch say?", ["The Verge", "TechCrunch"]),
    ("Did the Guardian cover it?", ["The Guardian"]),
    ("According to the guardian", ["The Guardian"]),
    ("the Cnbc | World Business News Leader report on Nike", ["Cnbc | World Business News Leader"]),
    ("What did CNBC say about Nike?", ["Cnbc | World Business News Leader"]),
    ("What did The Independent write?", ["The Independent - Sports", "The Independent - Travel"]),
    ("What did The Age report?", ["The Age"]),
    ("Is this the age of AI agents?", []),  # common words are an outlet only when written as its name
    ("What did Bloomberg report?", []),
    ("the vergence of techcrunchy things", []),
    ("Who, as reported by The Age, The Verge, and TechCrunch, ran OpenAI?", ["The Age", "The Verge", "TechCrunch"]),
    ("What did The Guardian The Verge say?", ["The Guardian", "The Verge"]),  # names side by side both count
])
def test_outlets_are_matched_against_known_sites(question: str, expected: list[str]) -> None:
    assert match_sites(question, SITES) == expected


@pytest.mark.parametrize(("question", "since", "until"), [
    ("What happened in March 2026?", "2026-03-01", "2026-04-01"),
    ("What did TechCrunch publish on October 5, 2023?", "2023-10-05", "2023-10-06"),
    ("news on 5 October 2023", "2023-10-05", "2023-10-06"),
    ("articles dated 2024-02-29", "2024-02-29", "2024-03-01"),
    ("What happened in 2023?", "2023-01-01", "2024-01-01"),
    ("What happened yesterday?", "2026-11-28", "2026-11-29"),
    ("What happened today?", "2026-11-29", "2026-11-30"),
    ("What happened last month?", "2026-10-01", "2026-11-01"),
    ("What changed since November?", "2026-11-01", None),
    ("What changed since March?", "2026-03-01", None),
    ("What was said before June 2026?", None, "2026-06-01"),
    ("after October 4, 2023 and before December 1, 2023", "2023-10-04", "2023-12-01"),
    ("Between the report published on October 19, 2023, and the one published on November 15, 2023",
     "2023-10-19", "2023-11-16"),
    ("What did Nvidia say about its 2022 NFL Draft in 2022 NFL games?", None, None),  # a year naming a thing
    ("What may 5 companies do?", None, None),
])
def test_dates_become_a_published_window(question: str, since: str | None, until: str | None) -> None:
    got_since, got_until = parse_dates(question, NOW)
    assert got_since == (day(since) if since else None)
    assert got_until == (day(until) - 1 if until else None)


def test_last_week_is_the_seven_days_before_now() -> None:
    since, until = parse_dates("What did OpenAI do last week?", NOW)
    assert since == int(NOW.timestamp()) - 7 * 86400
    assert until == int(NOW.timestamp()) - 1


def test_recency_words_favour_newer_articles_unless_a_date_is_given() -> None:
    assert understand("What is the latest from Nvidia?", NOW).recency
    assert understand("What are the most recent AI rules?", NOW).recency
    assert understand("Who leads OpenAI now?", NOW).recency
    assert not understand("Who founded Anthropic?", NOW).recency
    assert not understand("What was the latest news in March 2026?", NOW).recency


def test_an_event_anchors_before_and_after() -> None:
    plan = understand("What did Google say before the layoffs were reported?", NOW)
    assert plan.anchor == ("before", "the layoffs") and not plan.dated
    plan = understand("What happened after OpenAI's device was announced?", NOW)
    assert plan.anchor == ("after", "OpenAI's device")


def test_a_list_of_outlets_shares_what_the_question_says_around_it() -> None:
    question = ("Who was ousted as CEO and then came back within a week, as reported by TechCrunch, The Verge "
                "and The Guardian?")
    said = mentions(question, SITES, NOW)
    assert [m.sites for m in said] == [("TechCrunch",), ("The Verge",), ("The Guardian",)]
    assert all("ousted as ceo and then came back within a week" in m.clause for m in said)


def test_separate_mentions_keep_their_own_clauses_and_dates() -> None:
    question = ("Did the TechCrunch report on chip exports published on October 6, 2026 and the report in "
                "The Guardian on data centres published on October 9, 2026 agree?")
    first, second = mentions(question, SITES, NOW)
    assert "chip exports" in first.clause and "data centres" not in first.clause
    assert "data centres" in second.clause
    assert (first.since_ts, second.until_ts) == (day("2026-10-06"), day("2026-10-10") - 1)


def test_a_date_belongs_to_the_outlet_named_before_it() -> None:
    question = ("Between the report from TechCrunch published on October 4, 2026, and the report from The Guardian, "
                "did the coverage of chip exports change?")
    techcrunch, guardian = mentions(question, SITES, NOW)
    assert (techcrunch.since_ts, techcrunch.until_ts) == (day("2026-10-04"), day("2026-10-05") - 1)
    assert (guardian.since_ts, guardian.until_ts) == (None, None)  # its report may be from any day


def test_a_date_right_before_an_outlet_is_that_outlets() -> None:
    question = "Did TechCrunch report that chip exports rose, while on October 7, 2026, The Guardian said they fell?"
    techcrunch, guardian = mentions(question, SITES, NOW)
    assert (techcrunch.since_ts, techcrunch.until_ts) == (None, None)
    assert (guardian.since_ts, guardian.until_ts) == (day("2026-10-07"), day("2026-10-08") - 1)


@pytest.mark.parametrize(("question", "cued"), [
    ("What did TechCrunch publish on October 5, 2026?", True),
    ("Was the report from The Verge on October 5, 2026 fair?", True),
    ("What did OpenAI ship last week?", True),
    ("Which console, going on sale on November 16, has an OLED screen?", False),
    ("Which exchange, the largest within 180 days of its June 2017 launch, withdrew its assets?", False),
])
def test_a_date_said_of_the_articles_is_told_from_one_said_of_an_event(question: str, cued: bool) -> None:
    plan = understand(question, NOW, SITES)
    assert plan.dated and plan.cued is cued


def test_only_relative_dates_bound_the_whole_question() -> None:
    plan = understand("What did OpenAI ship last week, and who left the company?", NOW)
    assert plan.period == (int(NOW.timestamp()) - 7 * 86400, int(NOW.timestamp()) - 1)
    plan = understand("Did the report published on October 4, 2026 and the one on chips agree?", NOW)
    assert plan.dated and plan.period == (None, None)
