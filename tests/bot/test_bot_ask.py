"""/ask through the real bot on SimCord: acknowledgement, rendering, buttons, votes, limits, failures."""

from __future__ import annotations

import logging
import re
import sqlite3

import discord
import pytest

from bot.render import MESSAGE_LIMIT, embed_fits
from newsdesk.settings import Paths
from tests.bot.conftest import answer_id_of, custom_ids, posted_allowed_mentions, vote_rows
from tests.bot.fakes import citation, make_answer

pytestmark = pytest.mark.asyncio

QUESTION = "What did Nvidia announce?"


async def test_ask_is_acknowledged_at_once_and_answered_later(world, services):
    services.answers.delay = 12  # longer than Discord's 3 seconds
    started = world.env.now()

    result = await world.alice.slash(world.channel, "ask", question=QUESTION)

    assert result.acknowledged and result.deferred  # "thinking…", within the deadline
    assert (world.env.now() - started).total_seconds() < 3
    assert result.response.content == ""
    await world.env.advance_time(12)

    answer = make_answer()
    message = result.response
    assert message.content == answer.text
    assert not message.ephemeral
    [embed] = message.embeds
    assert embed.title == "Sources"
    assert [f.name for f in embed.fields] == [
        f"[{c.n}] {c.site} · {c.published[:10]}" for c in answer.citations
    ]
    assert [f.value for f in embed.fields] == [f"[{c.title}]({c.url})" for c in answer.citations]
    assert embed.footer.text == "as of 3 March 2025"
    assert services.answers.calls == [(QUESTION, [])]


async def test_private_ask_is_ephemeral(world):
    result = await world.alice.slash(world.channel, "ask", question=QUESTION, private=True)

    assert result.ephemeral and result.response.ephemeral
    assert result.response.content.startswith("Nvidia announced")
    assert all(m.id != result.response.id for m in world.channel.history(viewer=world.bob))


async def test_quotes_are_shown_only_to_the_member_who_clicks(world):
    result = await world.alice.slash(world.channel, "ask", question=QUESTION)

    quotes = await world.bob.click(result.response, label="Quotes")

    assert quotes.ephemeral
    [embed] = quotes.response.embeds
    assert [f.name for f in embed.fields] == ["[1] Story number 1 about chips", "[2] Story number 2 about chips"]
    assert "Passage 1: Nvidia said its new chip ships in May." in embed.fields[0].value
    seen_by_alice = {m.id for m in world.channel.history(viewer=world.alice)}
    seen_by_bob = {m.id for m in world.channel.history(viewer=world.bob)}
    assert quotes.response.id in seen_by_bob and quotes.response.id not in seen_by_alice


async def test_one_vote_per_member_and_answer(world, settings):
    result = await world.alice.slash(world.channel, "ask", question=QUESTION)
    answer_id = answer_id_of(result.response)
    up, down = f"nd:vote:{answer_id}:up", f"nd:vote:{answer_id}:down"

    first = await world.alice.click(result.response, custom_id=up)
    again = await world.alice.click(result.response, custom_id=up)
    changed = await world.alice.click(result.response, custom_id=down)
    other = await world.bob.click(result.response, custom_id=up)

    assert first.ephemeral and first.response.content == "Thanks for the feedback 👍."
    assert again.response.content == "You already voted 👍 on this answer."
    assert changed.response.content == "Changed your vote to 👎."
    assert other.response.content == "Thanks for the feedback 👍."
    urls = '["https://aiwire.example/news/story-1", "https://aiwire.example/news/story-2"]'
    text = make_answer().text
    assert vote_rows(settings.data_dir) == sorted([
        (answer_id, world.alice.id, -1, QUESTION, text, urls),
        (answer_id, world.bob.id, 1, QUESTION, text, urls),
    ], key=lambda row: row[1])


async def test_unvoted_answers_past_retention_are_pruned_and_their_buttons_say_so(world, settings):
    voted = await world.alice.slash(world.channel, "ask", question=QUESTION)
    await world.bob.click(voted.response, custom_id=f"nd:vote:{answer_id_of(voted.response)}:up")
    await world.env.advance_time(11)  # past the ask cooldown
    unvoted = await world.alice.slash(world.channel, "ask", question=QUESTION)
    with sqlite3.connect(Paths(settings.data_dir).bot_db) as db:  # both given long ago
        db.execute("UPDATE answers SET created_at = '2020-01-01T00:00:00+00:00'")
    await world.env.advance_time(86_401)  # the bot prunes at most once a day, after an answer

    fresh = await world.alice.slash(world.channel, "ask", question=QUESTION)

    gone = await world.bob.click(unvoted.response, label="Quotes")
    assert gone.ephemeral and gone.response.content == "I no longer have the sources of this answer."
    kept = await world.bob.click(voted.response, label="Quotes")
    assert kept.response.embeds and kept.response.embeds[0].fields
    assert (await world.bob.click(fresh.response, label="Quotes")).response.embeds
    assert [row[:3] for row in vote_rows(settings.data_dir)] == [(answer_id_of(voted.response), world.bob.id, 1)]


async def test_a_long_answer_is_split_at_sentences_and_every_part_fits(world, services):
    sentence = "Nvidia said demand for its accelerators keeps growing across every region [1]. "
    text = (sentence * 70).strip()  # ~5,500 characters
    services.answers.reply = make_answer(text, n=25, citations=[citation(i, title="T" * 300) for i in range(1, 31)])

    result = await world.alice.slash(world.channel, "ask", question=QUESTION)

    parts = [result.response, *result.followups]
    assert len(parts) == 3
    assert all(len(p.content) <= MESSAGE_LIMIT for p in parts)
    assert all(p.content.endswith("[1].") for p in parts)  # cut at sentence ends
    assert " ".join(p.content for p in parts) == text
    assert [len(p.embeds) for p in parts] == [0, 0, 1]  # sources and buttons under the last part
    assert custom_ids(parts[-1]) and not custom_ids(parts[0])
    assert all(embed_fits(e) for p in parts for e in p.embeds)


async def test_article_text_pings_no_one(world, services):
    role = world.guild.create_role("Everyone-ish", mentionable=True)
    title = f"@everyone <@&{role.id}> [click](http://evil.example) **big** news"
    services.answers.reply = make_answer(
        f"@everyone look: <@&{role.id}> and <@{world.bob.id}> [1]. See [here](http://evil.example).",
        citations=[citation(1, title=title, quote=f"@everyone {title}")],
    )

    result = await world.alice.slash(world.channel, "ask", question=QUESTION)
    quotes = await world.alice.click(result.response, label="Quotes")

    for reply in (result.response, quotes.response):
        message: discord.Message = reply.message
        assert not message.mention_everyone
        assert message.mentions == [] and message.role_mentions == []
    assert "[here](http://evil.example)" not in result.response.content  # masked link neutralised
    field = result.response.embeds[0].fields[0].value
    assert "](http://evil.example)" not in field and "\\*\\*big\\*\\*" in field
    assert field.endswith("(https://aiwire.example/news/story-1)")
    assert posted_allowed_mentions(world.env)
    assert all(am == {"parse": []} for am in posted_allowed_mentions(world.env))
    assert world.bot.allowed_mentions.to_dict() == {"parse": []}


async def test_a_refusal_is_plain_text_and_a_fallback_shows_its_note(world, services):
    services.answers.reply = make_answer("My sources don't cover that.", citations=[], refused=True, as_of="")
    refused = await world.alice.slash(world.channel, "ask", question="Who won the 1930 World Cup?")

    assert refused.response.content == "My sources don't cover that."
    assert refused.response.embeds == []
    assert "nd:quotes" not in " ".join(custom_ids(refused.response))

    services.answers.reply = make_answer(note="The language model did not answer in time; this is an extractive answer.")
    fallback = await world.alice.slash(world.channel, "ask", question=QUESTION)
    assert "extractive answer" in fallback.response.embeds[0].description


async def test_an_error_in_the_answer_service_gives_an_apology_with_a_reference(world, services, caplog):
    services.answers.error = RuntimeError("retrieval exploded")

    with caplog.at_level(logging.ERROR):
        result = await world.alice.slash(world.channel, "ask", question=QUESTION)

    [apology] = result.followups
    assert apology.ephemeral
    ref = re.search(r"ref `([0-9a-f]{8})`", apology.content)[1]
    assert result.response.content == "Sorry, I couldn't answer this one."  # the public "thinking" is closed
    [record] = [r for r in caplog.records if ref in r.getMessage()]
    assert record.exc_info and "retrieval exploded" in str(record.exc_info[1])
    [error] = world.env.errors
    assert "retrieval exploded" in str(error)


async def test_a_private_ask_that_fails_is_apologised_for_in_place(world, services):
    services.answers.error = RuntimeError("boom")

    result = await world.alice.slash(world.channel, "ask", question=QUESTION, private=True)

    assert result.response.ephemeral and "ref `" in result.response.content
    assert result.followups == []
    assert len(world.env.errors) == 1


@pytest.mark.bot_settings(answer_timeout=30)
async def test_an_answer_past_the_timeout_is_an_apology_not_a_hang(world, services):
    services.answers.delay = 1000

    result = await world.alice.slash(world.channel, "ask", question=QUESTION, private=True)
    assert result.deferred
    await world.env.advance_time(31)

    assert result.response.content.startswith("Sorry, answering took too long (ref `")
    assert world.bot.gate.running == 0


async def test_the_answer_still_arrives_when_the_bot_database_fails(world, monkeypatch):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(world.bot.answer_log, "record_answer", broken)

    result = await world.alice.slash(world.channel, "ask", question=QUESTION)

    assert result.response.content == make_answer().text and result.response.embeds
    assert custom_ids(result.response) == []  # no buttons without a stored answer


async def test_a_failed_prune_costs_the_stored_answer_nothing(world, monkeypatch):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(world.bot.answer_log, "prune", broken)

    result = await world.alice.slash(world.channel, "ask", question=QUESTION)

    answer_id = answer_id_of(result.response)  # the buttons are there
    assert (await world.bob.click(result.response, custom_id=f"nd:vote:{answer_id}:up")).response.content == (
        "Thanks for the feedback 👍.")
