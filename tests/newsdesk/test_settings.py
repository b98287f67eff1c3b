"""Settings: the documented variable names, and one clear line naming a bad one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newsdesk.settings import SettingsError, load_settings


def test_defaults_need_no_api_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(None)
    assert s.data_dir == Path("./data") and not s.chroma.server_mode and s.llm.model is None
    assert s.embedding.model == "all-MiniLM-L6-v2" and s.fetch.max_bytes == 5_000_000


def test_env_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "DISCORD_TOKEN=abc.def\nDATA_DIR=/srv/newsdesk\nCHROMA_HOST=chroma\nCHROMA_PORT=8001\nCHROMA_TOKEN=s3cret\n"
        "LLM_MODEL=openai:gpt-4o-mini\nLLM_BASE_URL=http://localhost:8080/v1\nLLM_API_KEY=k\n"
        "EMBEDDING_MODEL=all-MiniLM-L6-v2\nFETCH_ALLOW_NETWORKS=10.0.0.0/8, 127.0.0.1/32:8080|8081\n"
        "DISCORD_ALLOWED_CHANNELS=1,2\n"
    )
    monkeypatch.setenv("CHROMA_PORT", "9000")  # the environment wins over .env
    s = load_settings(env)
    assert s.discord.token.get_secret_value() == "abc.def" and s.data_dir == Path("/srv/newsdesk")
    assert s.chroma.server_mode and s.chroma.host == "chroma" and s.chroma.port == 9000
    assert s.chroma.token.get_secret_value() == "s3cret" and "s3cret" not in repr(s)
    assert s.llm.model == "openai:gpt-4o-mini" and s.llm.base_url == "http://localhost:8080/v1"
    assert s.discord.allowed_channels == [1, 2]
    import ipaddress

    allow = s.fetch.allowances
    assert allow[0].permits(ipaddress.ip_address("10.1.2.3"), 443)
    assert allow[1].permits(ipaddress.ip_address("127.0.0.1"), 8081)
    assert not allow[1].permits(ipaddress.ip_address("127.0.0.1"), 22)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CHROMA_PORT", "eighty", "CHROMA_PORT: Input should be a valid integer"),
        ("CHROMA_PORT", "70000", "CHROMA_PORT: Input should be less than or equal to 65535"),
        ("LLM_MODEL", "gpt-4o", "LLM_MODEL: expected provider:model"),
        ("FETCH_ALLOW_NETWORKS", "10.0.0.0/33", "FETCH_ALLOW_NETWORKS: "),
        ("FETCH_MAX_BYTES", "-5", "FETCH_MAX_BYTES: Input should be greater than or equal to 1024"),
        ("DISCORD_GUILD_ID", "my-server", "DISCORD_GUILD_ID: Input should be a valid integer"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: expected DEBUG"),
    ],
)
def test_an_invalid_setting_is_one_line_naming_it(monkeypatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    assert str(caught.value).startswith(expected) and "\n" not in str(caught.value)


def test_env_example_loads_as_is_and_documents_every_setting() -> None:
    from newsdesk.settings import SECTIONS, Settings

    example = Path(__file__).resolve().parents[2] / ".env.example"
    s = load_settings(example)  # empty values mean "default", so a copied .env.example is valid
    assert s.discord.token is None and s.discord.guild_id is None and s.llm.model is None
    documented = {line.split("=")[0] for line in example.read_text().splitlines() if "=" in line and line[0] != "#"}
    names = {f"{cls.prefix}{field}".upper() for cls in SECTIONS.values() for field in cls.model_fields}
    names |= {name.upper() for name in Settings.model_fields if name not in SECTIONS}
    assert names == documented


def test_the_cli_prints_one_line_for_a_bad_setting(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CHROMA_PORT": "nope", "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "newsdesk", "stats"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == ["error: CHROMA_PORT: Input should be a valid integer, unable to parse "
                                               "string as an integer (got 'nope')"]
    assert "Traceback" not in run.stderr


def test_readme_documents_every_setting_and_command() -> None:
    from newsdesk.cli import build_parser
    from newsdesk.settings import SECTIONS, Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    names = {f"{cls.prefix}{field}".upper() for cls in SECTIONS.values() for field in cls.model_fields}
    names |= {name.upper() for name in Settings.model_fields if name not in SECTIONS}
    assert not [n for n in sorted(names) if f"`{n}" not in readme and f" {n}" not in readme]
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert not [c for c in sub.choices if f"newsdesk {c}" not in readme]
