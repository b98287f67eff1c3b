"""The discord-free parts of the bot: rendering within limits, fair use, history, the votes file."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from answer.types import Turn
from bot.conversation import pair_turns, strip_mentions, thread_title
from bot.fairuse import Allowance, AnswerGate, GateClosed
from bot.render import (
    EMBED_TOTAL_LIMIT,
    build_embed,
    embed_fits,
    link,
    neutralise_links,
    plain,
    quote_embeds,
    render_answer,
    sources_page,
    split_text,
)
from bot.votes import AnswerLog
from tests.bot.fakes import FakeDoc, citation, make_answer

# ---- rendering ----------------------------------------------------------------------------------------


def test_split_prefers_sentence_ends_then_spaces_then_a_hard_cut():
    text = "One sentence here. " * 200
    parts = split_text(text, 100)
    assert all(len(p) <= 100 and p.endswith("here.") for p in parts)
    assert " ".join(parts) == text.strip()

    words = "word " * 100
    assert all(len(p) <= 50 and not p.endswith(" ") for p in split_text(words, 50))
    assert split_text("x" * 120, 50) == ["x" * 50, "x" * 50, "x" * 20]
    assert split_text("short") == ["short"]
    assert split_text("Line one\nLine two " + "y" * 30, 20)[0] == "Line one"


def test_titles_and_quotes_are_made_inert():
    title = "[click](http://evil.example) **bold** `code` <@&1> \\"
    shown = plain(title, 256)
    assert "](" not in shown and "\\*\\*bold\\*\\*" in shown and "\\`code\\`" in shown
    assert link(title, "https://ok.example/a b(c)", 300).endswith("(https://ok.example/a%20b%28c%29)")
    assert link("t", "javascript:alert(1)", 300) == "t"
    assert neutralise_links("see [here](https://x.example/p) now") == "see here (<https://x.example/p>) now"
    assert len(plain("é" * 1000, 256)) == 256


def test_every_embed_stays_within_discords_limits():
    huge = [(f"name {i} " + "n" * 300, "v" * 2000) for i in range(40)]
    embed = build_embed(title="t" * 300, description="d" * 5000, fields=huge, footer="f" * 3000)
    assert embed_fits(embed) and len(embed) <= EMBED_TOTAL_LIMIT
    assert "more not shown" in embed.footer.text

    cites = [citation(i, title="T" * 400, quote="q" * 3000) for i in range(1, 31)]
    answer = make_answer("x", citations=cites, note="n" * 5000)
    assert embed_fits(render_answer(answer).embed)
    quotes = quote_embeds(cites)
    assert len(quotes) > 1 and all(embed_fits(e) for e in quotes)
    assert sum(len(e.fields) for e in quotes) == 30
    docs = [FakeDoc(f"https://a.example/{'p' * 300}{i}", "T" * 500, site="s" * 200) for i in range(25)]
    assert embed_fits(sources_page(docs, 1))


def test_refusals_have_no_embed_and_mentions_are_escaped():
    refused = render_answer(make_answer("Nothing on that @everyone.", citations=[], refused=True, note="why"))
    assert refused.embed is None
    assert refused.parts == ["Nothing on that @\u200beveryone.\n-# why"]
    assert render_answer(make_answer("", citations=[], refused=True)).parts == ["My sources don't cover that."]


# ---- fair use -----------------------------------------------------------------------------------------


def test_the_old_cooldown_is_an_allowance_of_one():
    now = [100.0]
    cooldown = Allowance(1, 10, clock=lambda: now[0])
    assert cooldown.try_take(1) == 0
    assert cooldown.try_take(1) == 10 and cooldown.try_take(2) == 0
    now[0] += 9.2
    assert cooldown.try_take(1) == pytest.approx(0.8) and Allowance.wait_text(0.8) == "1 s"
    now[0] += 1
    assert cooldown.try_take(1) == 0
    assert Allowance(1, 0, clock=lambda: now[0]).try_take(1) == Allowance(1, 0).try_take(1) == 0  # 0: no limit


def test_an_allowance_lets_a_burst_through_and_refills_over_time():
    now = [0.0]
    allowance = Allowance(3, 20, clock=lambda: now[0])
    assert [allowance.try_take(1) for _ in range(3)] == [0, 0, 0]  # a question and two quick follow-ups
    assert allowance.try_take(1) == pytest.approx(20)  # the fourth in a row waits for one to come back
    now[0] += 5
    assert allowance.try_take(1) == pytest.approx(15) and allowance.try_take(2) == 0  # others are not held up
    now[0] += 15
    assert allowance.try_take(1) == 0 and allowance.try_take(1) == pytest.approx(20)
    now[0] += 600
    assert [allowance.try_take(1) for _ in range(4)][:3] == [0, 0, 0]  # never more than the burst saved up


def test_a_server_ceiling_holds_however_many_members_ask():
    now = [0.0]
    allowance = Allowance(3, 20, server_per_minute=4, clock=lambda: now[0])
    taken = [allowance.try_take(user, guild_id=7) for user in (1, 1, 2, 3)]
    assert taken == [0, 0, 0, 0]
    assert allowance.try_take(4, guild_id=7) == pytest.approx(15)  # one question back every 60/4 s
    assert allowance.try_take(4, guild_id=8) == 0  # another server has its own ceiling
    assert allowance.try_take(4, guild_id=None) == 0  # a DM counts against the member only
    now[0] += 15
    assert allowance.try_take(5, guild_id=7) == 0


def test_the_allowance_setting_and_the_old_cooldown(monkeypatch):
    from newsdesk.settings import DiscordSettings

    default = DiscordSettings(_env_file=None)  # type: ignore[call-arg]
    assert default.allowance == (3, 20.0) and default.server_ceiling == 60
    monkeypatch.setenv("DISCORD_ASK_COOLDOWN", "10")  # an .env copied from an older .env.example
    old = DiscordSettings(_env_file=None)  # type: ignore[call-arg]
    assert old.allowance == (1, 10.0) and old.server_ceiling == 0  # what it meant: no server ceiling
    monkeypatch.setenv("DISCORD_SERVER_ASKS_PER_MINUTE", "12")
    assert DiscordSettings(_env_file=None).server_ceiling == 12  # type: ignore[call-arg]
    monkeypatch.delenv("DISCORD_SERVER_ASKS_PER_MINUTE")
    monkeypatch.setenv("DISCORD_ASK_COOLDOWN", "")
    monkeypatch.setenv("DISCORD_ASK_BURST", "5")
    assert DiscordSettings(_env_file=None).allowance == (5, 20.0)  # type: ignore[call-arg]


def test_the_example_env_sets_the_new_allowance_not_the_old_cooldown():
    from pathlib import Path

    from newsdesk.settings import load_settings

    example = Path(__file__).resolve().parents[2] / ".env.example"  # what the Quick start copies to .env
    assert "\nDISCORD_ASK_COOLDOWN=\n" in example.read_text()  # documented, left empty
    assert load_settings(example).discord.allowance == (3, 20.0)


@pytest.mark.asyncio
async def test_the_gate_caps_answers_and_serves_in_order():
    gate = AnswerGate(2)
    started: list[int] = []
    told: dict[int, list[int]] = {}

    async def work(i: int) -> int:
        started.append(i)
        await asyncio.sleep(0.01)
        return i

    async def ask(i: int) -> int:
        async def queued(ahead: int) -> None:
            told.setdefault(i, []).append(ahead)

        return await gate.run(work(i), queued)

    results = await asyncio.gather(*(ask(i) for i in range(6)))

    assert results == list(range(6)) and started == list(range(6))
    assert 0 not in told and 1 not in told
    assert told[2][0] == 2 and told[5][0] == 5
    assert all(seq == sorted(seq, reverse=True) for seq in told.values())
    assert gate.running == 0 and gate.waiting == 0


@pytest.mark.asyncio
async def test_draining_finishes_running_answers_and_refuses_queued_ones():
    gate = AnswerGate(1)
    slow = asyncio.create_task(gate.run(asyncio.sleep(0.05, result="done")))
    queued = asyncio.create_task(gate.run(asyncio.sleep(0, result="never")))
    await asyncio.sleep(0)

    assert await gate.drain(timeout=1) is True
    assert await slow == "done"
    with pytest.raises(GateClosed):
        await queued
    with pytest.raises(GateClosed):
        await gate.run(asyncio.sleep(0))

    stuck = AnswerGate(1)
    hang = asyncio.create_task(stuck.run(asyncio.sleep(10)))
    await asyncio.sleep(0)
    assert await stuck.drain(timeout=0.01) is False
    hang.cancel()


# ---- conversations ------------------------------------------------------------------------------------


def test_questions_and_history_from_messages():
    assert strip_mentions("<@42>  what about <@!42> AMD? <@&7>", 42, 7) == "what about AMD?"
    assert strip_mentions("<@43> hi", 42) == "<@43> hi"
    assert thread_title("\n  First line?\nsecond") == "First line?"
    assert thread_title("") == "Question"
    assert len(thread_title("a" * 300)) == 100

    messages = [
        (False, "Q1"), (True, "A1 part 1"), (True, "A1 part 2"),
        (False, "Q2"), (True, "You can ask again in 5 s."),
        (True, "Sorry, something went wrong on my side (ref `abcd1234`)."),
        (False, "Q3"), (True, "A3"),
    ]
    assert pair_turns(messages) == [Turn("Q1", "A1 part 1\nA1 part 2"), Turn("Q2", ""), Turn("Q3", "A3")]
    assert pair_turns(messages, limit=1) == [Turn("Q3", "A3")]
    assert pair_turns([(True, "orphan answer")]) == []


# ---- the votes file -----------------------------------------------------------------------------------


def test_answer_log_keeps_one_vote_per_member_and_answer(tmp_path):
    log = AnswerLog(tmp_path / "sub" / "bot.sqlite3")
    first = log.record_answer(make_answer(), question="Q?", user_id=1, guild_id=2, channel_id=3)
    second = log.record_answer(make_answer("Other [1].", n=1), question="Q2?", user_id=1, guild_id=None, channel_id=None)

    assert [log.vote(first, 7, 1), log.vote(first, 7, 1), log.vote(first, 7, -1), log.vote(second, 7, 1)] == [
        "recorded", "unchanged", "changed", "recorded",
    ]
    assert log.vote(999, 7, 1) == "unknown"
    assert log.tally(first) == (0, 1)
    stored = log.get_answer(first)
    assert stored is not None and stored.citations == make_answer().citations and stored.question == "Q?"
    assert log.get_answer(999) is None
    with pytest.raises(ValueError):
        log.vote(first, 7, 0)
    log.close()

    with sqlite3.connect(tmp_path / "sub" / "bot.sqlite3") as db:
        rows = db.execute("SELECT answer_id, user_id, vote FROM votes ORDER BY answer_id").fetchall()
    assert rows == [(first, 7, -1), (second, 7, 1)]


def test_prune_forgets_old_unvoted_answers_only(tmp_path):
    from datetime import UTC, datetime, timedelta

    log = AnswerLog(tmp_path / "bot.sqlite3")
    old_voted, old_unvoted, recent = (
        log.record_answer(make_answer(), question=q, user_id=1, guild_id=None, channel_id=None) for q in "ABC")
    log.vote(old_voted, 7, 1)
    later = datetime.now(UTC) + timedelta(days=100)  # the first two are 100 days old by then...
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        db.execute("UPDATE answers SET created_at = ? WHERE id = ?", (later.isoformat(timespec="seconds"), recent))

    assert log.prune(90, now=later) == 1
    assert log.get_answer(old_unvoted) is None
    assert log.get_answer(old_voted) is not None and log.tally(old_voted) == (1, 0)
    assert log.get_answer(recent) is not None  # ...and this one was given that day
    assert log.prune(90, now=later) == 0
    log.close()


def test_quotes_show_each_statements_passage_and_old_answers_still_show_theirs(tmp_path):
    import dataclasses
    import json as jsonlib

    passages = ("Nvidia announced Rubin at GTC.", "Rubin ships in the second half of 2026.")
    answer = make_answer("Nvidia announced a new chip [1].", n=1)
    cited = dataclasses.replace(answer.citations[0], passages=passages)
    [embed] = quote_embeds([cited])
    shown = embed.fields[0].value
    assert "“Nvidia announced Rubin at GTC.”\n“Rubin ships in the second half of 2026.”" in shown

    log = AnswerLog(tmp_path / "bot.sqlite3")
    stored_id = log.record_answer(dataclasses.replace(answer, citations=[cited]), question="Q?", user_id=1,
                                  guild_id=2, channel_id=3)
    assert log.get_answer(stored_id).citations[0].passages == passages
    log.close()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:  # a row written before citations had passages
        old = [{k: v for k, v in c.to_dict().items() if k != "passages"} for c in answer.citations]
        db.execute("UPDATE answers SET citations = ? WHERE id = ?", (jsonlib.dumps(old), stored_id))
    log = AnswerLog(tmp_path / "bot.sqlite3")
    [before] = log.get_answer(stored_id).citations
    assert before.passages == () and before.quote == answer.citations[0].quote
    assert before.quote in quote_embeds([before])[0].fields[0].value
    log.close()
