"""Questions out of messages, and a thread's earlier exchanges as history (list[Turn], oldest first).

The pure parts (`strip_mentions`, `thread_title`, `pair_turns`) take plain values and are tested
without Discord; `thread_turns` only reads the thread and hands the messages to them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence

import discord

from answer.types import Turn

log = logging.getLogger(__name__)

MAX_TURNS = 6  # earlier exchanges passed as history: enough for "and what about X?", bounded in cost
THREAD_NAME_LIMIT = 100
# Bot messages that are not answers (fair-use notes, apologies) never become history.
NOT_AN_ANSWER = ("You can ask again", "Sorry", "I'm restarting", "Queued:", "Ask me a question")
_QUESTION_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def strip_mentions(content: str, bot_id: int, role_id: int | None = None) -> str:
    """The question without the mention(s) of the bot (user mention, nickname form, or its managed role)."""
    pattern = rf"<@!?{bot_id}>" + (rf"|<@&{role_id}>" if role_id else "")
    return " ".join(re.sub(pattern, " ", content).split())


def thread_title(question: str) -> str:
    """A thread name from the question: its first line without control or format characters (a bidi
    override would make the name read backwards), cut to Discord's 100 characters."""
    first = next((line.strip() for line in question.splitlines() if line.strip()), "")
    first = " ".join("".join(c for c in first if unicodedata.category(c) not in ("Cc", "Cf")).split())
    first = first or "Question"
    return first if len(first) <= THREAD_NAME_LIMIT else first[: THREAD_NAME_LIMIT - 1].rstrip() + "…"


def pair_turns(messages: Sequence[tuple[bool, str]], limit: int = MAX_TURNS) -> list[Turn]:
    """(from_bot, text) messages, oldest first -> the last `limit` (question, answer) turns.

    A user message opens a turn; the bot's messages after it (an answer may span several parts)
    make its answer. Bot messages that are fair-use notes or apologies are skipped.
    """
    turns: list[list[str]] = []
    for from_bot, text in messages:
        text = text.strip()
        if not text:
            continue
        if not from_bot:
            turns.append([text, ""])
        elif turns and not text.startswith(NOT_AN_ANSWER):
            turns[-1][1] = f"{turns[-1][1]}\n{text}".strip()
    return [Turn(question=q, answer=a) for q, a in turns[-limit:]]


async def thread_turns(thread: discord.Thread, before: discord.Message, me: discord.ClientUser) -> list[Turn]:
    """The exchanges in `thread` before `before`, starting with the message the thread was opened from."""
    role_id = thread.guild.self_role.id if thread.guild.self_role else None
    collected: list[tuple[bool, str]] = []
    async for message in thread.history(limit=MAX_TURNS * 4, before=before):
        if message.type in _QUESTION_TYPES:
            collected.append((message.author.id == me.id, strip_mentions(message.content, me.id, role_id)))
    collected.reverse()
    starter = await _starter(thread)
    if starter is not None and len(collected) < MAX_TURNS * 4:  # else the window no longer reaches it
        collected.insert(0, (False, strip_mentions(starter.content, me.id, role_id)))
    return pair_turns(collected)


async def _starter(thread: discord.Thread) -> discord.Message | None:
    """The channel message the bot opened the thread from (same id as the thread)."""
    if thread.starter_message is not None:
        return thread.starter_message
    parent = thread.parent
    if not isinstance(parent, discord.TextChannel):
        return None
    try:
        return await parent.fetch_message(thread.id)
    except discord.HTTPException:  # deleted, or not opened from a message
        return None
