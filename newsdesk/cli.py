"""The `newsdesk` command: run the bot, feed it, ask it, evaluate it.

Errors become one line on stderr here (the traceback goes to the log at DEBUG); exit status 1 for
a failure, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from newsdesk import __version__
from newsdesk.feeds_cli import add_feed_commands, server_option
from newsdesk.settings import Settings, SettingsError, load_settings
from newsdesk.wiring import Services, configure_logging
from vectorstore.records import SHARED, libraries_seen, library_name

log = logging.getLogger("newsdesk")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CommandError(Exception):
    """One line for the user; exit status 1."""


def _fail(message: str) -> int:
    err.print(f"[red]error:[/red] {message}", markup=True)
    return 1


# ---- ingest / sources / forget / stats ------------------------------------------------------------


def cmd_ingest(services: Services, args: argparse.Namespace) -> int:
    from ingest.bulk import is_bulk_file, iter_articles
    from ingest.errors import IngestError

    items: list[str] = list(args.items)
    bulk = [Path(p) for p in args.json or []] + [Path(i) for i in items if is_bulk_file(Path(i)) and Path(i).exists()]
    singles = [i for i in items if not (is_bulk_file(Path(i)) and Path(i).exists())]
    if not bulk and not singles:
        raise CommandError("nothing to ingest: give URLs, files, or --json FILE")
    pipeline = services.pipeline
    library = library_name(args.server)
    failures = 0
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    show_bar = len(singles) > 1 or bool(bulk)

    def report(result: object, label: str) -> None:
        nonlocal failures
        if isinstance(result, IngestError):
            failures += 1
            err.print(f"failed: {label}: {result.message}")
        else:
            counts[result.status] += 1  # type: ignore[attr-defined]
            if not show_bar:
                out.print(f"{result.status}: {result.title} — {result.site} ({result.chunks} chunks)")  # type: ignore[attr-defined]

    with _progress(show_bar) as bar:
        task = bar.add_task("ingesting", total=len(singles))
        for item in singles:
            bar.update(task, description=_short(item))
            try:
                if Path(item).exists():
                    result: object = pipeline.ingest_file(Path(item), library)
                else:
                    result = asyncio.run(pipeline.ingest_url(item, library=library))
            except IngestError as error:
                result = error
            report(result, item)
            bar.advance(task)
        for path in bulk:
            try:
                articles = list(iter_articles(path))
            except IngestError as error:
                failures += 1
                err.print(f"failed: {path}: {error.message}")
                continue
            task = bar.add_task(path.name, total=len(articles))
            for result in pipeline.ingest_articles(articles, library):
                label = result.url if isinstance(result, IngestError) and result.url else str(path)  # type: ignore[union-attr]
                report(result, label)
                bar.advance(task)
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "nothing stored"
    out.print(f"{summary}" + (f", {failures} failed" if failures else ""))
    return 1 if failures else 0


def cmd_sources(services: Services, args: argparse.Namespace) -> int:
    docs = services.store.list_documents([library_name(args.server)])
    if args.json:
        keys = ("title", "site", "published", "chunks", "url", "doc_id", "ingested_at")
        print(json.dumps([{k: getattr(d, k) for k in keys} for d in docs], ensure_ascii=False, indent=1))
        return 0
    if not docs:
        out.print("No sources yet. Add some with: newsdesk ingest URL")
        return 0
    table = Table("date", "title", "site", "chunks", "url", box=None, pad_edge=False)
    for d in docs:
        table.add_row(d.published[:10] or "—", d.title, d.site, str(d.chunks), d.url)
    out.print(table)
    return 0


def cmd_forget(services: Services, args: argparse.Namespace) -> int:
    library = library_name(args.server)
    if args.all:
        if args.server is None or args.urls:
            raise CommandError("--all removes one server's whole library: give --server ID and no URL")
        docs = services.pipeline.forget_library(library)
        out.print(f"forgot {len(docs)} articles of server {args.server} ({sum(d.chunks for d in docs)} chunks)")
        return 0
    if not args.urls:
        raise CommandError("give the URLs to forget (or --server ID --all)")
    failures = 0
    for url in args.urls:
        doc = services.pipeline.forget(url, library)
        if doc is None:
            failures += 1
            err.print(f"not found: {url} is not among the sources")
        else:
            out.print(f"forgot: {doc.title} — {doc.site} ({doc.chunks} chunks)")
    return 1 if failures else 0


def cmd_stats(services: Services, args: argparse.Namespace) -> int:
    stats = services.stats(None if args.server is None else _seen_by(services, args.server))
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
        return 0
    for key, value in stats.items():
        out.print(f"{key.replace('_', ' '):>16}: {value if value != '' else '—'}")
    return 0


# ---- ask / eval -----------------------------------------------------------------------------------


def cmd_ask(services: Services, args: argparse.Namespace) -> int:
    from answer.render import format_terminal

    libraries = [SHARED] if args.server is None else _seen_by(services, args.server)
    answer = services.answers.answer_sync(" ".join(args.question), libraries=libraries)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        out.print(format_terminal(answer), markup=False)
    return 0


def cmd_eval(services: Services, args: argparse.Namespace) -> int:
    from answer.evaluate import format_table, run_eval
    from answer.llm import build_answerer

    with _progress(True) as bar:
        task = bar.add_task("evaluating", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        settings = services.settings
        llm = build_answerer(settings.llm, settings.answer)  # LLM_MODEL set: the model's answers are measured
        report = run_eval(args.corpus, args.queries, settings=settings, limit=args.limit, progress=progress, llm=llm)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(report))
    else:
        out.print(format_table(report))
    return 0


# ---- run / health ---------------------------------------------------------------------------------


def cmd_run(services: Services, args: argparse.Namespace) -> int:
    from bot.runner import run_bot

    return run_bot(services)


def cmd_health(services: Services, args: argparse.Namespace) -> int:
    from vectorstore.errors import StoreError

    try:
        store = services.store
        store.heartbeat()
        count = store.document_count()
    except StoreError as error:
        return _fail(f"store unavailable: {error}")
    out.print(f"ok: {store.location}, {count} documents, answers {services.answer_mode}")
    return 0


# ---- parser ---------------------------------------------------------------------------------------


def _seen_by(services: Services, server: int) -> list[str]:
    """The libraries a server's answers draw on, as the bot has them (DISCORD_SHARED_LIBRARY)."""
    return libraries_seen(server, services.settings.discord.shared_library)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdesk", description="A self-hosted Discord bot that answers from the articles you feed it, with citations."
    )
    parser.add_argument("--version", action="version", version=f"newsdesk {__version__}")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Callable, help_text: str) -> argparse.ArgumentParser:  # type: ignore[type-arg]
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=fn)
        return p

    command("run", cmd_run, "Start the Discord bot (needs DISCORD_TOKEN).")
    p = command("ingest", cmd_ingest, "Fetch and store articles: URLs, files (HTML, PDF, text) or JSON/JSONL lists.")
    p.add_argument("items", nargs="*", metavar="URL_OR_PATH")
    server_option(p, "into this server's library (default: the shared library)")
    p.add_argument("--json", action="append", metavar="FILE", type=Path,
                   help="bulk-import a JSON list / JSON Lines file of {url, title, body, published_at, source, author}")
    p = command("sources", cmd_sources, "List stored articles, newest first.")
    p.add_argument("--json", action="store_true", help="print JSON")
    server_option(p, "this server's library (default: the shared library)")
    p = command("forget", cmd_forget, "Remove articles (all their chunks) by URL.")
    p.add_argument("urls", nargs="*", metavar="URL")
    server_option(p, "from this server's library (default: the shared library)")
    p.add_argument("--all", action="store_true", help="with --server: remove that server's whole library")
    p = command("stats", cmd_stats, "Documents, chunks, embedding model, store location.")
    p.add_argument("--json", action="store_true", help="print JSON")
    server_option(p, "count what this server's answers draw on (default: the whole store)")
    p = command("ask", cmd_ask, "Ask a question; get a cited answer from the stored articles.")
    p.add_argument("question", nargs="+")
    server_option(p, "answer as in this server (its library and the shared one; default: the shared library)")
    p.add_argument("--json", action="store_true", help='print {"answer", "lead", "refused", "mode", "citations"}')
    p = command("eval", cmd_eval, "Evaluate retrieval and answers on a MultiHop-RAG style corpus and query set.")
    p.add_argument("--corpus", required=True, type=Path)
    p.add_argument("--queries", required=True, type=Path)
    p.add_argument("--limit", type=int, default=None, help="only the first N queries")
    p.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    p.add_argument("--json", action="store_true", help="print the JSON report")
    command("health", cmd_health, "Exit 0 when settings are valid and the store answers, else 1 with the reason.")
    add_feed_commands(sub, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings: Settings = load_settings(args.env_file)
    except SettingsError as error:
        return _fail(str(error))
    configure_logging(settings.log_level if args.command == "run" else "WARNING")
    # The bot waits for its Chroma server (CHROMA_CONNECT_RETRIES); `health` answers at once; other commands
    # wait a few seconds, so `docker compose run bot ingest` does not race a Chroma that is still starting.
    retries = {"run": None, "health": 0}.get(args.command, 5)
    services = Services(settings, store_retries=retries)
    try:
        return int(args.func(services, args) or 0)
    except CommandError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the edge: one line for the user, details in the log
        from ingest.errors import IngestError
        from vectorstore.errors import StoreError

        if isinstance(error, IngestError):
            return _fail(error.message)
        if isinstance(error, StoreError):
            return _fail(str(error))
        log.debug("command failed", exc_info=True)
        return _fail(f"{type(error).__name__}: {error}")


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, disable=not enabled, transient=False,
    )


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
