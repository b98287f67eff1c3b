"""A full disk under DATA_DIR while ingesting: one clear sentence, the earlier documents intact and
readable, and the store opens cleanly afterwards (in another process, as the bot would after a restart).

DATA_DIR is a 3 MB tmpfs, so the disk really fills; the test is skipped where mounting is not allowed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.errors import StoreError
from ingest.extract import Article
from newsdesk import cli
from newsdesk.wiring import Services
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
DISK_FULL = "the store could not save the article: the disk of the store (embedded at {path}) is full; free some space and try again"


def article(i: int, sentences: int) -> Article:
    body = " ".join(f"Sentence {j} of story {i} says the lab trained model {i} on new chips." for j in range(sentences))
    return Article(url=f"https://news.example/story-{i}", title=f"Story {i}", body=body, site="Example News")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or sys.platform != "linux":
        pytest.skip("needs Linux mount")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 16384)
                out.flush()
        except OSError:
            pass
    return filler


def inspect(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "DATA_DIR"))}
    run = subprocess.run([sys.executable, "-m", "tests.support.inspect_store"], env={**env, "DATA_DIR": str(data_dir)},
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr  # the store opens cleanly
    return json.loads(run.stdout)


def test_a_full_disk_is_one_sentence_and_corrupts_nothing(small_disk, tmp_path, monkeypatch, capsys):
    data_dir = small_disk / "data"
    services = Services(make_settings(data_dir), store_retries=0)
    first = services.pipeline.ingest_article(article(1, 60))
    assert first.status == "new"
    before = services.store.chunks_of(first.doc_id)
    filler = fill(small_disk)

    with pytest.raises(StoreError) as caught:
        services.pipeline.ingest_article(article(2, 30))
    assert caught.value.message == DISK_FULL.format(path=data_dir / "chroma")

    source = tmp_path / "story-3.txt"  # the CLI on the same full disk: one line, exit 1
    source.write_text("Story 3\n\n" + article(3, 30).body)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    assert cli.main(["--env-file", str(tmp_path / "none.env"), "ingest", str(source)]) == 1
    err = capsys.readouterr().err
    assert err == f"failed: {source}: {DISK_FULL.format(path=data_dir / 'chroma')}\n"

    # Still full: what was there reads back whole, and nothing half-written is visible.
    assert [d.url for d in services.store.list_documents()] == [first.url]
    assert services.store.chunks_of(first.doc_id) == before
    assert services.answers.answer_sync("What did the lab train?").citations[0].url == first.url

    filler.unlink()
    state = inspect(data_dir)
    assert list(state["documents"]) == [first.url]
    doc = state["documents"][first.url]
    assert doc["texts"] == [c.text for c in before] and len(doc["texts"]) == doc["expected"]
    again = Services(make_settings(data_dir), store_retries=0).pipeline.ingest_article(article(2, 60))
    assert again.status == "new"  # with space again, writing works
