"""Mentions open a thread; follow-ups in the bot's thread need no mention and carry the history."""

from __future__ import annotations

import pytest

from answer.types import Turn
from tests.bot.conftest import custom_ids
from tests.bot.fakes import make_answer

pytestmark = pytest.mark.asyncio


def bot_mention(world) -> str:
    return world.bot.user.mention


async def test_a_mention_opens_a_thread_and_follow_ups_carry_the_history(world, services):
    services.answers.reply = lambda q: make_answer(f"Answer to: {q} [1].")

    await world.alice.send(world.channel, f"{bot_mention(world)} What did Nvidia announce at GTC this year?")

    [thread] = world.channel.threads
    assert thread.name == "What did Nvidia announce at GTC this year?"
    [first] = thread.history()
    assert first.content == "Answer to: What did Nvidia announce at GTC this year? [1]."
    assert first.embeds and custom_ids(first)

    await world.alice.send(thread, "And what about AMD?")  # no mention needed in the bot's thread
    await world.bob.send(thread, "Which of them ships first?")

    assert [q for q, _ in services.answers.calls] == [
        "What did Nvidia announce at GTC this year?", "And what about AMD?", "Which of them ships first?",
    ]
    assert services.answers.calls[0][1] == []
    assert services.answers.calls[1][1] == [
        Turn("What did Nvidia announce at GTC this year?", "Answer to: What did Nvidia announce at GTC this year? [1]."),
    ]
    assert services.answers.calls[2][1] == [
        *services.answers.calls[1][1], Turn("And what about AMD?", "Answer to: And what about AMD? [1]."),
    ]
    assert [m.content for m in thread.history()][-1] == "Answer to: Which of them ships first? [1]."


async def test_history_is_bounded_and_long_questions_make_short_thread_names(world, services):
    question = "Why " + "really " * 40 + "?"
    await world.alice.send(world.channel, f"{bot_mention(world)} {question}")
    [thread] = world.channel.threads
    assert len(thread.name) == 100 and thread.name.endswith("…")

    for i in range(8):
        await world.alice.send(thread, f"Follow-up number {i}?")

    history = services.answers.calls[-1][1]
    assert len(history) == 6
    assert history[-1].question == "Follow-up number 6?"


async def test_messages_without_a_mention_and_other_bots_are_ignored(world, services):
    other_bot = world.guild.add_member(world.env.create_user("otherbot", bot=True))
    world.configure(auto_channels=[])

    await world.alice.send(world.channel, "What did Nvidia announce?")
    await other_bot.send(world.channel, f"{bot_mention(world)} What did Nvidia announce?")
    await world.alice.send(world.channel, "@everyone what did Nvidia announce?")

    assert services.answers.calls == []
    assert world.channel.threads == []


async def test_an_empty_mention_gets_a_hint_and_the_bots_own_messages_are_ignored(world, services):
    await world.alice.send(world.channel, bot_mention(world))

    assert services.answers.calls == []
    assert world.channel.last_message.content.startswith("Ask me a question after the mention")
    assert world.channel.threads == []  # its own hint did not trigger anything either


async def test_auto_channels_answer_without_a_mention(world, services):
    world.configure(auto_channels=[world.channel.id])

    await world.alice.send(world.channel, "Is Blackwell shipping?")

    [thread] = world.channel.threads
    assert thread.history()[0].content == make_answer().text
    assert services.answers.calls == [("Is Blackwell shipping?", [])]


@pytest.mark.bot_settings(ask_cooldown=30)
async def test_the_cooldown_applies_to_mentions_too(world, services):
    await world.alice.send(world.channel, f"{bot_mention(world)} First question?")
    [thread] = world.channel.threads

    await world.alice.send(thread, "Second question?")

    assert len(services.answers.calls) == 1
    assert thread.last_message.content == "You can ask again in 30 s."
