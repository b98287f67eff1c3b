"""Bulk import of already-extracted articles: a JSON list or JSON Lines file with the fields
`url, title, body, published_at, source, author` (the MultiHop-RAG corpus format)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import BulkFormatError, IngestError
from .extract import Article, clean_text
from .urls import site_host

REQUIRED = ("url", "title", "body")


def parse_date(value: Any) -> datetime | None:
    """ISO 8601 (with or without time / zone) or epoch seconds; None when absent or unreadable."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=UTC)
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def article_from_record(record: Any, where: str) -> Article:
    if not isinstance(record, dict):
        raise BulkFormatError(f"{where}: expected an object with url, title and body.")
    missing = [k for k in REQUIRED if not isinstance(record.get(k), str) or not record[k].strip()]
    if missing:
        raise BulkFormatError(f"{where}: missing or empty {', '.join(missing)}.", url=record.get("url"))
    url = record["url"].strip()
    if not url.lower().startswith(("http://", "https://")):
        raise BulkFormatError(f"{where}: url must be an http(s) URL.", url=url)
    body = clean_text(record["body"])
    return Article(
        url=url,
        title=clean_text(record["title"]),
        body=body,
        site=clean_text(str(record.get("source") or record.get("site") or "")) or site_host(url),
        author=clean_text(str(record.get("author") or "")),
        published=parse_date(record.get("published_at") or record.get("published")),
        source=where,
    )


def iter_articles(path: Path) -> Iterator[Article | IngestError]:
    """Each record as an Article, or the error that record has; a broken file raises BulkFormatError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BulkFormatError(f"{path}: cannot read it ({error}).") from error
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as error:
            raise BulkFormatError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}).") from error
        numbered = ((f"{path.name} item {i + 1}", r) for i, r in enumerate(records))
    else:
        numbered = _json_lines(path, text)
    for where, record in numbered:
        if isinstance(record, IngestError):
            yield record
            continue
        try:
            yield article_from_record(record, where)
        except IngestError as error:
            yield error


def _json_lines(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as error:
            yield where, BulkFormatError(f"{where}: not valid JSON ({error.msg}).")


def is_bulk_file(path: Path) -> bool:
    return path.suffix.lower() in {".json", ".jsonl", ".ndjson"}
