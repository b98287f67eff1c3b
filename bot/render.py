"""Answer -> Discord message parts and embeds, always within Discord's limits. Pure functions.

discord.py checks none of the size limits (see the GUIDE), so everything here trims and splits itself.
Article titles and quotes are other people's text: markdown in them is escaped, masked links are
neutralised (a title must not become a link to somewhere else), and nothing here can ping anyone
(the senders also pass AllowedMentions.none()).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import discord
from discord.utils import escape_markdown, escape_mentions

from answer.render import freshness
from answer.types import Answer, Citation

MESSAGE_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000

COLOUR = discord.Colour.blurple()
_MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*<?([^()\s<>]*)>?\s*\)")
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*\s+|\n\s*")


# ---- text helpers -----------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def neutralise_links(text: str) -> str:
    """Masked links `[text](url)` become `text (<url>)`: what you see is where it goes."""
    return _MASKED_LINK.sub(lambda m: f"{m.group(1)} (<{m.group(2)}>)" if m.group(2) else m.group(1), text)


def plain(text: str, limit: int) -> str:
    """Someone else's text made inert: no markdown, no link syntax, one line, at most `limit` chars."""
    text = " ".join(text.split())
    text = text.replace("\\", "∖").replace("[", "(").replace("]", ")")
    return clip(escape_markdown(clip(text, limit)), limit)


def safe_url(url: str) -> str | None:
    """An http(s) URL that cannot break out of a markdown link, or None."""
    url = url.strip()
    if not re.match(r"https?://[^\s/]", url, re.IGNORECASE):
        return None
    return quote(url, safe=":/?#@!$&'*+,;=%~[]")


def link(text: str, url: str, limit: int) -> str:
    """`[text](url)` within `limit` characters (the text is trimmed, never the URL), or plain text."""
    target = safe_url(url)
    if target is None or len(target) + 8 > limit:
        return plain(text, limit)
    return f"[{plain(text, limit - len(target) - 4) or 'link'}]({target})"


def day(iso: str) -> str:
    return iso[:10] if iso else "date unknown"


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut `text` into parts of at most `limit` characters, at sentence ends where possible."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = 0
        for match in _SENTENCE_END.finditer(window):
            if match.start() + len(match.group().rstrip()) <= limit:
                cut = match.end()
        if cut < limit // 3:  # no sentence end in a sensible place: a space, else a hard cut
            space = window.rfind(" ", 0, limit)
            cut = space + 1 if space > limit // 3 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


# ---- embeds -----------------------------------------------------------------------------------------


def build_embed(
    *,
    title: str = "",
    description: str = "",
    fields: Sequence[tuple[str, str]] = (),
    footer: str = "",
    url: str | None = None,
    inline: bool = False,
) -> discord.Embed:
    """An embed with every part trimmed to its limit and the whole under 6000 characters."""
    fields = [(clip(n, FIELD_NAME_LIMIT) or "\u200b", clip(v, FIELD_VALUE_LIMIT) or "\u200b") for n, v in fields]
    dropped = max(0, len(fields) - FIELD_COUNT_LIMIT)
    fields = fields[:FIELD_COUNT_LIMIT]
    title, description = clip(title, TITLE_LIMIT), clip(description, DESCRIPTION_LIMIT)

    def footer_text() -> str:
        more = f"{dropped} more not shown" if dropped else ""
        return " · ".join(p for p in (clip(footer, FOOTER_LIMIT - len(more) - 3), more) if p)

    def total() -> int:
        return len(title) + len(description) + len(footer_text()) + sum(len(n) + len(v) for n, v in fields)

    while total() > EMBED_TOTAL_LIMIT and fields:
        fields.pop()
        dropped += 1
    if total() > EMBED_TOTAL_LIMIT:
        description = clip(description, max(0, len(description) - (total() - EMBED_TOTAL_LIMIT)))
    embed = discord.Embed(title=title or None, description=description or None, colour=COLOUR, url=url)
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=inline)
    if footer_text():
        embed.set_footer(text=footer_text())
    return embed


def embed_fits(embed: discord.Embed) -> bool:
    """Every limit Discord enforces on one embed (used by the tests as the oracle)."""
    data = embed.to_dict()
    fields = data.get("fields", [])
    return (
        len(data.get("title", "")) <= TITLE_LIMIT
        and len(data.get("description", "")) <= DESCRIPTION_LIMIT
        and len(fields) <= FIELD_COUNT_LIMIT
        and all(len(f["name"]) <= FIELD_NAME_LIMIT and len(f["value"]) <= FIELD_VALUE_LIMIT for f in fields)
        and len(data.get("footer", {}).get("text", "")) <= FOOTER_LIMIT
        and len(embed) <= EMBED_TOTAL_LIMIT
    )


# ---- answers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedAnswer:
    parts: list[str]  # message contents, each <= 2000 characters
    embed: discord.Embed | None  # the numbered sources, sent with the last part


def render_answer(answer: Answer) -> RenderedAnswer:
    # Mentions are escaped as well as never allowed to ping: an answer quoting "@everyone" from an
    # article should read as text, not as a (silenced) mention.
    text = escape_mentions(neutralise_links(answer.text)).strip() or "My sources don't cover that."
    if answer.refused or not answer.citations:
        if answer.note:
            text += f"\n-# {plain(answer.note, 300)}"
        return RenderedAnswer(split_text(text), None)
    return RenderedAnswer(split_text(text), sources_embed(answer))


def sources_embed(answer: Answer) -> discord.Embed:
    fields = [
        (f"[{c.n}] {plain(c.site, 120) or 'source'} · {day(c.published)}", link(c.title or c.url, c.url, 1000))
        for c in answer.citations
    ]
    footer = freshness(answer)
    note = f"*{plain(answer.note, 500)}*" if answer.note else ""
    return build_embed(title="Sources", description=note, fields=fields, footer=footer)


def quote_embeds(citations: Sequence[Citation]) -> list[discord.Embed]:
    """The quoted passage of each source, packed into as few embeds as the limits allow."""
    fields = []
    for c in citations:
        if c.passages:  # one passage per statement citing it
            each = max(60, 860 // len(c.passages) - 4)
            said = "\n".join(f"“{plain(p, each)}”" for p in c.passages)[:880]
            value = f"{said}\n{link(c.title or 'source', c.url, 130)}"
        elif c.quote:
            value = f"“{plain(c.quote, 880)}”\n{link(c.title or 'source', c.url, 130)}"
        else:
            value = link(c.title, c.url, 1000)
        fields.append((f"[{c.n}] {plain(c.title or c.site, 200)}", value))
    embeds: list[discord.Embed] = []
    batch: list[tuple[str, str]] = []
    for field in fields:
        size = sum(len(n) + len(v) for n, v in [*batch, field])
        if batch and (len(batch) >= 10 or size > EMBED_TOTAL_LIMIT - 200):
            embeds.append(build_embed(title="Quoted passages", fields=batch))
            batch = []
        batch.append(field)
    if batch:
        embeds.append(build_embed(title="Quoted passages", fields=batch))
    return embeds or [build_embed(title="Quoted passages", description="This answer quotes no sources.")]


def queued_text(ahead: int) -> str:
    return f"Queued: {ahead} question{'s' if ahead != 1 else ''} ahead of yours…"


# ---- admin cards --------------------------------------------------------------------------------------

STATUS_WORDS = {
    "new": "✅ New: stored.",
    "updated": "🔄 Updated: the article changed, its old version was replaced.",
    "unchanged": "☑️ Unchanged: already stored, nothing to do.",
}


def ingest_card(result: object) -> discord.Embed:
    """title, site, date, chunk count and new / updated / unchanged of an IngestResult."""
    r = result
    status = str(getattr(r, "status", ""))
    url = str(getattr(r, "url", ""))
    return build_embed(
        title=plain(str(getattr(r, "title", "")) or url, TITLE_LIMIT),
        url=safe_url(url),
        description=STATUS_WORDS.get(status, status),
        fields=[
            ("Site", plain(str(getattr(r, "site", "")), 200) or "—"),
            ("Date", day(str(getattr(r, "published", "")))),
            ("Chunks", str(getattr(r, "chunks", 0))),
        ],
        inline=True,
    )


def sources_page(docs: Sequence[object], page: int, per_page: int = 10) -> discord.Embed:
    """One page (0-based) of the stored articles, newest first as given."""
    pages = max(1, -(-len(docs) // per_page))
    page = min(max(page, 0), pages - 1)
    lines = []
    for i, d in enumerate(docs[page * per_page : (page + 1) * per_page], start=page * per_page + 1):
        title = str(getattr(d, "title", "")) or str(getattr(d, "url", ""))
        site = plain(str(getattr(d, "site", "")), 60)
        lines.append(f"**{i}.** {link(title, str(getattr(d, 'url', '')), 330)} — {site} · {day(str(getattr(d, 'published', '')))}")
    description = "\n".join(lines) or "No sources yet. An admin can add some with /ingest."
    footer = f"Page {page + 1}/{pages} · {len(docs)} article{'s' if len(docs) != 1 else ''}, newest first"
    return build_embed(title="Sources", description=description, footer=footer)


def stats_embed(stats: dict[str, object]) -> discord.Embed:
    def show(key: str) -> str:
        value = stats.get(key)
        return plain(str(value), 200) if value not in (None, "") else "—"

    return build_embed(
        title="newsdesk stats",
        fields=[
            ("Documents", show("documents")),
            ("Chunks", show("chunks")),
            ("Last ingest", show("last_ingest")),
            ("Newest article", day(str(stats.get("newest_article") or ""))),
            ("Last feed poll", show("last_poll")),
            ("Embedding model", show("embedding_model")),
            ("Answer mode", show("answer_mode")),
        ],
        inline=True,
    )
