"""The one Settings object: every knob newsdesk has, read from the environment and `.env`.

A leaf module: it imports nothing of the project, so any package may import it for its types.
Only entry points (the CLI, `bot.create_bot()` given no settings) construct `Settings`; everything
below receives a section (`settings.fetch`, `settings.chroma`, ...) or ready-made objects.

Each section is its own `BaseSettings` with an env prefix, so the variable names users write in
`.env` stay flat (`CHROMA_HOST`, `LLM_MODEL`, `FETCH_ALLOW_NETWORKS`) while code gets grouped objects.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class SettingsError(ValueError):
    """A missing or invalid setting; the message is one line naming the variable."""


def _split_list(value: Any) -> Any:
    """Comma- or whitespace-separated lists in env vars: `1,2 3` -> ["1", "2", "3"]."""
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    return value


CsvList = Annotated[list[str], NoDecode]
CsvInts = Annotated[list[int], NoDecode]


class _Section(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True, env_ignore_empty=True
    )
    prefix: ClassVar[str] = ""


class DiscordSettings(_Section):
    """The Discord side: token, where the bot may act, and fair-use limits."""

    model_config = SettingsConfigDict(env_prefix="DISCORD_")
    prefix: ClassVar[str] = "DISCORD_"

    token: SecretStr | None = None
    guild_id: int | None = None  # sync slash commands to this guild only (instant)
    admin_role: str | None = None  # role id or name that may use admin commands besides Manage Server
    allowed_guilds: CsvInts = Field(default_factory=list)  # empty: any guild
    allowed_channels: CsvInts = Field(default_factory=list)  # empty: any channel
    auto_channels: CsvInts = Field(default_factory=list)  # channels answered without a mention
    allow_dms: bool = False
    shared_library: bool = True  # servers' answers draw on the shared library too (besides their own)
    # Fair use: a member may ask `ask_burst` questions in a row and regains one every `ask_refill` seconds;
    # a server gets at most `server_asks_per_minute` (0: no ceiling). An explicit ask_cooldown (the old
    # setting) keeps meaning one question per that many seconds, and no server ceiling.
    ask_burst: int = Field(default=3, ge=1)
    ask_refill: float = Field(default=20.0, ge=0)
    server_asks_per_minute: int = Field(default=60, ge=0)
    ask_cooldown: float | None = Field(default=None, ge=0)
    max_concurrent_answers: int = Field(default=4, ge=1)
    answer_timeout: float = Field(default=60.0, gt=0)  # seconds before an answer is abandoned
    shutdown_grace: float = Field(default=20.0, ge=0)  # seconds answers in progress get on SIGTERM
    answer_retention_days: float = Field(default=90.0, ge=0)  # unvoted answers (for buttons) kept; 0: forever

    @field_validator("allowed_guilds", "allowed_channels", "auto_channels", mode="before")
    @classmethod
    def _ints(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("ask_cooldown", mode="before")
    @classmethod
    def _unset_when_blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def allowance(self) -> tuple[int, float]:
        """(questions in a row, seconds to regain one) per member."""
        if self.ask_cooldown is not None:
            return 1, self.ask_cooldown
        return self.ask_burst, self.ask_refill

    @property
    def server_ceiling(self) -> int:
        """Questions a server may ask a minute (0: no ceiling). The old cooldown had none, so with
        ask_cooldown set there is none unless server_asks_per_minute is set too."""
        if self.ask_cooldown is not None and "server_asks_per_minute" not in self.model_fields_set:
            return 0
        return self.server_asks_per_minute


class ChromaSettings(_Section):
    """Where vectors live: embedded under DATA_DIR, or a Chroma server when CHROMA_HOST is set."""

    model_config = SettingsConfigDict(env_prefix="CHROMA_")
    prefix: ClassVar[str] = "CHROMA_"

    host: str | None = None
    port: int = Field(default=8000, ge=1, le=65535)
    token: SecretStr | None = None
    ssl: bool = False
    collection: str = Field(default="newsdesk", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,60}[A-Za-z0-9]$")
    connect_retries: int = Field(default=30, ge=0)  # heartbeat retries at start (Docker: wait for Chroma)

    @property
    def server_mode(self) -> bool:
        return bool(self.host)


class EmbeddingSettings(_Section):
    """The embedding model: chromadb's bundled all-MiniLM-L6-v2 (ONNX, no torch) or any LangChain one."""

    model_config = SettingsConfigDict(env_prefix="EMBEDDING_")
    prefix: ClassVar[str] = "EMBEDDING_"

    model: str = DEFAULT_EMBEDDING_MODEL  # or "openai:text-embedding-3-small", "ollama:nomic-embed-text"
    base_url: str | None = None
    api_key: SecretStr | None = None
    batch_size: int = Field(default=16, ge=1, le=256)


class LLMSettings(_Section):
    """The optional chat model. Unset LLM_MODEL means extractive answers, no API key needed."""

    model_config = SettingsConfigDict(env_prefix="LLM_")
    prefix: ClassVar[str] = "LLM_"

    model: str | None = None  # "openai:gpt-4o-mini", "anthropic:...", "xai:...", "ollama:llama3.1"
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(default=30.0, gt=0)
    temperature: float = Field(default=0.1, ge=0, le=2)
    max_tokens: int = Field(default=600, ge=16)

    @field_validator("model")
    @classmethod
    def _model_form(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and ":" not in value:
            raise ValueError("expected provider:model, e.g. openai:gpt-4o-mini or ollama:llama3.1")
        return value


class Allowance:
    """One FETCH_ALLOW_NETWORKS entry: a network, optionally restricted to some ports."""

    def __init__(self, network: ipaddress.IPv4Network | ipaddress.IPv6Network, ports: frozenset[int]):
        self.network = network
        self.ports = ports

    def permits(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bool:
        return address.version == self.network.version and address in self.network and (
            not self.ports or port in self.ports
        )

    def __repr__(self) -> str:
        ports = ":" + "|".join(map(str, sorted(self.ports))) if self.ports else ""
        return f"Allowance({self.network}{ports})"


def parse_allowance(text: str) -> Allowance:
    """`10.0.0.0/8`, `127.0.0.1/32:8080`, `[::1]/128:80|443` -> Allowance."""
    text = text.strip()
    ports: frozenset[int] = frozenset()
    if text.startswith("["):
        net, _, rest = text[1:].partition("]")
        if rest.startswith("/"):
            prefix, _, port_text = rest[1:].partition(":")
            net = f"{net}/{prefix}"
        else:
            port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        net, port_text = text.split(":")
    else:
        net, port_text = text, ""
    if port_text:
        ports = frozenset(int(p) for p in port_text.split("|"))
        if any(not 0 < p < 65536 for p in ports):
            raise ValueError(f"port out of range in {text!r}")
    return Allowance(ipaddress.ip_network(net, strict=False), ports)


class FetchSettings(_Section):
    """The guarded fetcher's limits."""

    model_config = SettingsConfigDict(env_prefix="FETCH_")
    prefix: ClassVar[str] = "FETCH_"

    allow_networks: CsvList = Field(default_factory=list)  # CIDRs (with :port|port) treated as public
    timeout: float = Field(default=20.0, gt=0)  # wall clock for one whole fetch, redirects included
    max_bytes: int = Field(default=5_000_000, ge=1024)  # decoded bytes
    max_redirects: int = Field(default=5, ge=0, le=10)
    user_agent: str = "newsdeskbot/0.1 (+https://github.com/newsdesk/newsdesk; self-hosted Discord Q&A bot)"
    respect_robots: bool = True
    extract_timeout: float = Field(default=20.0, gt=0)

    @field_validator("allow_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        values = _split_list(value)
        for item in values or []:
            parse_allowance(item)  # raises ValueError with the bad entry
        return values

    @property
    def allowances(self) -> list[Allowance]:
        return [parse_allowance(item) for item in self.allow_networks]


class ChunkSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="CHUNK_")
    prefix: ClassVar[str] = "CHUNK_"

    tokens: int = Field(default=200, ge=32, le=512)  # body tokens per chunk
    overlap: int = Field(default=40, ge=0, le=200)


class RetrievalSettings(_Section):
    """Hybrid retrieval: reciprocal-rank fusion weights chosen on the MultiHop-RAG dev queries.

    Measured there (answer/evaluate.py): BM25 over header + body is the strong half; MiniLM adds a
    little at a tenth of BM25's weight (all-gold@10 +0.01..0.02) and costs MRR at equal weight
    (0.63 -> 0.50). A small rrf_k keeps the top BM25 ranks on top.
    """

    model_config = SettingsConfigDict(env_prefix="RETRIEVAL_")
    prefix: ClassVar[str] = "RETRIEVAL_"

    lexical_weight: float = Field(default=1.0, ge=0)
    dense_weight: float = Field(default=0.1, ge=0)
    rrf_k: int = Field(default=20, ge=1)
    candidates: int = Field(default=100, ge=10)  # per retriever, before fusion
    top_k: int = Field(default=10, ge=1, le=50)  # chunks in the final context
    max_per_doc: int = Field(default=4, ge=1)
    max_claims: int = Field(default=6, ge=0, le=12)  # separate lexical searches for a multi-part question (0: off)
    sentence_weight: float = Field(default=2.0, ge=0)  # best-sentence match vs list agreement, in the final order
    refresh_seconds: float = Field(default=2.0, ge=0)  # how often the lexical index checks Chroma


class AnswerSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="ANSWER_")
    prefix: ClassVar[str] = "ANSWER_"

    max_words: int = Field(default=120, ge=20)
    min_score: float = Field(default=0.5, ge=0)  # extractive refusal threshold (tuned on dev nulls)
    context_chunks: int = Field(default=8, ge=1, le=30)


class FeedSettings(_Section):
    """RSS / Atom subscriptions: how often they are polled and how politely."""

    model_config = SettingsConfigDict(env_prefix="FEEDS_")
    prefix: ClassVar[str] = "FEEDS_"

    poll_interval: float = Field(default=1800.0, ge=60)  # seconds between two polls of one feed
    first_poll_max: int = Field(default=10, ge=0)  # newest entries ingested from a new feed; the rest are skipped
    concurrency: int = Field(default=4, ge=1, le=32)  # feeds and pages fetched (and ingested) at once
    host_delay: float = Field(default=1.0, ge=0)  # seconds between two requests to the same host
    max_entries_per_poll: int = Field(default=25, ge=1)  # new entries ingested per feed and poll; more wait
    backoff_max: float = Field(default=86400.0, ge=60)  # longest wait after repeated failures of a feed


class Settings(_Section):
    """Everything, grouped by concern. `load_settings()` is the way entry points build it."""

    data_dir: Path = Path("./data")
    log_level: str = "INFO"

    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    chunk: ChunkSettings = Field(default_factory=ChunkSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value


SECTIONS: dict[str, type[_Section]] = {
    "discord": DiscordSettings,
    "chroma": ChromaSettings,
    "embedding": EmbeddingSettings,
    "llm": LLMSettings,
    "fetch": FetchSettings,
    "chunk": ChunkSettings,
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "feeds": FeedSettings,
}


def _one_line(error: ValidationError, prefix: str) -> str:
    first = error.errors()[0]
    name = prefix + "_".join(str(part) for part in first["loc"] if isinstance(part, str))
    message = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    shown = "" if value is None or "token" in name.lower() or "key" in name.lower() else f" (got {value!r})"
    return f"{name.upper()}: {message}{shown}"


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read the environment and `env_file`; raise SettingsError with one line naming the variable."""
    sections: dict[str, Any] = {}
    for key, cls in SECTIONS.items():
        if key in overrides:
            sections[key] = overrides.pop(key)
            continue
        try:
            sections[key] = cls(_env_file=env_file)  # type: ignore[call-arg]
        except ValidationError as error:
            raise SettingsError(_one_line(error, cls.prefix)) from None
    try:
        return Settings(_env_file=env_file, **sections, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsError(_one_line(error, "")) from None


@dataclass(frozen=True)
class Paths:
    """Where things live under DATA_DIR."""

    root: Path

    @property
    def chroma(self) -> Path:
        return self.root / "chroma"

    @property
    def lexical(self) -> Path:
        return self.root / "lexical"

    @property
    def bot_db(self) -> Path:
        return self.root / "bot.sqlite3"

    @property
    def feeds_db(self) -> Path:
        return self.root / "feeds.sqlite3"

    @property
    def eval_dir(self) -> Path:
        return self.root / "eval"
