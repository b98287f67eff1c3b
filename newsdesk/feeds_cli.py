"""`newsdesk feeds add|remove|list|poll`: feed subscriptions from the command line.

Hooked into the parser by `newsdesk.cli.build_parser` through `add_feed_commands`. Failures are
IngestErrors, which `newsdesk.cli.main` prints as one line (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from vectorstore.records import library_name

if TYPE_CHECKING:
    from ingest.feedpoll import FeedPoller, FeedReport
    from ingest.feedstore import FeedStore
    from newsdesk.wiring import Services

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Command = Callable[[str, Callable, str], argparse.ArgumentParser]  # type: ignore[type-arg]


def add_feed_commands(sub: argparse._SubParsersAction, command: Command) -> None:  # type: ignore[type-arg]
    """`newsdesk feeds ...`; `command(name, fn, help)` is build_parser's helper."""
    p = command("feeds", cmd_list, "Subscribe to RSS / Atom feeds, list them, poll them (default: list).")
    actions = p.add_subparsers(dest="feeds_action", metavar="ACTION")
    a = actions.add_parser("add", help="Subscribe to a feed (checked by fetching it once).")
    a.add_argument("url", metavar="URL", help="the feed's address, or a web page that links to its feed")
    a.add_argument("--channel", type=int, default=None, metavar="CHANNEL_ID",
                   help="Discord channel id where the running bot posts new articles")
    server_option(a, "follow it for this server's library (default: the shared library)")
    a.set_defaults(func=cmd_add)
    r = actions.add_parser("remove", help="Unsubscribe (the articles already stored stay).")
    r.add_argument("url", metavar="URL")
    server_option(r, "that server's subscription (default: the shared library's)")
    r.set_defaults(func=cmd_remove)
    lst = actions.add_parser("list", help="Feeds, with their last poll and failures.")
    lst.add_argument("--json", action="store_true", help="print JSON")
    server_option(lst, "only that server's feeds (default: every feed)")
    lst.set_defaults(func=cmd_list)
    poll = actions.add_parser("poll", help="Poll the feeds and ingest new entries (forever, or --once).")
    poll.add_argument("--once", action="store_true", help="poll every feed now, once, and exit")
    poll.set_defaults(func=cmd_poll)


def server_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """`--server ID`: act on one Discord server's library (the CLI's commands and these share it)."""
    parser.add_argument("--server", type=int, default=None, metavar="ID", help=f"a Discord server id: {help_text}")


def _store(services: Services) -> FeedStore:
    from ingest.feedstore import FeedStore

    return FeedStore(services.paths.feeds_db)


def _poller(services: Services, *, with_pipeline: bool) -> FeedPoller:
    from ingest.feedpoll import FeedPoller

    settings = services.settings
    pipeline = services.pipeline if with_pipeline else None
    return FeedPoller(_store(services), pipeline, settings.feeds, settings.fetch)


def cmd_add(services: Services, args: argparse.Namespace) -> int:
    poller = _poller(services, with_pipeline=False)
    done = asyncio.run(poller.subscribe(args.url, channel_id=args.channel, guild_id=args.server,
                                        library=library_name(args.server)))
    verb = "subscribed" if done.created else "already subscribed, updated"
    entries = f"{done.entries} entr{'y' if done.entries == 1 else 'ies'}"
    out.print(f"{verb}: {done.title} — {done.url} ({entries})")
    if done.created:
        out.print("New entries are ingested at the next poll: `newsdesk feeds poll --once`, or by the running bot.")
    return 0


def cmd_remove(services: Services, args: argparse.Namespace) -> int:
    feed = asyncio.run(_poller(services, with_pipeline=False).unsubscribe(args.url, library_name(args.server)))
    if feed is None:
        err.print(f"not found: {args.url} is not among the feeds (see `newsdesk feeds list`)")
        return 1
    out.print(f"unsubscribed: {feed.title} — {feed.url} (its articles stay among the sources)")
    return 0


def cmd_list(services: Services, args: argparse.Namespace) -> int:
    server = getattr(args, "server", None)  # `newsdesk feeds` alone lists every feed
    feeds = _store(services).list(None if server is None else library_name(server))
    if getattr(args, "json", False):
        keys = ("url", "library", "title", "channel_id", "last_poll_at", "failures", "last_error", "next_poll_at",
                "seen")
        print(json.dumps([{k: getattr(f, k) for k in keys} for f in feeds], ensure_ascii=False, indent=1))
        return 0
    if not feeds:
        out.print("No feeds yet. Add one with: newsdesk feeds add URL")
        return 0
    table = Table("title", "url", "library", "channel", "seen", "last poll", "failures", "status", box=None,
                  pad_edge=False)
    for f in feeds:
        status = f"retry after {f.next_poll_at[:16]}: {f.last_error}" if f.failures else ("ok" if f.last_poll_at else "not polled yet")
        table.add_row(f.title, f.url, f.library, str(f.channel_id or "—"), str(f.seen), f.last_poll_at[:16] or "never",
                      str(f.failures), status)
    out.print(table)
    return 0


def cmd_poll(services: Services, args: argparse.Namespace) -> int:
    poller = _poller(services, with_pipeline=True)
    if args.once:
        reports = asyncio.run(poller.poll(force=True))
        if not reports:
            out.print("No feeds yet. Add one with: newsdesk feeds add URL")
        for report in reports:
            _print_report(report)
        return 1 if any(r.status == "failed" for r in reports) else 0
    out.print(f"polling every {services.settings.feeds.poll_interval:g} s; Ctrl-C to stop")

    def print_reports(reports: list[FeedReport]) -> None:
        for report in reports:
            _print_report(report)

    asyncio.run(poller.run_forever(print_reports))
    return 0


def _print_report(report: FeedReport) -> None:
    name = report.feed.title or report.feed.url
    if report.status == "failed":
        err.print(f"failed: {name}: {report.error}")
        return
    if report.status == "not_modified":
        out.print(f"{name}: not modified")
        return
    parts = [f"{len(report.new)} new"]
    for count, label in ((report.stored - len(report.new), "already known"), (len(report.refused), "refused"),
                         (len(report.failed), "failed"), (report.skipped, "older skipped"),
                         (report.waiting, "left for the next poll")):
        if count:
            parts.append(f"{count} {label}")
    out.print(f"{name}: {', '.join(parts)}")
    for article in report.new:
        out.print(f"  new: {article.title} — {article.site}" + (" (from the feed's text)" if article.via == "feed" else ""))
    for url, why in report.refused:
        err.print(f"  refused: {url}: {why}")
    for url, why in report.failed:
        err.print(f"  failed: {url}: {why}")
