"""Fair use under load: 20 members asking at once while an ingest runs; cooldown; queue messages."""

from __future__ import annotations

import re

import pytest

from bot.render import queued_text
from tests.bot.fakes import make_answer

pytestmark = pytest.mark.asyncio


def queue_edits(env, interaction_token_part: str) -> list[int]:
    """The 'Queued: N …' numbers the bot showed on one interaction's original, in order."""
    shown = []
    for request in env.http_requests:
        body = request.json if isinstance(request.json, dict) else {}
        if request.method == "PATCH" and interaction_token_part in request.path and "@original" in request.path:
            if match := re.match(r"Queued: (\d+) question", body.get("content") or ""):
                shown.append(int(match[1]))
    return shown


@pytest.mark.bot_settings(ask_cooldown=30, max_concurrent_answers=2)
async def test_twenty_members_asking_while_an_ingest_runs(world, services):
    services.pipeline.delay = 100  # an ingest that takes a long while
    services.answers.delay = 10  # each answer takes 10 s; two at a time
    members = [world.guild.add_member(world.env.create_user(f"member{i}")) for i in range(20)]
    started = world.env.now()

    ingest = await world.admin.slash(world.channel, "ingest", url="https://aiwire.example/news/long-read")
    asks = [await m.slash(world.channel, "ask", question=f"Question {i}?") for i, m in enumerate(members)]
    again = await members[0].slash(world.channel, "ask", question="One more?")

    assert (world.env.now() - started).total_seconds() < 3  # everything acknowledged at once
    assert ingest.acknowledged and ingest.response.content.startswith("⏳ fetching…")
    assert all(a.acknowledged for a in asks)
    assert [a.response.content for a in asks[:2]] == ["", ""]  # thinking: being answered
    assert [a.response.content for a in asks[2:]] == [queued_text(i) for i in range(2, 20)]
    assert asks[2].response.content == "Queued: 2 questions ahead of yours…"
    assert again.ephemeral and again.response.content == "You can ask again in 30 s."

    await world.env.advance_time(100)

    assert services.answers.most_active == 2
    assert [a.response.content for a in asks] == [make_answer().text] * 20
    assert all(a.response.embeds for a in asks)
    assert [q for q, _ in services.answers.calls] == [f"Question {i}?" for i in range(20)]  # first come, first served
    last = asks[-1]._interaction.token  # SimCord keeps no public handle on an interaction's edits
    positions = queue_edits(world.env, last)
    assert positions == list(range(19, 2, -2))  # two answers finish every 10 s
    assert ingest.response.embeds[0].title == "Nvidia ships Blackwell"

    after = await members[0].slash(world.channel, "ask", question="One more?")  # the cooldown is over
    await world.env.advance_time(10)
    assert after.response.content == make_answer().text


@pytest.mark.bot_settings(ask_cooldown=30)
async def test_the_cooldown_counts_down(world, services):
    await world.alice.slash(world.channel, "ask", question="First?")
    await world.env.advance_time(21.5)

    refused = await world.alice.slash(world.channel, "ask", question="Second?")
    other = await world.bob.slash(world.channel, "ask", question="Bob's first?")

    assert refused.ephemeral and refused.response.content == "You can ask again in 9 s."
    assert other.response.content == make_answer().text
    assert [q for q, _ in services.answers.calls] == ["First?", "Bob's first?"]


@pytest.mark.bot_settings(ask_cooldown=None)  # the default allowance: 3 in a row, one back every 20 s
async def test_a_follow_up_right_after_an_answer_is_answered_but_a_burst_is_not(world, services):
    first = await world.alice.slash(world.channel, "ask", question="Who leads Halcyon Labs?")
    await world.env.advance_time(2)
    follow_up = await world.alice.slash(world.channel, "ask", question="And who funded it?")
    assert first.response.content == follow_up.response.content == make_answer().text

    burst = []
    for i in range(8):  # ten questions in ten seconds, counting the two above
        await world.env.advance_time(1)
        burst.append(await world.alice.slash(world.channel, "ask", question=f"Question {i}?"))
    refused = [r for r in burst if r.response.content.startswith("You can ask again in")]
    assert refused and all(r.ephemeral for r in refused)
    assert len(services.answers.calls) < 10
    other = await world.bob.slash(world.channel, "ask", question="Bob's first?")
    assert other.response.content == make_answer().text  # one member's burst holds nobody else up
