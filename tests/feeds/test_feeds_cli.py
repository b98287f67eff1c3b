"""`newsdesk feeds ...` as a user runs it: real processes, a real store under DATA_DIR, a loopback site."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.feeds.conftest import FeedSite, feed_text


def environment(data_dir: Path, site: FeedSite) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "LLM_", "FETCH_", "FEEDS_", "DATA_DIR"))}
    env.update({"DATA_DIR": str(data_dir), "COLUMNS": "200", "PYTHONUNBUFFERED": "1", "FEEDS_HOST_DELAY": "0",
                "FETCH_ALLOW_NETWORKS": f"127.0.0.1/32:{site.server.port}"})
    return env


def cli(data_dir: Path, site: FeedSite, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsdesk", *args], env=environment(data_dir, site),
                          capture_output=True, text=True, timeout=300, cwd=data_dir.parent)


def test_the_feeds_command_is_registered() -> None:
    from newsdesk.cli import build_parser

    run = subprocess.run([sys.executable, "-m", "newsdesk", "feeds", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert "feeds" in build_parser().format_help(), "newsdesk.cli.build_parser must call add_feed_commands"
    assert run.returncode == 0 and "add" in run.stdout and "poll" in run.stdout


def test_add_poll_list_remove(tmp_path: Path, site: FeedSite) -> None:
    data = tmp_path / "data"
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))

    empty = cli(data, site, "feeds", "list")
    added = cli(data, site, "feeds", "add", url, "--channel", "1234")
    refused = cli(data, site, "feeds", "add", site.url("/news/halcyon-ohio"))
    polled = cli(data, site, "feeds", "poll", "--once")
    listed = cli(data, site, "feeds", "list", "--json")
    table = cli(data, site, "feeds")
    sources = cli(data, site, "sources", "--json")

    assert empty.returncode == 0 and empty.stdout.startswith("No feeds yet.")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"subscribed: The AI Wire — {url} (3 entries)")
    assert refused.returncode == 1 and refused.stderr.strip() == "error: this is not an RSS or Atom feed."
    assert polled.returncode == 0, polled.stderr
    assert polled.stdout.splitlines()[0] == "The AI Wire: 3 new"
    assert "  new: Northgate Capital backs three robotics start-ups — The AI Wire (from the feed's text)" in polled.stdout
    [feed] = json.loads(listed.stdout)
    assert feed["url"] == url and feed["channel_id"] == 1234 and feed["failures"] == 0 and feed["seen"] == 3
    assert feed["last_poll_at"] and "The AI Wire" in table.stdout and "ok" in table.stdout
    assert len(json.loads(sources.stdout)) == 3

    removed = cli(data, site, "feeds", "remove", url)
    again = cli(data, site, "feeds", "remove", url)
    assert removed.returncode == 0 and removed.stdout.startswith("unsubscribed: The AI Wire")
    assert again.returncode == 1 and again.stderr.startswith(f"not found: {url} is not among the feeds")
    assert len(json.loads(cli(data, site, "sources", "--json").stdout)) == 3  # the articles stay


def test_a_failing_feed_fails_the_one_off_poll_and_shows_in_the_list(tmp_path: Path, site: FeedSite) -> None:
    data = tmp_path / "data"
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    assert cli(data, site, "feeds", "add", url).returncode == 0
    site.serve_feed("/feed.xml", feed_text("malformed.xml", ""))

    polled = cli(data, site, "feeds", "poll", "--once")
    table = cli(data, site, "feeds", "list")

    assert polled.returncode == 1 and polled.stderr.strip() == "failed: The AI Wire: this is not an RSS or Atom feed."
    assert "retry after" in table.stdout and "this is not an RSS or Atom feed." in table.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_poll_without_once_keeps_polling_until_interrupted(tmp_path: Path, site: FeedSite) -> None:
    data = tmp_path / "data"
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))
    assert cli(data, site, "feeds", "add", url).returncode == 0

    process = subprocess.Popen([sys.executable, "-m", "newsdesk", "feeds", "poll"], env=environment(data, site),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        lines = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not any(line.startswith("The AI Wire:") for line in lines):
            line = process.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        process.kill()
    assert lines[0].startswith("polling every 1800 s")
    assert "The AI Wire: 3 new\n" in lines
    assert code == 130


def test_a_servers_feeds_from_the_command_line(tmp_path: Path, site: FeedSite) -> None:
    data = tmp_path / "data"
    url = site.serve_feed("/feed.xml", feed_text("aiwire_rss.xml", site.url("")))

    assert cli(data, site, "feeds", "add", url, "--server", "77").returncode == 0
    assert cli(data, site, "feeds", "add", url).returncode == 0  # the shared library follows it too
    assert cli(data, site, "feeds", "poll", "--once").returncode == 0
    listed = json.loads(cli(data, site, "feeds", "list", "--json").stdout)
    assert sorted(f["library"] for f in listed) == ["g77", "shared"]
    mine = json.loads(cli(data, site, "feeds", "list", "--server", "77", "--json").stdout)
    assert [f["library"] for f in mine] == ["g77"]
    assert len(json.loads(cli(data, site, "sources", "--server", "77", "--json").stdout)) == 3  # its own copies

    assert cli(data, site, "feeds", "remove", url, "--server", "77").returncode == 0
    assert [f["library"] for f in json.loads(cli(data, site, "feeds", "list", "--json").stdout)] == ["shared"]
