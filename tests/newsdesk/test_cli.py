"""The `newsdesk` command as a user runs it: a real process, a real store under DATA_DIR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


def cli(data_dir: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "LLM_", "FETCH_", "DATA_DIR"))}
    env.update({"DATA_DIR": str(data_dir), "COLUMNS": "200", **(extra_env or {})})
    return subprocess.run([sys.executable, "-m", "newsdesk", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=data_dir.parent)


@pytest.fixture(scope="module")
def stocked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store filled through the CLI: a JSON Lines file with one bad row, and an HTML file."""
    root = tmp_path_factory.mktemp("cli")
    rows = [
        {"url": "https://techcrunch.example/2026/03/10/mistral", "title": "Mistral ships a 24B open model",
         "body": "Mistral released Small 4, a 24-billion-parameter open-weights model, under Apache 2.0. " * 5,
         "published_at": "2026-03-10T09:00:00+00:00", "source": "TechCrunch", "author": "Kyle"},
        {"url": "https://verge.example/2026/03/12/openai-cfo", "title": "OpenAI names a new CFO",
         "body": "OpenAI appointed a new chief financial officer on Thursday, the company said. " * 5,
         "published_at": "2026-03-12T15:30:00Z", "source": "The Verge", "author": "Alex"},
        {"url": "https://broken.example/x", "title": "", "body": "no title"},
    ]
    (root / "articles.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    run = cli(root / "data", "ingest", "--json", str(root / "articles.jsonl"), str(PAGES / "aiwire_article.html"))
    root.joinpath("ingest.out").write_text(json.dumps([run.returncode, run.stdout, run.stderr]))
    return root


def test_bulk_ingest_reports_each_failure_and_keeps_the_rest(stocked: Path) -> None:
    code, stdout, stderr = json.loads((stocked / "ingest.out").read_text())
    assert code == 1  # some items failed...
    assert "articles.jsonl item 3" not in stderr  # (JSON Lines are numbered by line)
    failures = [line for line in stderr.splitlines() if line.startswith("failed:")]
    assert len(failures) == 2, stderr
    assert "articles.jsonl line 3: missing or empty title" in failures[0]
    assert "articles.jsonl line 4: not valid JSON" in failures[1]
    assert "3 new, 2 failed" in stdout  # ...and the rest were stored
    assert "Traceback" not in stderr


def test_sources_newest_first_and_json(stocked: Path) -> None:
    run = cli(stocked / "data", "sources", "--json")
    assert run.returncode == 0, run.stderr
    sources = json.loads(run.stdout)
    assert [s["title"] for s in sources] == [
        "OpenAI names a new CFO", "Mistral ships a 24B open model",
        "Halcyon Labs raises $400M to build inference chips that sip power",
    ]
    assert sources[0]["site"] == "The Verge" and sources[0]["published"].startswith("2026-03-12")
    assert sources[0]["url"] == "https://verge.example/2026/03/12/openai-cfo" and sources[0]["chunks"] >= 1
    table = cli(stocked / "data", "sources")
    assert "OpenAI names a new CFO" in table.stdout and "2026-03-12" in table.stdout


def test_stats_json(stocked: Path) -> None:
    run = cli(stocked / "data", "stats", "--json")
    stats = json.loads(run.stdout)
    assert stats["documents"] == 3 and stats["chunks"] >= 3
    assert stats["embedding_model"] == "all-MiniLM-L6-v2" and stats["answer_mode"] == "extractive"
    assert stats["store"].startswith("embedded at ") and stats["store"].endswith(str(stocked / "data" / "chroma"))


def test_reingest_unchanged_then_forget(stocked: Path) -> None:
    again = cli(stocked / "data", "ingest", str(PAGES / "aiwire_article.html"))
    assert again.returncode == 0 and again.stdout.startswith("unchanged: Halcyon Labs"), again.stdout
    gone = cli(stocked / "data", "forget", "https://techcrunch.example/2026/03/10/mistral?utm_source=rss")
    assert gone.returncode == 0 and "forgot: Mistral ships a 24B open model" in gone.stdout
    missing = cli(stocked / "data", "forget", "https://nowhere.example/")
    assert missing.returncode == 1 and "not found" in missing.stderr
    assert len(json.loads(cli(stocked / "data", "sources", "--json").stdout)) == 2


def test_a_blocked_url_is_one_line_and_exit_1(tmp_path: Path) -> None:
    run = cli(tmp_path / "data", "ingest", "http://169.254.169.254/latest/meta-data/")
    assert run.returncode == 1
    assert run.stderr.strip().startswith("failed: http://169.254.169.254/latest/meta-data/:")
    assert "169.254.169.254" in run.stderr and "Traceback" not in run.stderr


def test_help_everywhere() -> None:
    for command in ([], ["ingest"], ["sources"], ["forget"], ["stats"], ["ask"], ["eval"], ["run"], ["health"]):
        run = subprocess.run([sys.executable, "-m", "newsdesk", *command, "--help"], capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 0 and "usage: newsdesk" in run.stdout, command


def test_ask_leads_with_the_answer_in_text_and_json(stocked: Path) -> None:
    question = "How much did Halcyon Labs raise in its Series C?"
    shown = cli(stocked / "data", "ask", question)
    assert shown.returncode == 0 and "$400 million" in shown.stdout.splitlines()[0], shown.stdout
    data = json.loads(cli(stocked / "data", "ask", "--json", question).stdout)
    assert data["lead"] == "$400 million" and data["answer"].startswith("**$400 million** [1]\n")
    assert not data["refused"] and data["mode"] == "extractive"
    assert data["citations"][0]["n"] == 1 and "$400 million" in data["citations"][0]["quote"]


def test_a_servers_library_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    page = str(PAGES / "aiwire_article.html")
    assert cli(data, "ingest", "--server", "77", page).returncode == 0
    mine = json.loads(cli(data, "sources", "--server", "77", "--json").stdout)
    assert [d["title"] for d in mine] == ["Halcyon Labs raises $400M to build inference chips that sip power"]
    assert json.loads(cli(data, "sources", "--json").stdout) == []  # not in the shared library
    question = "How much did Halcyon Labs raise in its Series C?"
    assert json.loads(cli(data, "ask", "--json", question).stdout)["refused"]  # the shared library alone
    assert json.loads(cli(data, "ask", "--server", "77", "--json", question).stdout)["lead"] == "$400 million"
    assert json.loads(cli(data, "stats", "--server", "77", "--json").stdout)["documents"] == 1
    assert cli(data, "forget", page).returncode == 1  # the shared library has no such article
    wrong = cli(data, "forget", "--all")
    assert wrong.returncode == 1 and "--server" in wrong.stderr
    gone = cli(data, "forget", "--server", "77", "--all")
    assert gone.returncode == 0 and "forgot 1 articles of server 77" in gone.stdout
    assert json.loads(cli(data, "sources", "--server", "77", "--json").stdout) == []
