"""The layout of announcements: batched, within Discord's limits, nothing that pings or formats."""

from __future__ import annotations

from bot.cogs.feeds import announcement_messages, human_date
from bot.render import EMBED_TOTAL_LIMIT, embed_fits
from ingest.feedpoll import NewArticle


def test_announcements_stay_within_discord_limits() -> None:
    long = NewArticle(url="https://news.example/" + "a" * 300, title="T" * 300 + " @everyone", site="S" * 200,
                      published="2026-03-12T09:30:00+00:00", summary="word " * 400, via="page")
    short = NewArticle(url="https://news.example/x", title="Short", site="Wire", published="", summary="One.", via="feed")

    for articles in ([short] * 10, [short] * 11, [long] * 10, [long] * 37, [short, long] * 40):
        messages = announcement_messages(articles)
        assert sum(len(e.fields) for m in messages for e in m) == len(articles)
        for embeds in messages:
            assert 1 <= len(embeds) <= 10 and sum(len(e) for e in embeds) <= EMBED_TOTAL_LIMIT
            assert all(embed_fits(e) and len(e.fields) <= 10 for e in embeds)
    assert len(announcement_messages([short] * 10)) == 1 and len(announcement_messages([short] * 10)[0]) == 1
    assert len(announcement_messages([short] * 11)[0]) == 2  # one message, two embeds
    [[embed]] = announcement_messages([short])
    assert embed.title == "📰 1 new article" and embed.fields[0].name == "Wire · date unknown"


def test_titles_and_summaries_are_inert_text() -> None:
    article = NewArticle(url="https://news.example/a", title="**Big** news [click](https://evil.example) `x`",
                         site="_Wire_", published="2026-03-02T23:30:00+00:00",
                         summary="Shares of @everyone rose *sharply*.", via="page")

    [[embed]] = announcement_messages([article])

    [field] = embed.fields
    assert field.name == "\\_Wire\\_ · 2 March 2026"
    link, summary = field.value.split("\n")
    assert link == "[\\*\\*Big\\*\\* news (click)(https://evil.example) \\`x\\`](https://news.example/a)"
    assert summary == "Shares of @everyone rose \\*sharply\\*."


def test_dates_read_as_people_write_them() -> None:
    assert human_date("2026-03-12T09:30:00+00:00") == "12 March 2026"
    assert human_date("2026-03-12") == "12 March 2026"
    assert human_date("") == human_date("soon") == "date unknown"
